"""`ptq` and `qat`: quantised copies of any float SR network of the registry."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import torch
from torch import nn

from sr_deploy.quant.between import probe_between
from sr_deploy.quant.bits import check_bits
from sr_deploy.quant.calibration import CalibrationData, as_batches, calibrate
from sr_deploy.quant.convert import BitPlan, check_quantisable, probe_convs, quantised_copy
from sr_deploy.quant.quantizers import check_method

LayerBitsOption = Mapping[str, tuple[int, int]]  # conv name or pattern -> (weight_bits, act_bits)

AUTO = "auto"  # ptq's default keep_float: the automatic mixed-precision plan (quant.auto_plan)
DEFAULT_MAX_DROP = 0.1  # dB the automatic plan may lose on the calibration hold-out
INTEGER_KERNEL_BITS = 8  # activations onnxruntime's QLinearConv runs; outputs quantised by default
PROBE_SIZE = 32  # side of the random image that orders the convs when qat() gets no calibration data


def ptq(
    model: nn.Module,
    calibration_batches: CalibrationData,
    weight_bits: int = 8,
    act_bits: int = 8,
    method: str = "percentile",
    bias_correction: bool = True,
    *,
    io_bits: int | None = 8,
    quantize_outputs: bool | None = None,
    quantize_between: bool = False,
    keep_float: Collection[str] | str = AUTO,
    layer_bits: LayerBitsOption | None = None,
    max_drop: float = DEFAULT_MAX_DROP,
) -> nn.Module:
    """Post-training quantisation: a calibrated Brevitas copy of `model` (which is left untouched).

    Every `nn.Conv2d` / `nn.ConvTranspose2d` becomes a Brevitas `QuantConv2d` / `QuantConvTranspose2d`
    with per-output-channel `weight_bits` weights and a per-tensor `act_bits` quantiser on its input
    (unsigned when the input stayed >= 0 over the calibration batches, as after a ReLU or for the
    image itself, else signed) and an int32 bias. With `quantize_outputs` each conv's output but
    the last one's is quantised too (signed, `act_bits`): in ONNX every conv then sits between
    DequantizeLinear and QuantizeLinear, which onnxruntime fuses into integer QLinearConv kernels
    (without it onnxruntime runs float convs on dequantised values and int8 is no faster). The
    default, None, quantises outputs at 8-bit activations, where those kernels exist (cost at w8a8:
    0.01-0.05 dB), and leaves them float below (at w4a4 they would cost 0.3 dB more on SESR-M5).
    Everything between the convs (ReLU, PReLU, tanh, pixel shuffle, residual adds, mean shifts)
    stays float, as in QCDQ ONNX, unless `quantize_between`: then the outputs of LeakyReLU and
    sigmoid modules and the inputs and outputs of blocks (modules holding convs: concatenations,
    residual adds, attention products) are quantised too (`act_bits`, `quant.between`), and the
    convs reading those tensors share their quantisers, so that onnxruntime runs the ops between
    the convs as integer kernels (QLinearLeakyRelu, QLinearAdd, QLinearConcat, QLinearMul, ...).

    `method` picks the activation statistic ("percentile": 99.999th percentile of |x|, "mse",
    "minmax": the largest |x|; weights use the channel maximum, or an MSE search for "mse"),
    averaged over `calibration_batches` (see `as_batches` for the accepted shapes; a few hundred
    training patches are plenty). `bias_correction` then folds the mean quantisation error of each
    conv's output into its bias (Brevitas' `bias_correction_mode`).

    `io_bits` keeps the layers that touch the image at that width when `weight_bits`/`act_bits` are
    lower: the first conv's input and weights and the last conv's weights (as Brevitas' quantised
    ESPCN does); `None` quantises them like the rest.

    Mixed precision: by default (`keep_float="auto"`) the plan is automatic (`quant.auto_plan`):
    a quarter of `calibration_batches` is held out (the data must carry HR targets: a
    `sr_train.PatchTensors`, dicts with "lr" and "hr" or (lr, hr) pairs), the rest calibrates, and
    the fewest convs stay float that keep the hold-out PSNR drop below `max_drop` dB; the returned
    model's `.mixed_plan` (a `MixedPlan`) names them, with what each costs and the share of the conv
    MACs left float. `keep_float=()` gives the all-integer network (and takes LR inputs alone); a
    list names convs left as float `nn.Conv2d` (module paths such as ``body.blocks.0.cca.excite.0``
    or shell patterns such as ``*.cca.*``). `layer_bits` maps names or patterns to their own
    (weight_bits, act_bits). A pattern that matches no conv is an error naming it.

    Models with training-form blocks must be deployed first (`sr_reparam.deploy`). Returns the
    quantised model in eval mode, on the float model's device.
    """
    if isinstance(keep_float, str) and keep_float == AUTO:
        from sr_deploy.quant.auto_plan import planned_ptq  # it runs ptq with fixed plans

        options = {"weight_bits": weight_bits, "act_bits": act_bits, "method": method, "io_bits": io_bits}
        options.update(bias_correction=bias_correction, quantize_outputs=quantize_outputs)
        options.update(quantize_between=quantize_between, layer_bits=layer_bits)
        return planned_ptq(model, calibration_batches, max_drop, **options)
    batches = as_batches(calibration_batches)
    bits = _bit_plan(
        weight_bits, act_bits, io_bits, quantize_outputs, keep_float, layer_bits, quantize_between
    )
    qmodel = _quantise(model, batches, bits, method, learned=False)
    calibrate(qmodel, batches, bias_correction)
    return qmodel.eval()


def qat(
    model: nn.Module,
    weight_bits: int = 8,
    act_bits: int = 8,
    calibration_batches: CalibrationData | None = None,
    method: str = "percentile",
    *,
    io_bits: int | None = 8,
    quantize_outputs: bool | None = None,
    quantize_between: bool = False,
    bias_correction: bool = True,
    keep_float: Collection[str] = (),
    layer_bits: LayerBitsOption | None = None,
) -> nn.Module:
    """Quantisation-aware training: the `ptq` model with trainable quantisation scales.

    Weight scales start from their statistic and are then learned with the weights; activation
    scales are learned parameters too. With `calibration_batches` (recommended) the model starts
    calibrated exactly as `ptq` leaves it. Without them, the input signs are probed with a random
    image in [0, 1] (image inputs and post-ReLU inputs come out unsigned) and Brevitas collects the
    activation ranges during the first training steps. Train the result like any nn.Module, e.g.
    with `sr_train.Trainer` or `sr_train.train_and_validate`; it is returned in train mode. The
    keyword arguments are those of `ptq`.
    """
    bits = _bit_plan(
        weight_bits, act_bits, io_bits, quantize_outputs, keep_float, layer_bits, quantize_between
    )
    if calibration_batches is None:
        probe = [torch.rand(1, _in_channels(model), PROBE_SIZE, PROBE_SIZE)]
        return _quantise(model, probe, bits, method, learned=True).train()
    batches = as_batches(calibration_batches)
    qmodel = _quantise(model, batches, bits, method, learned=True)
    calibrate(qmodel, batches, bias_correction)
    return qmodel.train()


def _quantise(
    model: nn.Module,
    batches: list[torch.Tensor],
    bits: BitPlan,
    method: str,
    *,
    learned: bool,
) -> nn.Module:
    check_method(method)
    check_bits(bits.weight_bits, "weight_bits")
    check_bits(bits.act_bits, "act_bits")
    if bits.io_bits is not None:
        check_bits(bits.io_bits, "io_bits")
    for pattern, row_weight_bits, row_act_bits in bits.layer_bits:
        check_bits(row_weight_bits, f"layer_bits[{pattern!r}] weight bits")
        check_bits(row_act_bits, f"layer_bits[{pattern!r}] activation bits")
    check_quantisable(model)
    uses = probe_convs(model, batches)
    bits.check_patterns(uses)
    between = probe_between(model, batches[0], bits.quantised_outputs(uses)) if bits.between else None
    return quantised_copy(model, uses, bits, method, learned, between)


def _bit_plan(
    weight_bits: int,
    act_bits: int,
    io_bits: int | None,
    quantize_outputs: bool | None,
    keep_float: Collection[str],
    layer_bits: LayerBitsOption | None,
    between: bool,
) -> BitPlan:
    if isinstance(keep_float, str):
        raise ValueError(
            f"keep_float must be 'auto' or a list of conv names or patterns, not the string {keep_float!r}"
        )
    rows = []
    for pattern, widths in (layer_bits or {}).items():
        if not (isinstance(widths, (tuple, list)) and len(widths) == 2):
            raise ValueError(f"layer_bits[{pattern!r}] must be (weight_bits, act_bits), got {widths!r}")
        rows.append((pattern, widths[0], widths[1]))
    outputs = act_bits == INTEGER_KERNEL_BITS if quantize_outputs is None else quantize_outputs
    return BitPlan(weight_bits, act_bits, io_bits, outputs, tuple(keep_float), tuple(rows), between)


def _in_channels(model: nn.Module) -> int:
    convs = (m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    return next((conv.in_channels for conv in convs), 3)  # without a conv, _quantise reports it
