"""Wall-clock inference latency of a model: median and spread over repeated forward passes."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from sr_eval.profiling import infer_in_channels


@dataclass(frozen=True)
class Latency:
    """Latency of one forward pass in milliseconds, over ``repeats`` timed runs."""

    median_ms: float
    iqr_ms: float
    min_ms: float
    mean_ms: float
    repeats: int
    device: str
    dtype: str
    input_shape: tuple[int, ...]


def synchronize(device: str | torch.device) -> None:
    """Wait for the queued work of `device` (nothing to wait for on the CPU)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_calls_ms(
    run: Callable[[], object], warmup: int, repeats: int, sync: Callable[[], None] = lambda: None
) -> list[float]:
    """Milliseconds of each of `repeats` timed calls of `run`, after `warmup` untimed ones; `sync`
    (e.g. a CUDA synchronise) runs before and after every timed call. One loop for every engine
    (torch, onnxruntime), so their figures are comparable."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        run()
    times_ms = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        run()
        sync()
        times_ms.append((time.perf_counter() - start) * 1e3)
    return times_ms


def interleaved_times_ms(
    calls: Mapping[str, Callable[[], object]],
    rounds: int,
    warmup: int = 0,
    sync: Callable[[], None] = lambda: None,
) -> dict[str, list[float]]:
    """Milliseconds of each of `calls` (name -> function) in each of `rounds` rounds, after `warmup`
    untimed rounds: {name: [one time per round]}, the lists aligned by round.

    A round runs every call once, each timed by `time_calls_ms` (with `sync`); the order rotates by
    one every round (a b c, b c a, c a b, ...; for two calls a b, b a, ...), so a change in machine
    load during the measurement hits all of them alike and per-round ratios compare like with like.
    """
    if rounds < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1 and warmup >= 0, got rounds={rounds}, warmup={warmup}")
    if not calls:
        raise ValueError("interleaved_times_ms needs at least one call")
    names = list(calls)
    times_ms: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            spent = time_calls_ms(calls[name], 0, 1, sync)
            if round_index >= warmup:
                times_ms[name] += spent
    return times_ms


def latency(
    model: nn.Module,
    size: tuple[int, int],
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    warmup: int = 5,
    repeats: int = 20,
    batch: int = 1,
    in_channels: int | None = None,
) -> Latency:
    """Time ``model`` on a random LR input of spatial ``size`` (h, w).

    The model is moved to ``device``/``dtype`` (it is used in place, in eval mode, under
    ``torch.inference_mode``). ``warmup`` untimed passes come first; on CUDA the device is
    synchronised before and after every timed pass, so the times are the GPU's, not the launch's.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got repeats={repeats}, warmup={warmup}")
    target = torch.device(device)
    channels = in_channels if in_channels is not None else infer_in_channels(model)
    model = model.to(device=target, dtype=dtype).eval()
    lr = torch.rand(batch, channels, *size, device=target, dtype=dtype)
    with torch.inference_mode():
        times_ms = time_calls_ms(lambda: model(lr), warmup, repeats, lambda: synchronize(target))
    if repeats >= 2:
        quartiles = statistics.quantiles(times_ms, n=4)
        iqr = quartiles[2] - quartiles[0]
    else:
        iqr = 0.0
    return Latency(
        median_ms=statistics.median(times_ms),
        iqr_ms=iqr,
        min_ms=min(times_ms),
        mean_ms=statistics.fmean(times_ms),
        repeats=repeats,
        device=str(target),
        dtype=str(dtype).removeprefix("torch."),
        input_shape=tuple(lr.shape),
    )
