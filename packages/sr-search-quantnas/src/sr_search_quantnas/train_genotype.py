"""Train a found genotype from scratch (the reference's `augment_sr.py`) with sr_train.

The network `build_network(genotype, ...)` builds is trained with L1 and Adam (`train.lr`,
`train.weight_decay`), a cosine schedule or the reference's "linear" one (x0.7 every 3 epochs),
for `train.epochs` epochs, the first `train.warm_up` of them in full precision (Brevitas' weight
and activation quantisers disabled, so every layer is a float conv after a plain ReLU) and the
rest quantised. Validation, after every epoch, always scores the quantised network: the
checkpoint kept as `best.pt` is the best network as it will be deployed. Resumable like every
sr_train run (re-run with the same folder). `validation_report` scores a trained checkpoint on test
sets and counts its BitOps (the reference's `validate_sr.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from brevitas.graph.calibrate import QuantizationStatusManager
from torch import nn
from torch.utils.data import Dataset

from sr_eval import EvalTable, count_parameters, evaluate
from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import Genotype_SR, parse_genotype
from sr_search_quantnas.image_output import image_output_options
from sr_search_quantnas.network import build_network
from sr_search_quantnas.settings import TrainSettings
from sr_train import TrainConfig, Trainer, load_checkpoint

REFERENCE_STEP_EPOCHS, REFERENCE_STEP_GAMMA = 3, 0.7
# the reference's two BitOps columns: a 32x32 and a 256x256 LR input
VALIDATION_LR_SIZES = ((32, 32), (256, 256))


def set_quantization(model: nn.Module, enabled: bool) -> None:
    """Turn every Brevitas weight and activation quantiser of `model` on or off (off = float + ReLU)."""
    if enabled:
        QuantizationStatusManager.enable_act_quantization(model, is_training=model.training)
        QuantizationStatusManager.enable_param_quantization(model, is_training=model.training)
    else:
        QuantizationStatusManager.disable_act_quantization(model, is_training=model.training)
        QuantizationStatusManager.disable_param_quantization(model, is_training=model.training)


class FullPrecisionWarmUp(nn.Module):
    """`net` in full precision for its first `fp_steps` training steps, quantised after and in eval.

    The count of training steps is a buffer, so it is saved in checkpoints and a resumed run
    switches at the same step.
    """

    def __init__(self, net: nn.Module, fp_steps: int) -> None:
        super().__init__()
        self.net = net
        self.fp_steps = fp_steps
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self._quantised = True

    def _use(self, quantised: bool) -> None:
        if quantised != self._quantised:
            set_quantization(self.net, quantised)
            self._quantised = quantised

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self._use(int(self.steps_done) >= self.fp_steps)
            self.steps_done += 1
        else:
            self._use(True)
        return self.net(x)


@dataclass
class GenotypeTrainResult:
    """Best validation PSNR (Y, dB, of the quantised network), its checkpoint and the trained network."""

    best_psnr: float
    checkpoint: Path
    network: nn.Module
    seconds: float


def network_kwargs(
    genotype: Genotype_SR,
    scale: int,
    c_fixed: int,
    body_cells: int,
    skip_mode: bool,
    in_channels: int = 3,
    act_bits: int | None = None,
    image_residual: str = "none",
    clip_output: bool = False,
) -> dict[str, Any]:
    """What `build_network` needs, as plain values (stored in the checkpoint's model_kwargs;
    ``act_bits``, ``image_residual`` and ``clip_output`` only when set, so checkpoints without them
    read as before)."""
    kwargs = {
        "genotype": str(genotype),
        "scale": scale,
        "c_fixed": c_fixed,
        "body_cells": body_cells,
        "skip_mode": skip_mode,
        "in_channels": in_channels,
    }
    if act_bits is not None:
        kwargs["act_bits"] = act_bits
    return {**kwargs, **image_output_options(image_residual, clip_output)}


def build_from_kwargs(kwargs: dict[str, Any]) -> nn.Module:
    """The network `network_kwargs` describes (fresh weights)."""
    values = dict(kwargs)
    return build_network(parse_genotype(values.pop("genotype")), **values)


def train_config(
    settings: TrainSettings, *, scale: int, batch_size: int, steps_per_epoch: int, **overrides: Any
) -> TrainConfig:
    """The sr_train config of the `train` section: L1, Adam, per-epoch validation, the schedule."""
    schedule: dict[str, Any] = {"scheduler": "cosine"}
    if settings.lr_scheduler == "linear":
        milestones = list(range(REFERENCE_STEP_EPOCHS, settings.epochs, REFERENCE_STEP_EPOCHS))
        schedule = {"scheduler": "multistep", "milestones": milestones, "gamma": REFERENCE_STEP_GAMMA}
    return TrainConfig.from_dict(
        {
            "scale": scale,
            "epochs": settings.epochs,
            "batch_size": batch_size,
            "loss": "l1",
            "lr": settings.lr,
            "weight_decay": settings.weight_decay,
            "val_every": steps_per_epoch,
            "val_ssim": False,
            "log_every": settings.print_freq,
            "tensorboard": False,
            **schedule,
            **overrides,
        }
    )


def train_genotype(
    genotype: Genotype_SR,
    train_data: Dataset,
    val_data: Dataset,
    settings: TrainSettings,
    *,
    scale: int,
    c_fixed: int,
    body_cells: int,
    skip_mode: bool,
    batch_size: int,
    out_dir: str | Path,
    in_channels: int = 3,
    act_bits: int | None = None,
    image_residual: str = "none",
    clip_output: bool = False,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> GenotypeTrainResult:
    """Train `genotype`'s network from scratch (activations at `act_bits` when given; the image
    output as `build_network` has it); `out_dir` gets sr_train's files (best.pt, last.pt, ...)."""
    kwargs = network_kwargs(
        genotype, scale, c_fixed, body_cells, skip_mode, in_channels, act_bits, image_residual, clip_output
    )
    torch.manual_seed(seed)
    net = build_from_kwargs(kwargs)
    steps_per_epoch = len(train_data) // batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"training data has {len(train_data)} patches, fewer than one batch of {batch_size}")
    model = FullPrecisionWarmUp(net, settings.warm_up * steps_per_epoch)
    config = train_config(
        settings,
        scale=scale,
        batch_size=batch_size,
        steps_per_epoch=steps_per_epoch,
        seed=seed,
        device=device,
        out_dir=str(out_dir),
        progress=progress,
    )
    with Trainer(model, train_data, val_data, config, model_name=None, model_kwargs=kwargs) as trainer:
        result = trainer.fit()
    best = Path(out_dir) / "best.pt"
    return GenotypeTrainResult(
        result.best_psnr, best, load_trained_network(best), result.total_seconds or 0.0
    )


