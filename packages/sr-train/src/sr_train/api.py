"""`train_and_validate`: the searches' fitness call, cheap enough to run hundreds of times;
`registered_trainer`: the Trainer of a registered model, as every app's full training builds it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval.models import create_model
from sr_train.checkpoint import capture_rng, restore_rng
from sr_train.config import TrainConfig
from sr_train.trainer import Trainer


def train_and_validate(
    model: nn.Module,
    data: Dataset | tuple[torch.Tensor, torch.Tensor],
    steps: int,
    val_data: Dataset | tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    config: TrainConfig | None = None,
    **overrides: Any,
) -> float:
    """Train `model` for `steps` steps on `data` and return the best validation PSNR (dB, Y channel).

    Pass pre-built data (a `PatchTensors`, an (lr, hr) tensor pair, or a dataset that caches its
    decoded images) so repeated calls decode nothing; a `PatchTensors` already on the GPU stays
    there. `val_data` defaults to `data`. The run is quiet, writes no files, validates at the end and
    every `val_every` steps when given (PSNR only, unless `val_ssim=True` or a `config` says so), and
    frees the optimiser state and cached GPU memory before returning; the model is handed back on the
    device it came on, and the caller's Python/NumPy/torch random states are put back (the run seeds
    them from `seed`), so a search's own random stream is not reset by every call. `config`
    (default: TrainConfig's defaults) and keyword `overrides` set everything else (lr, batch_size,
    scale, ...).
    """
    base = config.to_dict() if config is not None else {}
    settings = {
        "val_ssim": False,
        **base,
        "progress": False,
        "tensorboard": False,
        "out_dir": None,
        **overrides,
        "steps": steps,
        "epochs": None,
    }
    cfg = TrainConfig.from_dict(settings)
    home = next(model.parameters(), torch.empty(0)).device
    caller_rng = capture_rng()
    try:
        with Trainer(model, data, data if val_data is None else val_data, cfg) as trainer:
            result = trainer.fit()
    finally:
        model.to(home)
        restore_rng(caller_rng)
    if result.best_psnr is None:
        raise RuntimeError("train_and_validate: no validation was run")
    return result.best_psnr


def registered_trainer(
    name: str,
    train_data: Dataset | tuple[torch.Tensor, torch.Tensor],
    val_data: Dataset | tuple[torch.Tensor, torch.Tensor] | None,
    config: TrainConfig,
    model_kwargs: dict[str, Any] | None = None,
) -> Trainer:
    """A Trainer of the registered model `name` (built at `config.scale` with `model_kwargs`, found by
    `sr_eval.models.create_model`), whose initial weights are drawn from `config.seed`: a run's
    weights follow its seed like its data order, and its checkpoints name the model to rebuild it.
    Use it as `with registered_trainer(...) as trainer: trainer.fit()`."""
    kwargs = dict(model_kwargs or {})
    torch.manual_seed(config.seed)
    model = create_model(name, config.scale, **kwargs)
    return Trainer(model, train_data, val_data, config, model_name=name, model_kwargs=kwargs)
