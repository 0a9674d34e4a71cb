"""Quantisers on the tensors between the convs, so that onnxruntime runs the ops there as integers.

onnxruntime fuses DequantizeLinear -> op -> QuantizeLinear into an integer kernel (QLinearAdd,
QLinearConcat, QLinearMul, QLinearLeakyRelu, QLinearSigmoid, ...) only where every input of the op
comes from a DequantizeLinear and its output goes into a QuantizeLinear. A conv quantises its input
and output; the ops between the convs (activations, residual adds, concatenations, attention
products) see float tensors. This module places one quantiser on each such tensor, found without
tracing the model's code, from its module structure:

- the output of each activation module with an integer kernel (`INTEGER_ACTIVATIONS`);
- the input and the output of each block: a module holding a conv that is neither the model nor a
  plain container (in IMDN the contrast attention's input is a concatenation and its output a
  product, a distillation block's output a residual add);

where the tensor is not quantised already (a quantised conv's output, or another point's tensor)
and is not the model's output (the image stays float, as the last conv's output does).
A conv whose input is such a tensor, or a view of it (a channel split), shares that quantiser as
its input quantiser, so that the tensor is rounded once and the exported graph carries the same
scale on both sides. (A conv reading another conv's output keeps its own input quantiser: Brevitas'
bias correction switches a conv's output quantiser off while it corrects the biases.)
`probe_between` finds the points and the sharing on the float model; `attach_between` gives the
quantised copy its quantisers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from brevitas.nn import QuantIdentity
from torch import nn

from sr_deploy.quant.layers import QUANT_CONVS

INTEGER_ACTIVATIONS = (nn.LeakyReLU, nn.Sigmoid)  # onnxruntime: QLinearLeakyRelu, QLinearSigmoid
CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
INPUT, OUTPUT, CONV = "input", "output", "conv"  # where a point sits: a module's input or output
QUANT_INPUT, QUANT_OUTPUT = "quant_input", "quant_output"  # the child quantisers' attribute names


@dataclass(frozen=True)
class Point:
    """A tensor between the convs that gets its own quantiser: `module`'s input or output."""

    module: str
    where: str  # INPUT or OUTPUT
    signed: bool


@dataclass(frozen=True)
class BetweenPlan:
    """The points to quantise, and per conv the point (module, where) its input quantiser shares."""

    points: tuple[Point, ...] = ()
    shared: dict[str, tuple[str, str]] = field(default_factory=dict)


@torch.no_grad()
def probe_between(model: nn.Module, batch: torch.Tensor, quantised_outputs: Iterable[str]) -> BetweenPlan:
    """The `BetweenPlan` of the float `model` on one batch; `quantised_outputs` names the convs whose
    outputs the quantised copy quantises (their tensors need no further quantiser)."""
    quantised_outputs = set(quantised_outputs)
    convs = {name for name, module in model.named_modules() if type(module) in QUANT_CONVS}
    blocks = {name for name, module in model.named_modules() if _is_block(name, module)}
    seen: dict[tuple[int, int], tuple[str, str]] = {}  # (storage, version) -> point or conv
    alive: list[torch.Tensor] = []  # keeps probed tensors alive, so that no storage is reused
    signs: dict[tuple[str, str], bool] = {}
    shared: dict[str, tuple[str, str]] = {}

    def key(tensor: torch.Tensor) -> tuple[int, int]:
        return tensor.untyped_storage().data_ptr(), tensor._version

    def mark(tensor: torch.Tensor, point: tuple[str, str]) -> None:
        alive.append(tensor)
        seen[key(tensor)] = point
        if point[1] != CONV:
            signs[point] = signs.get(point, False) or bool((tensor < 0).any())

    def pre_hook(name: str):
        def hook(module: nn.Module, inputs: tuple) -> None:
            tensor = inputs[0]
            known = seen.get(key(tensor))
            if name in convs:
                if known is not None and known[1] != CONV:
                    shared.setdefault(name, known)
            elif known is None:
                mark(tensor, (name, INPUT))

        return hook

    def hook(name: str):
        def after(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if name in convs:
                if name in quantised_outputs:
                    mark(output, (name, CONV))
            elif key(output) not in seen:
                mark(output, (name, OUTPUT))

        return after

    watched = {
        name: module
        for name, module in model.named_modules()
        if name in convs or name in blocks or isinstance(module, INTEGER_ACTIVATIONS)
    }
    handles = []
    for name, module in watched.items():
        if name in convs or name in blocks:
            handles.append(module.register_forward_pre_hook(pre_hook(name)))
        handles.append(module.register_forward_hook(hook(name)))
    was_training = model.training
    model.eval()
    try:
        image = model(batch.to(next(model.parameters()).device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    signs.pop(seen.get(key(image), ("", CONV)), None)  # the model's output, the image, stays float
    points = tuple(Point(module, where, signed) for (module, where), signed in signs.items())
    return BetweenPlan(points, shared)


def attach_between(
    qmodel: nn.Module, plan: BetweenPlan, quantizer: type, signed_quantizer: type, bits: int
) -> None:
    """Give `qmodel` a `bits`-wide quantiser at each point of `plan` (a child `quant_input` with a
    forward pre-hook, or `quant_output` with a forward hook): `quantizer` for points never negative
    in the probe, else `signed_quantizer`."""
    for point in plan.points:
        module = qmodel.get_submodule(point.module)
        chosen = signed_quantizer if point.signed else quantizer
        quant = QuantIdentity(act_quant=chosen, bit_width=bits, return_quant_tensor=False)
        if point.where == INPUT:
            module.add_module(QUANT_INPUT, quant)
            module.register_forward_pre_hook(_quantise_input)
        else:
            module.add_module(QUANT_OUTPUT, quant)
            module.register_forward_hook(_quantise_output)


def point_proxy(qmodel: nn.Module, point: tuple[str, str]) -> nn.Module:
    """The quantiser proxy of the `QuantIdentity` at `point` (module, where) of the quantised copy."""
    module, where = point
    return getattr(qmodel.get_submodule(module), QUANT_INPUT if where == INPUT else QUANT_OUTPUT).act_quant


def _is_block(name: str, module: nn.Module) -> bool:
    if not name or type(module) in QUANT_CONVS or isinstance(module, CONTAINERS):
        return False
    return any(type(child) in QUANT_CONVS for child in module.modules())


def _quantise_input(module: nn.Module, inputs: tuple) -> tuple:
    return (getattr(module, QUANT_INPUT)(inputs[0]), *inputs[1:])


def _quantise_output(module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
    return getattr(module, QUANT_OUTPUT)(output)
