"""Post-training quantisation, quantisation-aware training and int8 ONNX export for any SR network.

`ptq(model, calibration_batches)` returns a calibrated Brevitas copy of a float network (every conv
quantised: per-channel int weights, int activations at its input and output, int32 bias; the rest
float), `qat(model)` the same with trainable scales for fine-tuning with sr_train,
`export_onnx_int8` writes it as QCDQ ONNX that onnxruntime runs with integer kernels,
`onnx_int8_agreement` compares onnxruntime's output with the Brevitas model's, and
`quantized_layers` lists what was quantised at which width.
Independent of the QuantNAS supernet: importing it pulls in Brevitas, not the search.
"""

from sr_search_quantnas.quant.agreement import onnx_int8_agreement
from sr_search_quantnas.quant.calibration import CalibrationData, as_batches, calibrate
from sr_search_quantnas.quant.export import export_onnx_int8
from sr_search_quantnas.quant.quantize import ptq, qat
from sr_search_quantnas.quant.quantizers import METHODS
from sr_search_quantnas.quant.report import QuantLayerInfo, quantized_layers

__all__ = [
    "METHODS",
    "CalibrationData",
    "QuantLayerInfo",
    "as_batches",
    "calibrate",
    "export_onnx_int8",
    "onnx_int8_agreement",
    "ptq",
    "qat",
    "quantized_layers",
]
