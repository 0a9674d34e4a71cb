"""Timing helpers shared by the benchmark scripts and the GPU suite.

On CUDA every timed call is bracketed by device synchronisations, so the times are the GPU's and
not the kernel launches'.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable

import torch

from sr_eval import interleaved_times_ms, synchronize, time_calls_ms


def median_times(
    fns: dict[str, Callable[[], object]], device: str | torch.device, warmup: int, repeats: int
) -> dict[str, float]:
    """Median wall time (seconds) of each function over ``repeats`` rounds, after ``warmup`` rounds
    (`sr_eval.interleaved_times_ms`: each round runs every function once, in rotating order, so
    drifts in machine load hit all of them alike)."""
    times_ms = interleaved_times_ms(fns, repeats, warmup, lambda: synchronize(device))
    return {name: statistics.median(values) / 1e3 for name, values in times_ms.items()}


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

    def run() -> None:
        for _ in range(steps):
            step()

    (ms,) = time_calls_ms(run, 0, 1, lambda: synchronize(device))
    return steps / (ms / 1e3)


def verdict(ratio: float, target: float, higher_is_better: bool = True) -> str:
    """'target >= 5x: met' style text for a ratio and its target."""
    ok = ratio >= target if higher_is_better else ratio <= target
    return f"target {'>=' if higher_is_better else '<='} {target:g}x: {'met' if ok else 'NOT met'}"
