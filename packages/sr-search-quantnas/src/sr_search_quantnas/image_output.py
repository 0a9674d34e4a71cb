"""The image-space end of a QuantNAS network: the upsampled input added to its output, then a clip.

The reference's network reconstructs the whole HR image through its quantised layers. On a small
budget that network trains badly: without a path for the image itself it ends below bicubic, and
with ADM residuals its output can collapse to zero for good (ADM scales a branch by the deviation
of its skip, so a skip that reaches zero silences the branch that would restore it). Adding the
nearest or bicubic upsampled LR input at the output leaves the layers only the detail to learn.
Clipping to the image range at inference removes overshoot that no image holds; it is left out in
training, where it would stop the gradient of every pixel outside the range.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

IMAGE_RESIDUALS = ("none", "nearest", "bicubic")


def check_image_residual(mode: str) -> str:
    """Return ``mode`` if it is one of `IMAGE_RESIDUALS`."""
    if mode not in IMAGE_RESIDUALS:
        raise ValueError(f"image_residual must be one of {', '.join(IMAGE_RESIDUALS)}, got {mode!r}")
    return mode


def image_output_options(image_residual: str = "none", clip_output: bool = False) -> dict[str, object]:
    """The image output's keyword arguments that differ from the reference's (no residual, no clip):
    what checkpoints and run records name, so that those written without them read as before."""
    options: dict[str, object] = {}
    if check_image_residual(image_residual) != "none":
        options["image_residual"] = image_residual
    if clip_output:
        options["clip_output"] = True
    return options


class ImageOutput(nn.Module):
    """``out + upsample(lr)`` (``mode`` nearest or bicubic; ``none``: ``out``), clipped to [0, 1] in
    eval mode when ``clip``."""

    def __init__(self, scale: int, mode: str = "none", clip: bool = False) -> None:
        super().__init__()
        self.scale, self.mode, self.clip = scale, check_image_residual(mode), bool(clip)

    def forward(self, out: Tensor, lr: Tensor) -> Tensor:
        if self.mode == "nearest":
            out = out + F.interpolate(lr, scale_factor=self.scale, mode="nearest")
        elif self.mode == "bicubic":
            out = out + F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out.clamp(0.0, 1.0) if self.clip and not self.training else out

    def extra_repr(self) -> str:
        return f"image_residual={self.mode}, clip={self.clip}"
