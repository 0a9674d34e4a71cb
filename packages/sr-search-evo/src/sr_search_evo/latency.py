"""Measured latency of a network on the search's target: `LatencySettings` and `measure_latency_ms`.

What is timed is the deployed form (`sr_reparam.deploy`, so a network with training-form blocks is
timed as it ships) on one LR input of `lr_size`, after `warmup` untimed runs, as the median of
`repeats` timed runs: in torch on the CPU with `threads` intra-op threads, or on a CUDA device with
synchronisation around every run (`sr_eval.latency`); or in onnxruntime (its CPU provider with
`threads` intra-op threads, or its CUDA provider) after an ONNX export (`sr_reparam.export_onnx`).
"""

from __future__ import annotations

import io
import statistics
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from sr_eval import latency, time_calls_ms
from sr_eval.runtime import resolve_device
from sr_reparam import deploy, export_onnx, onnxruntime_session
from sr_train import ConfigError, check_types

ENGINES = ("torch", "onnxruntime")
ONNXRUNTIME_HINT = "latency.engine 'onnxruntime' needs onnx and onnxruntime: pip install 'sr-reparam[onnx]'"


@dataclass
class LatencySettings:
    """`search_algorithm.latency`: how a candidate's latency is measured.

    `device` ("cpu", "cuda", "cuda:N"), `threads` (CPU intra-op threads while timing), `lr_size`
    ([height, width] of the LR input; 360x640 is a 1280x720 output at x2), `warmup` untimed and
    `repeats` timed runs (the median counts), `engine` ("torch" or "onnxruntime"), `use_table`
    (estimate a network as the sum of a per-block lookup table instead of timing it whole) and
    `table` (the table's JSON file; default latency_table.json in the search's folder).
    """

    device: str = "cpu"
    threads: int = 1
    lr_size: list[int] = field(default_factory=lambda: [360, 640])
    warmup: int = 3
    repeats: int = 10
    engine: Literal["torch", "onnxruntime"] = "torch"
    use_table: bool = False
    table: str | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if self.threads < 1:
            raise ConfigError(f"threads must be a positive integer, got {self.threads!r}")
        if len(self.lr_size) != 2 or min(self.lr_size) < 1:
            raise ConfigError(f"lr_size must be [height, width] of positive sizes, got {self.lr_size!r}")
        if self.repeats < 1:
            raise ConfigError(f"repeats must be a positive integer, got {self.repeats!r}")
        if self.warmup < 0:
            raise ConfigError(f"warmup must be 0 or more, got {self.warmup!r}")
        if not self.device.strip():
            raise ConfigError("device must name a device (cpu, cuda or cuda:N), got ''")

    def conditions(self) -> dict[str, Any]:
        """What a measurement depends on (the table's file and its use are not part of it)."""
        values = asdict(self)
        return {k: v for k, v in values.items() if k not in ("use_table", "table")}


def check_engine(settings: LatencySettings) -> torch.device:
    """The resolved device, after checking that the device and the engine are there (before any work)."""
    device = resolve_device(settings.device)
    if settings.engine == "onnxruntime":
        try:
            import onnx  # noqa: F401 - the exporter needs it
            import onnxruntime
        except ImportError as err:
            raise ImportError(f"{ONNXRUNTIME_HINT} ({err})") from None
        if device.type == "cuda" and "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            raise ImportError(
                f"latency.device {settings.device!r} with latency.engine 'onnxruntime' needs onnxruntime's "
                "CUDAExecutionProvider (pip install onnxruntime-gpu)"
            )
    return device


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """torch's intra-op thread count set to `count` inside the block, restored after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _onnxruntime_ms(
    model: nn.Module, example: torch.Tensor, settings: LatencySettings, device: torch.device
) -> float:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the exporter's notes on constant folding
        export_onnx(model, buffer, dynamic_hw=False, example_input=example)
    session = onnxruntime_session(buffer.getvalue(), settings.threads, device)
    feed = {session.get_inputs()[0].name: example.numpy()}
    times = time_calls_ms(lambda: session.run(None, feed), settings.warmup, settings.repeats)
    return statistics.median(times)


def measure_latency_ms(module: nn.Module, in_channels: int, settings: LatencySettings) -> float:
    """Median latency (ms) of the deployed form of `module` on one (1, in_channels, *lr_size) input.

    `module` itself is not changed (a deployed copy is timed).
    """
    device = check_engine(settings)
    model = deploy(module).eval()
    with torch_threads(settings.threads):
        if settings.engine == "onnxruntime":
            example = torch.rand(1, in_channels, *settings.lr_size)
            return _onnxruntime_ms(model.cpu().float(), example, settings, device)
        timing = latency(
            model,
            tuple(settings.lr_size),
            device=device,
            warmup=settings.warmup,
            repeats=settings.repeats,
            in_channels=in_channels,
        )
    return timing.median_ms
