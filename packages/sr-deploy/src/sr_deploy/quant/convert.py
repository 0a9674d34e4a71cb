"""Turn a float SR network into a Brevitas one: every conv becomes its quantised twin.

The walk checks the model first (something to quantise, nothing it would silently leave out), runs
the calibration inputs through the float network once to learn, per conv, the order the convs run in
and whether their input ever goes negative, then swaps each `nn.Conv2d` / `nn.ConvTranspose2d` for a
`QuantConv2d` / `QuantConvTranspose2d` with the same hyper-parameters and weights.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import torch
from brevitas.nn.quant_layer import QuantWeightBiasInputOutputLayer as QuantWBIOL
from torch import nn

from sr_deploy.quant.between import BetweenPlan, attach_between, point_proxy
from sr_deploy.quant.layers import QUANT_CONVS, quant_twin
from sr_deploy.quant.quantizers import BIAS_QUANT, act_quantizer, weight_quantizer
from sr_reparam.deploy import undeployed_modules

# float modules with parameters that may stay float between the quantised convs
FLOAT_WITH_PARAMETERS = (nn.PReLU,)


@dataclass(frozen=True)
class ConvUse:
    """What the probe saw of one conv: its position in execution order and the sign of its input."""

    order: int
    signed: bool


@dataclass(frozen=True)
class LayerBits:
    """Bit widths of one quantised conv; `output_bits` None leaves its output float."""

    weight: int
    input: int
    output: int | None


@dataclass(frozen=True)
class BitPlan:
    """Bit widths of the quantised network, and the convs it leaves float.

    `io_bits` covers the layers that touch the image: the first conv's input and weights and the
    last conv's weights. `quantize_outputs` also quantises every conv's output but the last one's
    (which is the image, or close to it), signed, at that conv's activation width.

    The mixed-precision part: `keep_float` names convs (module paths such as
    ``body.blocks.0.cca.excite.0``, or shell patterns such as ``*.cca.*``) left as float
    `nn.Conv2d`; `layer_bits` holds (pattern, weight_bits, act_bits) rows giving the matching convs
    their own widths (the first matching row wins, over `io_bits` too).

    `between` also quantises the tensors between the convs at `act_bits` (`quant.between`), so
    that onnxruntime runs the ops there as integer kernels.
    """

    weight_bits: int
    act_bits: int
    io_bits: int | None
    quantize_outputs: bool = False
    keep_float: tuple[str, ...] = ()
    layer_bits: tuple[tuple[str, int, int], ...] = field(default=())
    between: bool = False

    def is_float(self, name: str) -> bool:
        """Whether the conv at module path `name` stays float."""
        return any(fnmatchcase(name, pattern) for pattern in self.keep_float)

    def for_conv(self, name: str, use: ConvUse, last: int) -> LayerBits:
        """The bit widths of conv `name`, which ran at position `use.order` of `last + 1`."""
        weight_bits, act_bits = self.weight_bits, self.act_bits
        if self.io_bits is not None:
            if use.order == 0:
                weight_bits, act_bits = self.io_bits, self.io_bits
            if use.order == last:
                weight_bits = self.io_bits
        for pattern, row_weight_bits, row_act_bits in self.layer_bits:
            if fnmatchcase(name, pattern):
                weight_bits, act_bits = row_weight_bits, row_act_bits
                break
        output_bits = act_bits if self.quantize_outputs and use.order != last else None
        return LayerBits(weight_bits, act_bits, output_bits)

    def quantised_outputs(self, uses: dict[str, ConvUse]) -> set[str]:
        """The convs of `uses` whose outputs are quantised."""
        last = max(use.order for use in uses.values())
        return {
            name
            for name, use in uses.items()
            if not self.is_float(name) and self.for_conv(name, use, last).output is not None
        }

    def check_patterns(self, convs: Iterable[str]) -> None:
        """Raise a ValueError for a `keep_float` / `layer_bits` pattern that matches none of `convs`,
        or when every conv would stay float."""
        convs = list(convs)
        rows = [("keep_float", pattern) for pattern in self.keep_float]
        rows += [("layer_bits", pattern) for pattern, _, _ in self.layer_bits]
        for option, pattern in rows:
            if not any(fnmatchcase(name, pattern) for name in convs):
                shown = ", ".join(convs[:6]) + (", ..." if len(convs) > 6 else "")
                raise ValueError(f"{option}: {pattern!r} matches no conv of the model (convs: {shown})")
        if convs and all(self.is_float(name) for name in convs):
            raise ValueError("keep_float leaves every conv float: nothing would be quantised")


def check_quantisable(model: nn.Module) -> None:
    """Raise a ValueError unless `model` holds convs and only modules this converter understands."""
    training_form = undeployed_modules(model)
    if training_form:
        raise ValueError(
            f"{type(model).__name__} still has training-form blocks ({', '.join(training_form)}): "
            "quantise the inference form, sr_reparam.deploy(model)"
        )
    for name, module in model.named_modules():
        where = name or "<root>"
        if isinstance(module, QuantWBIOL):
            raise ValueError(f"model is already quantised ({where} is a Brevitas {type(module).__name__})")
        if type(module) in QUANT_CONVS or isinstance(module, FLOAT_WITH_PARAMETERS):
            continue
        own = [key for key, value in module._parameters.items() if value is not None]
        if own:
            raise ValueError(
                f"cannot quantise {where} ({type(module).__name__}, parameters {own}): only nn.Conv2d and "
                f"nn.ConvTranspose2d are quantised, and only {[c.__name__ for c in FLOAT_WITH_PARAMETERS]} "
                "may stay float"
            )
    if not any(type(m) in QUANT_CONVS for m in model.modules()):
        raise ValueError(f"{type(model).__name__} has no nn.Conv2d / nn.ConvTranspose2d to quantise")


@torch.no_grad()
def probe_convs(model: nn.Module, batches: list[torch.Tensor]) -> dict[str, ConvUse]:
    """Run `batches` through the float `model` and record, per conv, first-call order and input sign."""
    device = next(model.parameters()).device
    order: dict[str, int] = {}
    signed: dict[str, bool] = {}

    def record(name: str):
        def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            order.setdefault(name, len(order))
            signed[name] = signed.get(name, False) or bool((inputs[0] < 0).any())

        return hook

    handles = [
        module.register_forward_pre_hook(record(name))
        for name, module in model.named_modules()
        if type(module) in QUANT_CONVS
    ]
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            model(batch.to(device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    convs = [name for name, module in model.named_modules() if type(module) in QUANT_CONVS]
    unused = [name for name in convs if name not in order]
    if unused:
        raise ValueError(
            f"convs never called as modules in the forward pass cannot be calibrated: {', '.join(unused)}"
        )
    return {name: ConvUse(order[name], signed[name]) for name in order}


def quantised_copy(
    model: nn.Module,
    uses: dict[str, ConvUse],
    bits: BitPlan,
    method: str,
    learned: bool,
    between: BetweenPlan | None = None,
) -> nn.Module:
    """A deep copy of `model` with each conv replaced by its Brevitas twin (weights copied), except
    those `bits.keep_float` names; with `between`, also its quantisers between the convs, which the
    convs reading those tensors share as input quantisers."""
    qmodel = copy.deepcopy(model)
    between = between or BetweenPlan()
    attach_between(qmodel, between, act_quantizer(method, False), act_quantizer(method, True), bits.act_bits)
    last = max(use.order for use in uses.values())
    for name, use in sorted(uses.items(), key=lambda item: item[1].order):  # producers first
        if bits.is_float(name):
            continue
        parent_name, _, child = name.rpartition(".")
        parent = qmodel.get_submodule(parent_name)
        layer = bits.for_conv(name, use, last)
        point = between.shared.get(name)
        shared = point_proxy(qmodel, point) if point and layer.input == bits.act_bits else None
        twin = _quant_twin(getattr(parent, child), layer, use.signed, method, learned, shared)
        setattr(parent, child, twin)
    return qmodel


def _quant_twin(
    conv: nn.Conv2d | nn.ConvTranspose2d,
    bits: LayerBits,
    signed: bool,
    method: str,
    learned: bool,
    shared_input: nn.Module | None,
) -> nn.Module:
    return quant_twin(
        conv,
        weight_quantizer(method, learned),
        bits.weight,
        input_quant=act_quantizer(method, signed) if shared_input is None else shared_input,
        input_bits=bits.input,
        output_quant=None if bits.output is None else act_quantizer(method, signed=True),
        output_bits=bits.output,
        bias_quant=BIAS_QUANT if conv.bias is not None else None,
    )