def load_trained_network(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """The quantised network of a `train_genotype` checkpoint (best.pt or last.pt), in eval mode."""
    ckpt = load_checkpoint(path, map_location=map_location)
    kwargs = ckpt.get("model_kwargs") or {}
    if "genotype" not in kwargs:
        raise ValueError(f"{path} is not a checkpoint of a trained genotype (no genotype in model_kwargs)")
    net = build_from_kwargs(kwargs)
    state = {k.removeprefix("net."): v for k, v in ckpt["state_dict"].items() if k != "steps_done"}
    net.load_state_dict(state)
    return net.eval()


def validation_report(
    net: nn.Module,
    test_sets: Sequence[Any],
    device: str | torch.device = "cpu",
    lr_sizes: Sequence[tuple[int, int]] = VALIDATION_LR_SIZES,
) -> tuple[dict[str, Any], EvalTable]:
    """PSNR/SSIM (Y, crop = scale) of a trained network (`load_trained_network`) on `test_sets`
    (sr_data datasets or names) and its BitOps for each LR size: (a JSON-ready summary, the table)."""
    table = evaluate(net, test_sets, net.scale, device=device)
    summary = {
        "genotype": str(net.genotype),
        "params": count_parameters(net),
        **{f"bitops_{h}x{w}": float(bitops(net, lr_size=(h, w)).total) for h, w in lr_sizes},
        "psnr": {name: row["psnr"] for name, row in table.summary.items()},
        "ssim": {name: row["ssim"] for name, row in table.summary.items()},
    }
    return summary, table
