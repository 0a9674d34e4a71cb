"""Deprecated: the bicubic model moved to sr-data (`sr_data.upsampler.BicubicUpsampler`).

sr-data already holds the MATLAB-exact `imresize`, so the model is a thin module over it there, one
kernel for the whole toolkit. `create_model("bicubic", scale=s)` still builds it (through the
``sr_toolkit.models`` entry point of sr-data); this alias goes in the next release.
"""

from __future__ import annotations

import warnings

from torch import nn

from sr_blocks.registry import create_model


def Bicubic(scale: int, in_channels: int = 3, out_channels: int = 3) -> nn.Module:  # noqa: N802 - the old class name
    """Deprecated alias: `create_model("bicubic", ...)`, i.e. `sr_data.upsampler.BicubicUpsampler`."""
    warnings.warn(
        "sr_blocks.bicubic.Bicubic is deprecated: use sr_blocks.create_model('bicubic', scale=...) "
        "or sr_data.upsampler.BicubicUpsampler",
        DeprecationWarning,
        stacklevel=2,
    )
    return create_model("bicubic", scale=scale, in_channels=in_channels, out_channels=out_channels)
