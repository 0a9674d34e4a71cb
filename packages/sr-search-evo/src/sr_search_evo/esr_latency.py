"""`ESRLatencyScreen`: each ESRN candidate's latency, measured before any training (`run_search`'s screen).

The search calls it in its main process on every new candidate of a generation before the
generation's training is dispatched (so no training competes with the timing). It gives
`latency_ms` (and `latency_source`: "measured", the whole deployed network timed, or "table", the
sum of `ESRLatencyTable`'s per-piece entries), and a `rejected` reason when the latency is above
`range.max_latency_ms`, so that candidate is never trained. The search caches the result by gene
list, so a resumed search never measures a candidate twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from sr_blocks import create_model
from sr_search_evo.esr_config import ESRSearchAlgorithm, ESRSearchSpace
from sr_search_evo.latency import LatencySettings, check_engine, measure_latency_ms
from sr_search_evo.latency_table import TABLE_NAME, ESRLatencyTable


class ESRLatencyScreen:
    """Latency of the network of a gene list, measured or (ESRN only) from a lookup table.

    The network is ESR_EA's ESRN on a `G0`-wide frame, or `create_model(model, genes=...,
    **model_kwargs)` when `model` is given (e.g. "repstack"). `table_path` is the lookup table's
    file (used when `settings.use_table`). The device and the engine are checked here, before any work.
    """

    def __init__(
        self,
        G0: int,
        scale: int,
        settings: LatencySettings,
        max_latency_ms: float | None = None,
        table_path: str | os.PathLike | None = None,
        log: Callable[[str], Any] | None = None,
        model: str = "esrn",
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        check_engine(settings)
        self.G0, self.scale, self.settings, self.max_latency_ms = G0, scale, settings, max_latency_ms
        self.model = model
        self.model_kwargs = {"G0": G0} if model == "esrn" else dict(model_kwargs or {})
        self.table = None
        if settings.use_table and model != "esrn":
            raise ValueError(f"latency.use_table: the per-block table is ESRN's; {model!r} is timed whole")
        if settings.use_table:
            if table_path is None:
                raise ValueError("latency.use_table needs the table's file (latency.table or the run folder)")
            self.table = ESRLatencyTable(table_path, G0, scale, settings, log)

    def latency_ms(self, genes: Sequence[str]) -> tuple[float, str]:
        """(latency in ms, "table" or "measured") of the network of `genes`."""
        if self.table is not None:
            return self.table.estimate(list(genes)), "table"
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = create_model(self.model, scale=self.scale, genes=list(genes), **self.model_kwargs)
        return measure_latency_ms(model, 3, self.settings), "measured"

    def __call__(self, genes: Sequence[str]) -> dict[str, Any]:
        value, source = self.latency_ms(genes)
        result: dict[str, Any] = {"latency_ms": value, "latency_source": source}
        if self.max_latency_ms is not None and value > self.max_latency_ms:
            limit = self.max_latency_ms
            result["rejected"] = f"latency {value:.4g} ms is above range.max_latency_ms {limit:g}"
        return result

    def config(self) -> dict[str, Any]:
        """What the cached results depend on (compared when a search resumes)."""
        return {
            **self.settings.conditions(),
            "use_table": self.settings.use_table,
            "max_latency_ms": self.max_latency_ms,
            "G0": self.G0,
            "scale": self.scale,
            **({"model": self.model} if self.model != "esrn" else {}),
        }


def build_esr_screen(
    search_space: ESRSearchSpace,
    search_algorithm: ESRSearchAlgorithm,
    out_dir: str | os.PathLike,
    log: Callable[[str], Any] | None = None,
) -> ESRLatencyScreen | None:
    """The latency screen the sections ask for, or None when neither `policy.objectives` has
    latency nor `range.max_latency_ms` is set. Its table (with `latency.use_table`) is
    `latency.table`, else latency_table.json in `out_dir`."""
    policy, bounds, settings = search_algorithm.policy, search_algorithm.range, search_algorithm.latency
    if "latency" not in policy.objective_names() and bounds.max_latency_ms is None:
        return None
    model, kwargs = search_space.candidate_model()
    table = Path(settings.table) if settings.table else Path(out_dir) / TABLE_NAME
    G0 = search_space.esrbody.G0
    return ESRLatencyScreen(
        G0, search_space.scale, settings, bounds.max_latency_ms, table, log, model, kwargs
    )
