"""Timing helpers shared by the benchmark scripts and the GPU suite.

On CUDA every timed call is bracketed by device synchronisations, so the times are the GPU's and
not the kernel launches'.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable

import torch


def synchronize(device: str | torch.device) -> None:
    """Wait for the queued work of ``device`` (nothing to wait for on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_times(
    fns: dict[str, Callable[[], object]], device: str | torch.device, warmup: int, repeats: int
) -> dict[str, float]:
    """Median wall time (seconds) of each function over ``repeats`` rounds, after ``warmup`` rounds.

    Each round runs every function once, in rotating order, so drifts in machine load hit all of
    them alike (a fairer comparison on a shared machine than timing one after the other).
    """
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            synchronize(device)
            start = time.perf_counter()
            fns[name]()
            synchronize(device)
            if round_index >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def inference_times(
    models: dict[str, torch.nn.Module],
    x: torch.Tensor,
    warmup: int,
    repeats: int,
    train_mode: Iterable[str] = (),
) -> dict[str, float]:
    """`median_times` of each model's forward on ``x`` under inference mode; models in eval mode but
    those named in ``train_mode`` (training forms timed as training runs them: in eval mode a
    re-parameterisable block runs its cached fused kernel, as fast as the deployed net)."""
    keep_training = set(train_mode)
    for name, model in models.items():
        model.train(name in keep_training)
    calls = {name: (lambda model=model: model(x)) for name, model in models.items()}
    with torch.inference_mode():
        return median_times(calls, x.device, warmup, repeats)


def steps_per_s(step: Callable[[], object], device: str | torch.device, warmup: int, steps: int) -> float:
    """Steps per second of ``steps`` back-to-back calls of ``step`` after ``warmup`` calls."""
    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return steps / (time.perf_counter() - start)


def verdict(ratio: float, target: float, higher_is_better: bool = True) -> str:
    """'target >= 5x: met' style text for a ratio and its target."""
    ok = ratio >= target if higher_is_better else ratio <= target
    return f"target {'>=' if higher_is_better else '<='} {target:g}x: {'met' if ok else 'NOT met'}"
