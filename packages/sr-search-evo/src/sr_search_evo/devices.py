"""What an evaluator worker was given: its device, and on the CPU its thread budget."""

from __future__ import annotations

import os

DEVICE_ENV = "SR_SEARCH_EVO_DEVICE"
# Read by OpenMP, MKL and OpenBLAS when they load: set for libraries loaded later and child processes
THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


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


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else the CPU count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def set_thread_budget(threads: int) -> None:
    """Hold this process to `threads` CPU threads.

    torch's intra-op pool is set directly (torch is loaded by then, so its OpenMP has read the
    environment already); the OpenMP/MKL/OpenBLAS variables are set too, for libraries loaded
    later and processes started from here. Several small candidates trained side by side, one
    thread each, use the cores better than one at a time with all threads: a small network's
    convolutions are too short to split well.
    """
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"a thread budget must be a positive integer, got {threads!r}")
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)
