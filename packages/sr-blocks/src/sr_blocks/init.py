"""Data-dependent initial weights for stacks that must learn within a few hundred steps.

A deep, narrow conv stack drawn with PyTorch's default initialisation shrinks its signal layer by
layer, and its output layer adds noise far larger than the residual an SR network has to predict:
the first steps of training then silence the deep layers (or kill their ReLUs), and the network sits
at its image-space residual for hundreds of steps before it starts to learn. A search that scores
candidates after a short training mistakes such slow starters for bad networks.
`unit_variance_start` removes the plateau (LSUV, Mishkin and Matas, "All you need is a good init",
2016): layer by layer, on a sample batch, each layer's parameters are rescaled until its output has
unit standard deviation; the output layer gets a small one, so the network starts near its residual
without destroying the features below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

OUTPUT_STD = 0.01  # the output layer's starting standard deviation (SR residuals are small)


@torch.no_grad()
def unit_variance_start(
    model: nn.Module,
    layers: Sequence[nn.Module],
    sample: Tensor,
    output_std: float = OUTPUT_STD,
    tries: int = 6,
    tolerance: float = 0.05,
) -> nn.Module:
    """Rescale, in order, the parameters of each of `layers` (submodules of `model`, the last one its
    output layer) so that on `sample` each output's standard deviation is 1, the last's `output_std`.

    A layer whose parameters enter its output linearly and quadratically (the branches of ECB or
    SESR's linear block) is rescaled by the square root of the ratio, up to `tries` times, until it
    is within `tolerance`; an identity branch bounds how small an output can get, so the nearest
    reachable value is kept. `model` is returned in the train/eval mode it came in.
    """
    if not layers:
        raise ValueError("unit_variance_start needs at least one layer to rescale")
    if output_std <= 0:
        raise ValueError(f"output_std must be above 0, got {output_std!r}")
    training = model.training
    model.eval()
    try:
        for index, layer in enumerate(layers):
            target = output_std if index == len(layers) - 1 else 1.0
            parameters = list(layer.parameters())
            for _ in range(tries):
                std = _output_std(model, layer, sample)
                if not std > 0 or abs(std / target - 1.0) <= tolerance:
                    break
                factor = (target / std) ** 0.5
                for parameter in parameters:
                    parameter.mul_(factor)
    finally:
        model.train(training)
    return model


def _output_std(model: nn.Module, layer: nn.Module, sample: Tensor) -> float:
    """The standard deviation of `layer`'s output when `model` runs on `sample`."""
    seen: list[float] = []  # measured in the hook: an in-place activation may overwrite the output
    handle = layer.register_forward_hook(lambda _m, _i, output: seen.append(float(output.float().std())))
    try:
        model(sample)
    finally:
        handle.remove()
    if not seen:
        raise ValueError(f"unit_variance_start: layer {type(layer).__name__} did not run in the model")
    return seen[-1]
