"""int8 (and lower) versions of the deployed SESR: PTQ, QAT fine-tuning, QCDQ ONNX checked in onnxruntime.

The collapsed (deployed) network is quantised with ``sr_deploy.quant``: per-channel int
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

from sr_deploy.quant import fine_tune as train_quantised
from sr_deploy.quant import int8_report, ptq, qat
from sr_train import TrainConfig

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
    return train_quantised(qmodel, patches, val, config)


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
    return int8_report(qmodel, test_sets, scale, folder, example=check_input, device=device, log=log)
