"""int8 (and lower) versions of the deployed SESR: PTQ, QAT fine-tuning, QCDQ ONNX checked in onnxruntime.

The collapsed (deployed) network is quantised with ``sr_search_quantnas.quant``: per-channel int
weights, per-tensor activations at each conv input, PReLU/pixel shuffle/residual adds left in float
(QCDQ). PTQ calibrates on Y training patches; QAT (``--quant_W``/``--quant_A``) starts from the same
calibration and fine-tunes with sr_train's loop, the recipe's loss and optimiser at a lower rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval import evaluate
from sr_reparam import onnxruntime_max_difference
from sr_search_quantnas.quant import export_onnx_int8, ptq, qat, quantized_layers
from sr_sesr.onnx_check import ONNX_MISSING, onnx_available
from sr_train import TrainConfig, Trainer, load_checkpoint

ONNX_TOLERANCE = 2 / 255  # onnxruntime vs Brevitas: at most two 8-bit output levels apart
PTQ_BITS = (8, 8)


@dataclass(frozen=True)
class Int8Settings:
    """PTQ observer and calibration size; QAT bit widths (None: no QAT), budget and learning rate."""

    method: str = "percentile"
    calibration_patches: int = 256
    qat_bits: tuple[int, int] | None = None
    qat_epochs: int = 30
    qat_learning_rate: float = 2e-5

    def __post_init__(self) -> None:
        if self.calibration_patches < 1:
            raise ValueError(f"--calibration_patches must be >= 1, got {self.calibration_patches}")
        if self.qat_epochs < 1:
            raise ValueError(f"--qat_epochs must be >= 1, got {self.qat_epochs}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bits_name(kind: str, bits: tuple[int, int]) -> str:
    """Folder/stage name of a quantised variant, e.g. 'ptq_w8a8' or 'qat_w4a4'."""
    return f"{kind}_w{bits[0]}a{bits[1]}"


def post_training(deployed: nn.Module, calibration: torch.Tensor, settings: Int8Settings) -> nn.Module:
    """The PTQ int8 model of ``deployed`` (w8a8, the chosen observer, bias correction)."""
    return ptq(deployed, calibration, *PTQ_BITS, method=settings.method, bias_correction=True)


def fine_tune(
    deployed: nn.Module,
    calibration: torch.Tensor,
    settings: Int8Settings,
    patches: Dataset,
    val: Dataset | None,
    config: TrainConfig,
) -> tuple[nn.Module, dict[str, Any]]:
    """QAT: calibrate like PTQ at ``settings.qat_bits``, then train with sr_train into ``config.out_dir``
    (resumable); returns the model holding the best validation weights (the last without validation)."""
    weight_bits, act_bits = settings.qat_bits
    qmodel = qat(deployed, weight_bits, act_bits, calibration_batches=calibration, method=settings.method)
    trainer = Trainer(qmodel, patches, val, config)
    result = trainer.fit()
    trainer.close()
    best = Path(config.out_dir) / "best.pt"
    if best.is_file():
        qmodel.load_state_dict(load_checkpoint(best)["state_dict"])
    return qmodel.eval(), {
        "steps": result.steps,
        "train_seconds": result.total_seconds,
        "best_val_psnr": result.best_psnr,
        "best_step": result.best_step,
    }


def quantized_report(
    qmodel: nn.Module,
    folder: Path,
    test_sets: list,
    scale: int,
    check_input: torch.Tensor,
    device: torch.device,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Benchmark table of ``qmodel`` into ``folder``, its QCDQ ONNX, and onnxruntime vs Brevitas."""
    folder.mkdir(parents=True, exist_ok=True)
    table = evaluate(qmodel, test_sets, scale, device=device, in_channels=1)
    table.save(folder, "benchmark")
    log(f"{folder.name} (PSNR/SSIM on Y, crop = scale):\n" + table.to_markdown())
    layers = quantized_layers(qmodel)
    report: dict[str, Any] = {
        "benchmarks": table.summary,
        "quantized_layers": len(layers),
        "weight_bits": sorted({layer.weight_bits for layer in layers}),
        "act_bits": sorted({layer.act_bits for layer in layers}),
        "onnx": None,
    }
    if not onnx_available():
        log(ONNX_MISSING)
        return report
    qmodel = qmodel.cpu().eval()
    path = export_onnx_int8(qmodel, folder / "model_int8.onnx", check_input.cpu())
    gap = onnxruntime_max_difference(qmodel, path, check_input)
    report.update(onnx=str(path), onnx_max_abs_diff=gap, onnx_within_2_255=gap <= ONNX_TOLERANCE)
    verdict = "within" if gap <= ONNX_TOLERANCE else "NOT within"
    log(f"{path}: onnxruntime vs Brevitas max difference {gap:.2e} ({verdict} 2/255)")
    return report
