"""The device an evaluator worker was given, for fitness functions that do not name one."""

from __future__ import annotations

import os

DEVICE_ENV = "SR_SEARCH_EVO_DEVICE"


def set_current_device(device: str) -> None:
    """Record `device` for this process (and select it, for CUDA)."""
    os.environ[DEVICE_ENV] = device
    if device.startswith("cuda"):
        import torch

        torch.cuda.set_device(torch.device(device))


def current_device() -> str:
    """This worker's device: the one an evaluator set, else "cuda" when available, else "cpu"."""
    device = os.environ.get(DEVICE_ENV)
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
