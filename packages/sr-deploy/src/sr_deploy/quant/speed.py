"""`compare_onnx_speed`: how much faster one ONNX file runs than another in onnxruntime on the CPU.

Timed figures on a shared machine drift with whatever else runs, so the files are timed in
interleaved rounds (one run of each per round, the order rotated every round) and the speed-up is
the median of the per-round ratios, which a slow spell affecting one round does not move. Each run
is timed twice: wall-clock (the latency a user sees) and the process's CPU time, which waiting for a
core on a busy machine does not inflate (with one thread, the compute the run needs).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sr_eval import interleaved_times_ms
from sr_reparam import onnxruntime_session

LR_640x360 = (1, 3, 360, 640)  # an LR frame whose x2 output is 720p and whose x4 output is 1440p


def compare_onnx_speed(
    files: Mapping[str, str | os.PathLike],
    input_shape: Sequence[int] = LR_640x360,
    rounds: int = 5,
    threads: int = 1,
    warmup: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Time each ONNX file of `files` (label -> path; the first is the reference) on one random input
    of `input_shape` in interleaved rounds (`sr_eval.interleaved_times_ms`), after `warmup` untimed
    rounds; each run is also timed in the process's CPU time.

    Returns {input_shape, threads, rounds, seconds / cpu_seconds: {label: per-round list},
    median_seconds / median_cpu_seconds: {label}, speedup_vs_<first> / cpu_speedup_vs_<first>:
    {label: median over rounds of reference time / label time}}: wall-clock and CPU-time figures.
    """
    if len(files) < 2:
        raise ValueError(f"compare_onnx_speed needs two files or more, got {list(files)}")
    if rounds < 1 or threads < 1:
        raise ValueError(f"rounds and threads must be >= 1 (got rounds={rounds}, threads={threads})")
    labels = list(files)
    sessions = {label: onnxruntime_session(files[label], threads) for label in labels}
    x = np.random.default_rng(seed).random(tuple(input_shape), dtype=np.float32)
    cpu: dict[str, list[float]] = {label: [] for label in labels}

    def run(label: str) -> Callable[[], None]:
        session = sessions[label]
        feed = {session.get_inputs()[0].name: x}

        def timed() -> None:
            start_cpu = time.process_time()
            session.run(None, feed)
            cpu[label].append(time.process_time() - start_cpu)

        return timed

    wall_ms = interleaved_times_ms({label: run(label) for label in labels}, rounds, warmup)
    wall = {label: [ms / 1e3 for ms in times] for label, times in wall_ms.items()}
    cpu = {label: times[warmup:] for label, times in cpu.items()}  # the warm-up rounds are not counted
    reference = labels[0]
    return {
        "input_shape": list(input_shape),
        "threads": threads,
        "rounds": rounds,
        "seconds": wall,
        "cpu_seconds": cpu,
        "median_seconds": _medians(wall),
        "median_cpu_seconds": _medians(cpu),
        f"speedup_vs_{reference}": _speedups(wall, reference),
        f"cpu_speedup_vs_{reference}": _speedups(cpu, reference),
    }


def _medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {label: statistics.median(values) for label, values in times.items()}


def _speedups(times: dict[str, list[float]], reference: str) -> dict[str, float]:
    """Median over rounds of the reference's time / each file's time."""
    return {
        label: statistics.median(r / t for r, t in zip(times[reference], values, strict=True))
        for label, values in times.items()
    }
