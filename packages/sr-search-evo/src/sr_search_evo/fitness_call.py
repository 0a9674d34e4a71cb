"""One fitness call: a result dict, a recorded failure of the candidate, or a fault of the environment.

A candidate that cannot be trained (a network that cannot be built, a non-finite loss, any other
exception of the fitness) becomes the result {"psnr": None, "error": ...}: the search records it
and goes on. An error of the environment is no verdict on the candidate -- the device is missing or
out of memory, a module cannot be imported -- so it becomes an `EnvironmentFault`, which stops the
search without recording the candidate; the rerun, once the environment is fixed, evaluates it.
The evaluators (in-process, process pool, Ray) all call `call_fitness`, so all classify alike.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import torch

from sr_eval.runtime import DeviceError, EnvironmentFault

Fitness = Callable[[Any], dict]

# Texts of torch's errors for a device that is not there (their types are plain RuntimeError or
# AssertionError, so the text is all there is to tell them from a candidate's own errors).
_NO_DEVICE_TEXTS = (
    "torch not compiled with cuda enabled",
    "no cuda gpus are available",
    "found no nvidia driver",
    "invalid device ordinal",
    "cuda driver version is insufficient",
    "torch.cuda.is_available() is false",
)
# Texts of torch's errors for host memory that ran out (plain RuntimeErrors too): its CPU allocator,
# and oneDNN, which fails to create a primitive when it cannot allocate the primitive's memory.
_HOST_OOM_TEXTS = ("defaultcpuallocator: can't allocate memory", "could not create a primitive")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text.splitlines()[0]}" if text else type(err).__name__


def environment_fault(err: BaseException) -> EnvironmentFault | None:
    """`err` as an `EnvironmentFault` naming the cause when the environment raised it, else None.

    Environment: an `EnvironmentFault` already; an ImportError (ModuleNotFoundError included);
    CUDA out of memory (`torch.cuda.OutOfMemoryError`, or its text from older torch); host memory
    exhausted (MemoryError, torch's "DefaultCPUAllocator: can't allocate memory", oneDNN's "could
    not create a primitive"); a device that is unknown or not present (`sr_eval.runtime.DeviceError`, torch's
    "Torch not compiled with CUDA enabled", "invalid device ordinal", ...).
    """
    if isinstance(err, EnvironmentFault):
        return err
    text = str(err).lower()
    if isinstance(err, ImportError):
        cause = "a module cannot be imported"
    elif isinstance(err, torch.cuda.OutOfMemoryError) or "cuda out of memory" in text:
        cause = "the device ran out of memory"
    elif isinstance(err, MemoryError) or any(marker in text for marker in _HOST_OOM_TEXTS):
        cause = "the machine ran out of memory"
    elif isinstance(err, DeviceError) or any(marker in text for marker in _NO_DEVICE_TEXTS):
        cause = "the device is not available"
    else:
        return None
    return EnvironmentFault(f"{cause} ({_first_line(err)})")


def as_environment_fault(err: BaseException, where: str) -> EnvironmentFault:
    """`environment_fault(err)`, or else a fault saying that `where` failed (a worker that cannot start)."""
    return environment_fault(err) or EnvironmentFault(f"{where} ({_first_line(err)})")


def call_fitness(fn: Fitness, candidate: Any) -> dict:
    """`fn(candidate)` checked to be a dict with "psnr"; a candidate's failure becomes an error result.

    Raises `EnvironmentFault` for an error of the environment (see `environment_fault`) and
    TypeError for a fitness that does not return a dict with "psnr" (a bug, not a candidate).
    """
    try:
        result = fn(candidate)
    except Exception as err:  # noqa: BLE001 - a candidate's failure is recorded, the search goes on
        fault = environment_fault(err)
        if fault is not None:
            raise fault from err
        return {"psnr": None, "error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}
    if not isinstance(result, dict) or "psnr" not in result:
        raise TypeError(f"the fitness function must return a dict with 'psnr', got {result!r}")
    return result
