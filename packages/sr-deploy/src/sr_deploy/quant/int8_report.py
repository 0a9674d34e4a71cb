"""What a quantised model is worth: its benchmark table, its layers' bit widths, its int8 ONNX file
and how closely onnxruntime runs that file (the report `zoo quantize` and the SESR app write)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_deploy.onnx_export import onnx_available, onnx_missing_reason, onnxruntime_available
from sr_deploy.quant.agreement import onnx_int8_agreement
from sr_deploy.quant.export import export_onnx_int8
from sr_deploy.quant.report import float_convs, quantized_layers
from sr_deploy.ship import Log, benchmark
from sr_deploy.verify import check_input

ONNX_TOLERANCE_255 = 2  # onnxruntime vs Brevitas: at most two 8-bit output levels apart


def int8_report(
    qmodel: nn.Module,
    test_sets: Sequence[Dataset],
    scale: int,
    out: Path,
    *,
    stem: str = "benchmark",
    onnx_name: str = "model_int8.onnx",
    example: torch.Tensor | None = None,
    device: str | torch.device | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Benchmark ``qmodel`` (from `ptq`/`qat`) into out/<stem>.{md,json,csv}, export it as QCDQ ONNX
    to out/<onnx_name> and compare onnxruntime's output on ``example`` with the Brevitas model's.

    ``example`` (N, C, h, w) defaults to a fixed random input of an odd size with the model's
    channels. Returns a JSON-ready dict: benchmarks, quantized_layers, weight_bits, act_bits,
    float_convs (those a mixed-precision plan kept float), onnx
    (None without the onnx extra, with the reason logged) and, when onnxruntime is installed,
    onnx_max_diff_255 / onnx_mean_diff_255 (|onnxruntime - Brevitas| in 1/255) and onnx_within_2_255.
    """
    out = Path(out)
    table = benchmark(qmodel, test_sets, scale, out, device, stem)
    log(f"{stem} of the quantised model (PSNR/SSIM on Y, crop = scale):\n" + table.to_markdown())
    layers = quantized_layers(qmodel)
    report: dict[str, Any] = {
        "benchmarks": table.summary,
        "quantized_layers": len(layers),
        "weight_bits": sorted({layer.weight_bits for layer in layers}),
        "act_bits": sorted({layer.act_bits for layer in layers if layer.act_bits is not None}),
        "float_convs": float_convs(qmodel),
        "onnx": None,
    }
    if not onnx_available(int8=True):
        log(onnx_missing_reason(int8=True))
        return report
    qmodel = qmodel.cpu().eval()
    example = check_input(qmodel) if example is None else example.cpu()
    path = export_onnx_int8(qmodel, out / onnx_name, example)
    report["onnx"] = str(path)
    if not onnxruntime_available():
        log(f"int8 ONNX written to {path} (not checked: onnxruntime is not installed)")
        return report
    agreement = onnx_int8_agreement(qmodel, path, example)
    within = agreement["max_diff_255"] <= ONNX_TOLERANCE_255
    report.update(
        onnx_max_diff_255=agreement["max_diff_255"],
        onnx_mean_diff_255=agreement["mean_diff_255"],
        onnx_within_2_255=within,
    )
    log(
        f"{'' if within else 'WARNING: '}{path}: onnxruntime vs Brevitas max |difference| "
        f"{agreement['max_diff_255']:.3f}/255, mean {agreement['mean_diff_255']:.3f}/255"
    )
    return report
