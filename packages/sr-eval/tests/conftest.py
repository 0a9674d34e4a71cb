"""Shared fixtures of the sr-eval tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch


def _load_sibling(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"sr_eval_tests_{name}", Path(__file__).parent / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def golden_cases() -> ModuleType:
    """tests/golden_cases.py, the pairs behind data/golden_metrics.json."""
    return _load_sibling("golden_cases")


@pytest.fixture(scope="session")
def datasets_root():
    """The shared real-image folder (Set5, Set14, BSD68), or skip when it is absent."""
    from sr_data import find_datasets_root

    root = find_datasets_root()
    if root is None or not (root / "Set5").is_dir():
        pytest.skip("real images not found: set SR_DATASETS or clone beside ../shared/datasets")
    return root


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The tests' tensors are small: one thread avoids OpenMP oversubscription on busy 2-core machines."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
