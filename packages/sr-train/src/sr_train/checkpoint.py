"""Checkpoint files: atomic writes, safe loads, and the random-number-generator states.

A checkpoint is a dict of tensors and plain containers only, so it loads with
`torch.load(..., weights_only=True)`. Keys every consumer may rely on (`sr-eval --model CKPT`,
`zoo eval`, the apps):

- `"state_dict"`: the weights to evaluate or deploy (the EMA weights when EMA is on);
- `"model_name"`, `"model_kwargs"`, `"scale"`: how to rebuild the model with
  `sr_blocks.create_model(model_name, scale=scale, **model_kwargs)` (name None when unknown);
- `"format"`: `CHECKPOINT_FORMAT`;
- `"deployed"`: True in a checkpoint of a re-parameterised model (`deployed_checkpoint`), rebuilt as
  `create_model(..., deployed=True)` before its weights are loaded;
- `"train_state"`: everything resume needs (raw model weights, optimiser, scheduler, grad scaler,
  EMA, step, epoch, position in the epoch, best PSNR, RNG states), and `"config"`.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sr_data import atomic_write, load_weights_only

CHECKPOINT_FORMAT = "sr-toolkit-checkpoint-v1"


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write `payload` to `path` atomically: a temporary file in the same folder, then os.replace.

    A crash while writing leaves the previous file at `path` untouched.
    """
    with atomic_write(path, fsync=True) as handle:
        torch.save(payload, handle)


def model_checkpoint(
    model: nn.Module, name: str, scale: int, model_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The weights-only checkpoint of `model`, built as `create_model(name, scale, **model_kwargs)`:
    what `sr-eval --model CKPT` and `sr_deploy.load_trained` rebuild a model from (weights on the CPU)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model_name": name,
        "model_kwargs": dict(model_kwargs or {}),
        "scale": scale,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def deployed_checkpoint(ckpt: dict[str, Any], deployed_model: nn.Module) -> dict[str, Any]:
    """The checkpoint of `deployed_model`, the re-parameterised form of the model `ckpt` describes.

    It keeps how to rebuild the model (name, kwargs, scale), is marked `"deployed": True` and holds
    the deployed weights on the CPU (no training state: a deployed model is for inference).
    """
    rebuild = (ckpt["model_name"], ckpt["scale"], ckpt["model_kwargs"])
    return {**model_checkpoint(deployed_model, *rebuild), "deployed": True}


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with `weights_only=True` (no code can run from the file); a file refused is a
    one-line ValueError saying what it holds (`sr_data.load_weights_only`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return load_weights_only(path, map_location)


def capture_rng() -> dict[str, Any]:
    """The states of Python's, NumPy's, torch's and (when present) CUDA's generators as tensors/lists."""
    version, state, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    rng = {
        "python": [version, list(state), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def restore_rng(rng: dict[str, Any]) -> None:
    """Put back generator states captured by `capture_rng`."""
    version, state, gauss = rng["python"]
    random.setstate((version, tuple(state), gauss))
    kind, keys, pos, has_gauss, cached = rng["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
