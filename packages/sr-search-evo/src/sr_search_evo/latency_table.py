"""`ESRLatencyTable`: an ESRN's latency estimated as the sum of per-piece latencies measured once.

An ESRN runs as: head (conv_first, conv_shallow), its blocks one after another, the global fusion
(concat of every block's output, 1x1 conv to G0) and the tail (3x3 conv, global residual,
upsampler, conv_last). Each piece is timed on its own (`measure_latency_ms`, the same settings as a
whole network) the first time an estimate needs it: a block by gene and input width, the fusion by
concat width. Entries go to a JSON file (rewritten atomically after each new one) together with
the conditions they were measured under (device, threads, LR size, engine, repeats, G0, scale,
torch version); a file measured under other conditions is refused, naming the one that differs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_blocks.esrn import ESRN, block_from_gene
from sr_blocks.layers import conv2d
from sr_data import write_text_atomic
from sr_search_evo.esr_params import out_width
from sr_search_evo.latency import LatencySettings, check_engine, measure_latency_ms

TABLE_FORMAT = "sr_search_evo/latency_table/1"
TABLE_NAME = "latency_table.json"


class _Tail(nn.Module):
    """The frame after the fusion: 3x3 conv, global residual, upsampler, conv_last."""

    def __init__(self, frame: ESRN) -> None:
        super().__init__()
        self.conv_after_body = frame.body.conv_after_body
        self.upsample, self.conv_last = frame.upsample, frame.conv_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_last(self.upsample(x + self.conv_after_body(x)))


class _Fusion(nn.Module):
    """The global fusion's concat (of two halves, standing in for the block outputs) and 1x1 conv."""

    def __init__(self, width: int, G0: int) -> None:
        super().__init__()
        self.half = width // 2
        self.fuse = conv2d(width, G0, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([x[:, : self.half], x[:, self.half :]], dim=1))


class ESRLatencyTable:
    """Per-piece latencies of ESRNs with `G0` features at x`scale`, kept in the JSON file `path`.

    `estimate(genes)` sums head + blocks + fusion + tail, timing any piece not in the table yet.
    `log` hears about each new measurement.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        G0: int,
        scale: int,
        settings: LatencySettings,
        log: Callable[[str], Any] | None = None,
    ) -> None:
        check_engine(settings)
        self.path, self.G0, self.scale, self.settings = Path(path), G0, scale, settings
        self.log = log or (lambda line: None)
        self.conditions = {
            **settings.conditions(),
            "G0": G0,
            "scale": scale,
            "torch": torch.__version__.split("+")[0],
        }
        self.entries: dict[str, float] = self._load()
        self._frame: ESRN | None = None

    def _load(self) -> dict[str, float]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{self.path}: not a latency table (not valid JSON: {err})") from None
        if not isinstance(data, dict) or data.get("format") != TABLE_FORMAT:
            raise ValueError(f"{self.path}: not a latency table of format {TABLE_FORMAT!r}")
        saved = data.get("conditions", {})
        for key in sorted(set(saved) | set(self.conditions)):
            if saved.get(key) != self.conditions.get(key):
                raise ValueError(
                    f"{self.path}: the table was measured with {key}={saved.get(key)!r}, this search "
                    f"measures with {key}={self.conditions.get(key)!r}; use another latency.table file"
                )
        return {str(k): float(v) for k, v in data.get("entries", {}).items()}

    def _save(self) -> None:
        data = {"format": TABLE_FORMAT, "conditions": self.conditions, "entries": self.entries}
        write_text_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def _entry(self, name: str, build: Callable[[], nn.Module], in_channels: int) -> float:
        if name not in self.entries:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                module = build()
            self.entries[name] = measure_latency_ms(module, in_channels, self.settings)
            self.log(f"latency table: {name} {self.entries[name]:.3f} ms")
            self._save()
        return self.entries[name]

    def _frame_of(self) -> ESRN:
        """An ESRN whose frame modules (head, tail) the table times; its one block is not used."""
        if self._frame is None:
            self._frame = ESRN(self.scale, [f"S_1_{self.G0}_{self.G0}"], G0=self.G0)
        return self._frame

    def head_ms(self) -> float:
        frame = self._frame_of()
        return self._entry("head", lambda: nn.Sequential(frame.conv_first, frame.conv_shallow), 3)

    def block_ms(self, gene: str, in_channels: int) -> float:
        name = f"block:{gene}@{in_channels}"
        return self._entry(name, lambda: block_from_gene(gene, in_channels), in_channels)

    def fusion_ms(self, width: int) -> float:
        return self._entry(f"fusion:{width}", lambda: _Fusion(width, self.G0), width)

    def tail_ms(self) -> float:
        return self._entry("tail", lambda: _Tail(self._frame_of()), self.G0)

    def estimate(self, genes: Sequence[str]) -> float:
        """The ESRN of `genes`: head + every block (at its input width) + fusion + tail, in ms."""
        if not genes:
            raise ValueError("an ESRN needs at least one gene")
        total, channels, concat = self.head_ms(), self.G0, 0
        for gene in genes:
            total += self.block_ms(gene, channels)
            channels = out_width(gene)
            concat += channels
        return total + self.fusion_ms(concat) + self.tail_ms()
