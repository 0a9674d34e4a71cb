"""The device an evaluator worker was given, for fitness functions that do not name one."""

from __future__ import annotations

import os

DEVICE_ENV = "SR_SEARCH_EVO_DEVICE"


def set_current_device(device: str) -> None:
    """Record `device` for this process (and select it, for CUDA: plain "cuda" is device 0)."""
    os.environ[DEVICE_ENV] = device
    if device.startswith("cuda"):
        import torch

        index = torch.device(device).index
        torch.cuda.set_device(0 if index is None else index)


def current_device() -> str:
    """This worker's device: the one an evaluator set, else "cuda" when available, else "cpu"."""
    device = os.environ.get(DEVICE_ENV)
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
