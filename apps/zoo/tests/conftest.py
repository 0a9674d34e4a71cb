"""Shared fixtures: small untrained checkpoints in the sr_train format (enough to test the plumbing)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sr_blocks import create_model
from sr_train import model_checkpoint, save_checkpoint


@pytest.fixture
def make_checkpoint(tmp_path: Path):
    """Write a seeded, randomly initialised registry model as a checkpoint; returns its path."""

    def make(name: str = "sesr_m3", scale: int = 2, **model_kwargs) -> Path:
        torch.manual_seed(0)
        model = create_model(name, scale=scale, **model_kwargs)
        suffix = "".join(f"_{key}{value}" for key, value in sorted(model_kwargs.items()))
        path = tmp_path / f"{name}_x{scale}{suffix}.pt"
        save_checkpoint(path, model_checkpoint(model, name, scale, model_kwargs))
        return path

    return make
