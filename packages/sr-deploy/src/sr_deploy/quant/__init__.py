"""Post-training quantisation, quantisation-aware training and int8 ONNX export for any SR network.

`ptq(model, calibration_batches)` returns a calibrated Brevitas copy of a float network (each conv
quantised: per-channel int weights, int activations at its input and output, int32 bias; the rest
float), by default with the automatic mixed-precision plan (`mixed_precision_plan`: the fewest convs
left float that keep a held-out part of the calibration data within `max_drop` dB; `keep_float=()`
quantises every conv), `qat(model)` the same with trainable scales, `fine_tune` trains it with sr_train,
`export_onnx_int8` writes QCDQ ONNX that onnxruntime runs with integer kernels,
`onnx_int8_agreement` compares onnxruntime's output with the Brevitas model's, `quantized_layers`
lists what was quantised at which width and `int8_report` does all of it for a results folder.
`layer_sensitivity` / `plan_keep_float` find the convs that resist quantisation and keep them float
(`keep_float`, a mixed-precision plan), `evaluate_onnx` scores an ONNX file in onnxruntime like a
torch model, `compare_onnx_speed` times two ONNX files in interleaved rounds and `onnx_op_profile`
says which operators onnxruntime runs as integer kernels and which stay float, and what each costs.
`quantize_checkpoint` is the whole job for a trained checkpoint (`zoo quantize`). `quant_conv` and
`check_bits` are the toolkit's one Brevitas conv builder and one bit-width check (the QuantNAS
search builds on them). Needs the `quant` extra (Brevitas); the ONNX steps the `onnx` extra.
"""

from sr_deploy.quant import _brevitas  # noqa: F401  (first: the install hint when Brevitas is missing)
from sr_deploy.quant.agreement import onnx_int8_agreement
from sr_deploy.quant.auto_plan import LayerCost, MixedPlan, mixed_precision_plan
from sr_deploy.quant.bits import QCDQ_BITS, check_bits
from sr_deploy.quant.calibration import CalibrationData, as_batches, calibrate
from sr_deploy.quant.checkpoint import QuantizeRequest, parse_bits, quantize_checkpoint, quantize_model
from sr_deploy.quant.export import export_onnx_int8
from sr_deploy.quant.finetune import distillation_patches, fine_tune
from sr_deploy.quant.int8_report import int8_report
from sr_deploy.quant.layers import conv_geometry, quant_conv, quant_twin
from sr_deploy.quant.onnx_eval import OnnxModule, evaluate_onnx
from sr_deploy.quant.op_profile import OpTime, onnx_op_profile, op_profile_markdown
from sr_deploy.quant.quantize import ptq, qat
from sr_deploy.quant.quantizers import METHODS
from sr_deploy.quant.report import QuantLayerInfo, float_convs, quantized_layers
from sr_deploy.quant.sensitivity import (
    LayerSensitivity,
    PlanStep,
    layer_sensitivity,
    plan_keep_float,
    sensitivity_markdown,
)
from sr_deploy.quant.speed import LR_640x360, compare_onnx_speed

__all__ = [
    "LR_640x360",
    "METHODS",
    "QCDQ_BITS",
    "CalibrationData",
    "LayerCost",
    "LayerSensitivity",
    "MixedPlan",
    "OnnxModule",
    "OpTime",
    "PlanStep",
    "QuantLayerInfo",
    "QuantizeRequest",
    "as_batches",
    "calibrate",
    "check_bits",
    "compare_onnx_speed",
    "conv_geometry",
    "distillation_patches",
    "evaluate_onnx",
    "export_onnx_int8",
    "fine_tune",
    "float_convs",
    "int8_report",
    "onnx_int8_agreement",
    "onnx_op_profile",
    "op_profile_markdown",
    "layer_sensitivity",
    "mixed_precision_plan",
    "parse_bits",
    "plan_keep_float",
    "ptq",
    "qat",
    "quant_conv",
    "quant_twin",
    "quantize_checkpoint",
    "quantize_model",
    "quantized_layers",
    "sensitivity_markdown",
]
