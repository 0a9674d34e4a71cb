"""Putting a file's tensors into a model: every tensor placed once, every one of ours filled.

A file whose network saw [0, 255] images (RFDN's, EDSR-PyTorch's, the official ECBSR's) is converted
to our [0, 1] convention exactly. Where the image enters the network only through its first conv and
leaves only through its last (RFDN, IMDN), the first conv's weights are multiplied by 255 and the
last conv's weights and bias divided by 255: every feature in between is the official one. Otherwise
(ECBSR adds its input to the output; EDSR and RDN) every additive offset (conv biases, ECB's
edge-branch biases) is divided by 255, which is exact for positively homogeneous networks (ReLU,
PReLU, LeakyReLU): f(255 x; b) = 255 f(x; b / 255). Mean-shift means are divided by 255 either way.
"""

from __future__ import annotations

import dataclasses
import os

import torch
from torch import nn

from sr_blocks.official.files import WeightsFile, read_weights
from sr_blocks.official.layouts import Conversion, convert
from sr_reparam import deploy

#: Activations for which rescaling the biases is not exact (they are not positively homogeneous).
_NOT_HOMOGENEOUS = (nn.Sigmoid, nn.Softplus, nn.Tanh, nn.GELU, nn.SiLU, nn.ELU, nn.Hardswish, nn.Mish)


def _shape(tensor: torch.Tensor) -> tuple[int, ...]:
    return tuple(tensor.shape)


def _check_rescalable(model: nn.Module, conversion: Conversion, weights: WeightsFile, target: str) -> None:
    blocking = next((m for m in model.modules() if isinstance(m, _NOT_HOMOGENEOUS)), None)
    if blocking is not None:
        raise ValueError(
            f"{weights.path}: its network was trained on [0, {conversion.value_range:g}] images, and "
            f"{target}'s {type(blocking).__name__} makes dividing its biases by that range inexact"
        )


def _in_unit_range(filled: dict[str, torch.Tensor], conversion: Conversion) -> dict[str, torch.Tensor]:
    """``filled`` (values in the file's pixel range) for [0, 1] images (module docstring)."""
    scale = conversion.value_range
    if scale == 1:
        return filled
    first, last = conversion.ends or ("", "")

    def converted(place: str, value: torch.Tensor) -> torch.Tensor:
        if place.endswith(".mean"):
            return value / scale
        if conversion.ends is None:
            return value / scale if place.endswith(".bias") else value
        if place == f"{first}.weight":
            return value * scale
        return value / scale if place in (f"{last}.weight", f"{last}.bias") else value

    return {place: converted(place, value) for place, value in filled.items()}


def fitted_state(
    model: nn.Module, conversion: Conversion, weights: WeightsFile, target: str
) -> dict[str, torch.Tensor]:
    """The state dict for ``model`` built from ``conversion``, in [0, 1] units; a one-line ValueError
    for the first tensor that does not fit (no place, a place ``model`` lacks, a wrong shape, a place
    taken twice) or the first tensor of ``model`` left unfilled, naming what the file seems to hold."""
    ours = model.state_dict()
    holds = f"the file seems to hold {conversion.holds}"
    filled: dict[str, torch.Tensor] = {}
    for placement in conversion.placements:
        where = f"{weights.path}: tensor {weights.file_key(placement.key)!r} {_shape(placement.value)}"
        place = placement.target
        if place is None:
            raise ValueError(f"{where} has no place in {target} ({conversion.layout} layout); {holds}")
        if place not in ours:
            raise ValueError(f"{where} would go to {place}, which {target} does not have; {holds}")
        if place in filled:
            raise ValueError(f"{where} would go to {place} a second time; {holds}")
        if placement.value.shape != ours[place].shape:
            raise ValueError(f"{where} does not fit {target}'s {place} {_shape(ours[place])}; {holds}")
        filled[place] = placement.value
    filled = _in_unit_range(filled, conversion)
    for place, value in conversion.implied.items():
        if place in ours and place not in filled and value.shape == ours[place].shape:
            filled[place] = value
    missing = [place for place in ours if place not in filled]
    if missing:
        raise ValueError(
            f"{weights.path}: {target}'s {missing[0]} {_shape(ours[missing[0]])} gets no tensor from the "
            f"file ({len(missing)} of {len(ours)} unfilled); {holds}"
        )
    return filled


def identify_weights(path: str | os.PathLike) -> Conversion:
    """What the file in ``path`` seems to hold, read safely: its layout, and the registry entry,
    scale and keyword arguments where its tensors tell (``model`` / ``scale`` None where not)."""
    return convert(read_weights(path))


def load_weights(
    model: nn.Module, path: str | os.PathLike, *, target: str | None = None, value_range: float | None = None
) -> nn.Module:
    """Load the weights in ``path`` (any layout of `sr_blocks.official`) into ``model``; returns it.

    The layout is recognised from the file's tensor names; nothing in ``model`` changes unless every
    tensor fits. An sr_toolkit checkpoint of deployed weights deploys ``model`` first
    (`sr_reparam.deploy`), so the model returned may be a new object. ``target`` names the model in
    messages (default: its class name). ``value_range`` overrides the pixel range the layout assumes
    its network was trained on (EDSR-PyTorch's RDN and BasicSR's EDSR do not record it: 255 unless
    told; RFDN's is 255, as its test code). Errors are one line and name the file.
    """
    weights = read_weights(path)
    conversion = convert(weights)
    if value_range is not None:
        conversion = dataclasses.replace(conversion, value_range=float(value_range))
    target = target or type(model).__name__
    if conversion.value_range != 1 and conversion.ends is None:
        _check_rescalable(model, conversion, weights, target)
    if weights.checkpoint.get("deployed"):
        model = deploy(model, inplace=True)
    state = fitted_state(model, conversion, weights, target)
    model.load_state_dict(state)
    return model
