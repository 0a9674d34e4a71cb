"""Quantise a trained checkpoint of any registry model, measure what it costs, ship the int8 ONNX.

`quantize_checkpoint(QuantizeRequest(weights, out, ...))` is `zoo quantize`: the checkpoint is
loaded and deployed, calibrated on training patches (PTQ with a percentile, MSE or min-max
statistic; by default the automatic mixed-precision plan chooses the convs left float on a held-out
quarter of the patches, `keep_float` / `layer_bits` give a plan by hand, `keep_float=[]` none),
optionally fine-tuned (QAT through sr_train, resumable with `qat_dir`), evaluated beside the float
model, and exported as fp32 ONNX and QCDQ int8 ONNX, each checked in onnxruntime. Results folder:
``benchmark_fp32.*``, ``benchmark_<bits>.*``, ``model_fp32.onnx``, ``model_<bits>.onnx``,
``benchmark.md`` (float vs quantised) and ``results.json``.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from sr_data import PairedImages, RandomPatches, open_test_sets, open_training_images, write_text_atomic
from sr_deploy.loading import check_out_of_official_folder, find_weights, load_trained
from sr_deploy.onnx_export import export_onnx_checked
from sr_deploy.quant.bits import check_bits
from sr_deploy.quant.finetune import distillation_patches, fine_tune
from sr_deploy.quant.int8_report import int8_report
from sr_deploy.quant.quantize import AUTO, DEFAULT_MAX_DROP, ptq, qat
from sr_deploy.ship import Log, benchmark
from sr_eval import rgb_to_y
from sr_eval.profiling import infer_in_channels
from sr_eval.runtime import resolve_device
from sr_train import LumaView, PatchTensors, TrainConfig, stack_patches

QAT_TARGETS = ("hr", "teacher")
QAT_POOL = 4096  # at most this many distinct training patches for QAT (reused across steps)
QAT_VAL_PATCHES = 64
CALIBRATION_LR_SIDE = 48  # LR side of the default calibration patches


@dataclass
class QuantizeRequest:
    """What to quantise and how: the `zoo quantize` options.

    The default calibration: `calibration_patches` (128) random crops of 48 LR pixels (96 HR pixels
    at x2, 192 at x4; `calibration_patch_size` sets the HR side) from `data` ("samples": the six
    scikit-image training photos), LR made by bicubic downscaling; with the automatic plan
    (`keep_float` None) one crop in four is held out to choose the float convs and the other three
    quarters calibrate. The LR side is fixed because attention blocks pool whole inputs: on 16-pixel
    crops (64 HR pixels at x4) IMDN x4's pooled statistics, and so its quantisers, are not those of
    a photo."""

    weights: Path  # a checkpoint, a run folder (best.pt, else last.pt) or an official weights file
    out: Path
    model: str | None = None  # for an official file whose tensors do not tell (`load_trained`)
    scale: int | None = None
    data: str = "samples"  # training images for calibration and QAT (`sr_data.open_training_images`)
    method: str = "percentile"
    bits: str = "w8a8"
    qat_steps: int = 0
    calibration_patches: int = 128
    patch_size: int = 64  # HR side of the training patches
    calibration_patch_size: int | None = None  # HR side of the calibration patches (None: 48 x scale)
    qat_lr: float = 2e-5
    batch_size: int = 16
    sets: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])
    device: str | None = None  # auto (None), cpu, cuda, cuda:N (`sr_eval.runtime.resolve_device`)
    seed: int = 0
    keep_float: list[str] | None = None  # convs (names or patterns) left float; None: the automatic plan
    max_drop: float = DEFAULT_MAX_DROP  # the automatic plan's budget (dB on the calibration hold-out)
    layer_bits: dict[str, str] = field(default_factory=dict)  # conv name or pattern -> "w8a8" etc.
    qat_dir: Path | None = None  # QAT checkpoints (last.pt resumes, best.pt is returned); None: none kept
    qat_val_every: int | None = None  # validate QAT (and keep the best) every N steps; None: at the end
    qat_target: str = "hr"  # QAT towards the HR patches, or "teacher": the float model's outputs
    quantize_between: bool = False  # quantisers between the convs too (integer ops there; `ptq`)

    def mixed_precision(self) -> dict[str, Any]:
        """The `ptq` / `qat` keyword arguments of `keep_float`, `layer_bits` (bits parsed) and
        `quantize_between`; also checks `qat_target`, so that every option is checked before anything
        is loaded."""
        if self.qat_target not in QAT_TARGETS:
            raise ValueError(f"qat_target must be one of {', '.join(QAT_TARGETS)}, got {self.qat_target!r}")
        if not self.max_drop >= 0:
            raise ValueError(f"max_drop must be a number of dB >= 0, got {self.max_drop!r}")
        layer_bits = {pattern: parse_bits(text) for pattern, text in self.layer_bits.items()}
        keep_float = AUTO if self.keep_float is None else list(self.keep_float)
        return {"keep_float": keep_float, "layer_bits": layer_bits, "quantize_between": self.quantize_between}


def parse_bits(text: str) -> tuple[int, int]:
    """'w8a8' -> (8, 8): weight and activation bit widths (each 2 to 8)."""
    match = re.fullmatch(r"w(\d+)a(\d+)", text)
    if not match:
        raise ValueError(f"bits must look like w8a8, w4a8 or w4a4, got {text!r}")
    return check_bits(int(match[1]), f"{text}: weight bits"), check_bits(
        int(match[2]), f"{text}: activation bits"
    )


def training_patches(
    images: PairedImages, patch_size: int, count: int, seed: int, y_only: bool
) -> PatchTensors:
    """``count`` random training patches (HR side ``patch_size``), as Y when the model takes Y."""
    patches = RandomPatches(images, patch_size, count, seed=seed)
    return stack_patches(LumaView(patches) if y_only else patches, count)


def quantize_model(
    model: nn.Module, request: QuantizeRequest, scale: int, log: Log = print
) -> tuple[nn.Module, dict[str, Any]]:
    """The calibrated (with ``qat_steps``: also fine-tuned) quantised copy of a deployed ``model``,
    and facts on how it was made (patch counts, seconds, QAT's best validation PSNR)."""
    weight_bits, act_bits = parse_bits(request.bits)
    mixed = request.mixed_precision()
    y_only = infer_in_channels(model) == 1
    images = open_training_images(request.data, scale)

    def patches(count: int, seed: int) -> PatchTensors:
        return training_patches(images, request.patch_size, count, seed, y_only)

    size = request.calibration_patch_size or CALIBRATION_LR_SIDE * scale
    calibration = training_patches(images, size, request.calibration_patches, request.seed, y_only)
    info: dict[str, Any] = {"calibration_patches": len(calibration)}
    start = time.perf_counter()
    if mixed["keep_float"] == AUTO:
        qmodel = ptq(
            model,
            calibration,
            weight_bits,
            act_bits,
            method=request.method,
            max_drop=request.max_drop,
            **mixed,
        )
        plan = qmodel.mixed_plan
        info.update(mixed_plan=plan.to_dict(), mixed_plan_summary=plan.summary())
        log(plan.summary())
        mixed["keep_float"] = list(plan.keep_float)
        if request.qat_steps <= 0:
            info["ptq_seconds"] = time.perf_counter() - start
            return qmodel, info
    elif request.qat_steps <= 0:
        qmodel = ptq(model, calibration.lr, weight_bits, act_bits, method=request.method, **mixed)
        info["ptq_seconds"] = time.perf_counter() - start
        return qmodel, info
    qmodel = qat(
        model, weight_bits, act_bits, calibration_batches=calibration.lr, method=request.method, **mixed
    )
    log(
        f"QAT: {request.qat_steps} steps of {request.batch_size} patches, lr {request.qat_lr:g}, "
        f"towards {'the float model' if request.qat_target == 'teacher' else 'the HR patches'}"
    )
    config = TrainConfig(
        scale=scale,
        steps=request.qat_steps,
        batch_size=request.batch_size,
        lr=request.qat_lr,
        scheduler="constant",
        device=str(resolve_device(request.device)),
        seed=request.seed,
        val_every=request.qat_val_every,
        out_dir=None if request.qat_dir is None else str(request.qat_dir),
        val_ssim=False,
        progress=False,
        tensorboard=False,
    )
    train = patches(min(request.qat_steps * request.batch_size, QAT_POOL), request.seed + 1)
    val = patches(QAT_VAL_PATCHES, request.seed + 2)
    if request.qat_target == "teacher":
        train, val = distillation_patches(model, train), distillation_patches(model, val)
    qmodel, trained = fine_tune(qmodel, train, val, config)
    info.update(
        qat_steps=trained["steps"],
        qat_best_val_psnr=trained["best_val_psnr"],
        qat_seconds=time.perf_counter() - start,
    )
    return qmodel, info


def quantize_checkpoint(request: QuantizeRequest, log: Log = print) -> dict[str, Any]:
    """Quantise, evaluate float vs quantised, export and check both ONNX files; writes ``request.out``
    (see the module docstring) and returns results.json's content."""
    device = resolve_device(request.device)  # like a bad --bits, fails before anything is loaded or written
    parse_bits(request.bits)
    request.mixed_precision()
    weights = find_weights(request.weights)
    model, ckpt = load_trained(weights, deployed=True, model=request.model, scale=request.scale)
    check_out_of_official_folder(ckpt, request.out)
    scale, bits, out = ckpt["scale"], request.bits, Path(request.out)
    notes: list[str] = []
    sets = open_test_sets(request.sets, scale, notes)
    for note in notes:
        log(note)
    out.mkdir(parents=True, exist_ok=True)
    qmodel, info = quantize_model(model, request, scale, log)

    float_table = benchmark(model, sets, scale, out, device, "benchmark_fp32")
    first = sets[0][0]["lr"]
    example = (rgb_to_y(first) if infer_in_channels(model) == 1 else first).unsqueeze(0)
    quantised = int8_report(
        qmodel,
        sets,
        scale,
        out,
        stem=f"benchmark_{bits}",
        onnx_name=f"model_{bits}.onnx",
        example=example,
        device=device,
        log=log,
    )
    changes = psnr_changes(float_table.summary, quantised["benchmarks"])
    summary = {
        name: {"fp32": fp32, bits: quantised["benchmarks"][name], "psnr_drop": -changes[name]}
        for name, fp32 in float_table.summary.items()
    }
    float_onnx = export_onnx_checked(model, out / "model_fp32.onnx", example, log)
    report = {
        "weights": str(weights),
        "model": ckpt["model_name"],
        "scale": scale,
        "settings": {
            key: str(value) if isinstance(value, Path) else value for key, value in asdict(request).items()
        },
        **info,
        "benchmarks": summary,
        "quantized_layers": quantised["quantized_layers"],
        "float_convs": quantised["float_convs"],
        "onnx": {"fp32": None if float_onnx is None else str(float_onnx.path), bits: quantised["onnx"]},
        "onnx_fp32_max_abs_diff": None if float_onnx is None else float_onnx.max_abs_diff,
        **{key: value for key, value in quantised.items() if key.startswith("onnx_")},
        "onnx_check_image": f"{sets[0][0]['name']} ({getattr(sets[0], 'name', 'test set')})",
    }
    write_text_atomic(out / "results.json", json.dumps(report, indent=2) + "\n")
    table = comparison_markdown(summary, bits)
    if "mixed_plan_summary" in info:
        table += "\n" + info["mixed_plan_summary"] + "\n"
    write_text_atomic(out / "benchmark.md", table)
    log(table)
    return report


def psnr_changes(fp32: dict[str, dict[str, Any]], quantised: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Per test set of ``fp32`` (benchmark summaries: set -> {psnr, ...}), the quantised PSNR minus
    the float one (dB; negative: quantisation lost that much)."""
    return {name: quantised[name]["psnr"] - row["psnr"] for name, row in fp32.items()}


def comparison_markdown(summary: dict[str, dict[str, Any]], bits: str) -> str:
    """Float vs quantised PSNR/SSIM (Y) per test set, and the PSNR drop."""
    lines = [f"| set | fp32 PSNR / SSIM | {bits} PSNR / SSIM | drop (dB) |", "|---|---|---|---:|"]
    for name, row in summary.items():
        cells = [f"{row[key]['psnr']:.2f} / {row[key]['ssim']:.4f}" for key in ("fp32", bits)]
        lines.append(f"| {name} | {' | '.join(cells)} | {row['psnr_drop']:.3f} |")
    return "\n".join(lines) + "\n"
