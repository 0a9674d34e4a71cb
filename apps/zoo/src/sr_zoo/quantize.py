"""`zoo quantize`: int8 (or lower) versions of any trained zoo checkpoint, measured and exported.

The checkpoint is deployed (re-parameterised), calibrated on training patches with a percentile,
MSE or min-max observer (``sr_search_quantnas.quant.ptq``), optionally fine-tuned with
quantisation-aware training through sr_train, evaluated beside the float model on the test sets,
and exported as QCDQ ONNX whose onnxruntime output is checked against the Brevitas model.

Results folder: ``model_fp32.onnx``, ``model_<bits>.onnx``, ``benchmark.md`` (float vs quantised),
``results.json`` (PSNR/SSIM of both and the difference, the ONNX check, settings, timings).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from sr_data import RandomPatches, open_test_sets, open_training_images, write_text_atomic
from sr_eval import evaluate, rgb_to_y
from sr_eval.profiling import infer_in_channels
from sr_reparam import export_onnx, onnxruntime_max_difference
from sr_train import LumaView, PatchTensors, stack_patches, train_and_validate
from sr_zoo.models import load_trained

ONNX_TOLERANCE = 2 / 255  # onnxruntime vs Brevitas: at most two 8-bit output levels apart


@dataclass
class QuantizeRequest:
    """What `zoo quantize` was asked for."""

    weights: Path
    out: Path
    data: str = "samples"
    method: str = "percentile"
    bits: str = "w8a8"
    qat_steps: int = 0
    calibration_patches: int = 256
    patch_size: int = 64
    qat_lr: float = 2e-5
    batch_size: int = 16
    sets: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])
    device: str | None = None
    seed: int = 0


def parse_bits(text: str) -> tuple[int, int]:
    """'w8a8' -> (8, 8): weight and activation bit widths."""
    match = re.fullmatch(r"w(\d+)a(\d+)", text)
    if not match:
        raise ValueError(f"--bits must look like w8a8, w4a8 or w4a4, got {text!r}")
    return int(match[1]), int(match[2])


def training_patches(
    request: QuantizeRequest, scale: int, channels: int, count: int, seed: int
) -> PatchTensors:
    """``count`` random training patches (HR side ``patch_size``), as Y when the model takes Y."""
    images = open_training_images(request.data, scale)
    patches = RandomPatches(images, request.patch_size, count, seed=seed)
    return stack_patches(LumaView(patches) if channels == 1 else patches, count)


def _quant():
    """The quantisation helpers (an optional dependency of the zoo)."""
    try:
        from sr_search_quantnas import quant
    except ImportError as err:
        raise ImportError(
            f"zoo quantize needs sr-search-quantnas: pip install 'sr-zoo[quant]' ({err})"
        ) from err
    return quant


def quantize_model(
    model: nn.Module, request: QuantizeRequest, scale: int, log=print
) -> tuple[nn.Module, dict]:
    """The calibrated (with ``qat_steps``: also fine-tuned) quantised copy of ``model``, and facts on it."""
    quant = _quant()
    weight_bits, act_bits = parse_bits(request.bits)
    channels = infer_in_channels(model)
    calibration = training_patches(request, scale, channels, request.calibration_patches, request.seed)
    info: dict[str, Any] = {"calibration_patches": len(calibration)}
    start = time.perf_counter()
    if request.qat_steps <= 0:
        qmodel = quant.ptq(model, calibration.lr, weight_bits, act_bits, method=request.method)
        info["ptq_seconds"] = time.perf_counter() - start
        return qmodel, info
    qmodel = quant.qat(
        model, weight_bits, act_bits, calibration_batches=calibration.lr, method=request.method
    )
    pool = request.qat_steps * request.batch_size
    log(f"QAT: {request.qat_steps} steps of {request.batch_size} patches, lr {request.qat_lr:g}")
    train = training_patches(request, scale, channels, min(pool, 4096), request.seed + 1)
    val = training_patches(request, scale, channels, 64, request.seed + 2)
    info["qat_best_val_psnr"] = train_and_validate(
        qmodel,
        train,
        request.qat_steps,
        val,
        scale=scale,
        lr=request.qat_lr,
        batch_size=request.batch_size,
        device=request.device or "auto",
        seed=request.seed,
    )
    info.update(qat_steps=request.qat_steps, qat_seconds=time.perf_counter() - start)
    return qmodel.eval(), info


def quantize_checkpoint(request: QuantizeRequest, log=print) -> dict[str, Any]:
    """Quantise, evaluate float vs quantised, export and check the ONNX files; writes ``request.out``."""
    model, ckpt = load_trained(request.weights, deployed=True)
    scale, channels = ckpt["scale"], infer_in_channels(model)
    request.out.mkdir(parents=True, exist_ok=True)
    qmodel, info = quantize_model(model, request, scale, log)

    notes: list[str] = []
    sets = open_test_sets(request.sets, scale, notes)
    for note in notes:
        log(note)
    device = request.device if request.device not in (None, "auto") else None
    float_table = evaluate(model, sets, scale, device=device, in_channels=channels)
    quant_table = evaluate(qmodel, sets, scale, device=device, in_channels=channels)
    float_table.save(request.out, "benchmark_fp32")
    quant_table.save(request.out, f"benchmark_{request.bits}")
    summary = {
        name: {
            "fp32": float_table.summary[name],
            request.bits: quant_table.summary[name],
            "psnr_drop": float_table.summary[name]["psnr"] - quant_table.summary[name]["psnr"],
        }
        for name in float_table.summary
    }

    model, qmodel = model.cpu(), qmodel.cpu()
    first = sets[0][0]["lr"]
    check_input = (rgb_to_y(first) if channels == 1 else first).unsqueeze(0)
    export_onnx(model, request.out / "model_fp32.onnx")
    int8_path = _quant().export_onnx_int8(qmodel, request.out / f"model_{request.bits}.onnx", check_input)
    gap = onnxruntime_max_difference(qmodel, int8_path, check_input)
    if gap > ONNX_TOLERANCE:
        log(f"WARNING: onnxruntime differs from the Brevitas model by {gap * 255:.2f}/255 (> 2/255)")
    report = {
        "weights": str(request.weights),
        "model": ckpt["model_name"],
        "scale": scale,
        "settings": {
            key: str(value) if isinstance(value, Path) else value for key, value in asdict(request).items()
        },
        **info,
        "benchmarks": summary,
        "onnx": {"fp32": str(request.out / "model_fp32.onnx"), request.bits: str(int8_path)},
        "onnxruntime_vs_brevitas_max_abs": gap,
        "onnx_check_image": f"{sets[0][0]['name']} ({getattr(sets[0], 'name', 'test set')})",
    }
    write_text_atomic(request.out / "results.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(request.out / "benchmark.md", comparison_markdown(summary, request.bits))
    log(comparison_markdown(summary, request.bits))
    log(f"onnxruntime vs Brevitas: max |difference| {gap * 255:.3f}/255; files in {request.out}")
    return report


def comparison_markdown(summary: dict[str, dict[str, Any]], bits: str) -> str:
    """Float vs quantised PSNR/SSIM (Y) per test set, and the PSNR drop."""
    lines = [f"| set | fp32 PSNR / SSIM | {bits} PSNR / SSIM | drop (dB) |", "|---|---|---|---:|"]
    for name, row in summary.items():
        cells = [f"{row[key]['psnr']:.2f} / {row[key]['ssim']:.4f}" for key in ("fp32", bits)]
        lines.append(f"| {name} | {' | '.join(cells)} | {row['psnr_drop']:.3f} |")
    return "\n".join(lines) + "\n"
