"""Bicubic upscaling as a parameter-free model: the baseline row of every SR table.

`BicubicUpsampler` is `imresize(x, scale)` (MATLAB's bicubic, see `sr_data.resize`) behind the
model signature `(N, C, h, w) -> (N, C, h*scale, w*scale)`, so it goes wherever a network goes
(evaluation, tiling, export of a baseline). `create_model` is sr-data's factory in the entry-point
group ``sr_toolkit.models``: `sr_blocks.create_model("bicubic", scale=s)` and `sr-eval --model
bicubic` find it there, without sr-data importing the model zoo or the zoo importing sr-data.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from sr_data.resize import imresize

MODEL_NAMES = ("bicubic",)


class BicubicUpsampler(nn.Module):
    """MATLAB `imresize(img, scale)` bicubic upscaling by an integer factor; no parameters.

    Args:
        scale: integer upscaling factor (>= 1).
        in_channels / out_channels: image channels; must be equal (each channel is resized on its
            own, so any count works at run time). They exist for the registry's common signature.
    """

    def __init__(self, scale: int, in_channels: int = 3, out_channels: int = 3) -> None:
        super().__init__()
        if in_channels != out_channels:
            raise ValueError(
                f"bicubic keeps the channel count: in_channels={in_channels} != out_channels={out_channels}"
            )
        if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale < 1:
            raise ValueError(f"bicubic upsampling needs a positive integer scale, got {scale!r}")
        self.scale = int(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return imresize(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"


def create_model(name: str, scale: int = 2, deployed: bool = False, **kwargs) -> nn.Module:
    """The ``sr_toolkit.models`` factory of sr-data: builds "bicubic", a KeyError for any other name.

    `deployed` is accepted and changes nothing: bicubic has no training form to fold away.
    """
    if name not in MODEL_NAMES:
        raise KeyError(f"sr-data builds only {', '.join(MODEL_NAMES)}, not {name!r}")
    return BicubicUpsampler(scale, **kwargs)


create_model.model_names = MODEL_NAMES  # what sr_blocks.list_models() shows for this factory
