"""The costs a search's front is drawn and recorded over, and front.json.

A record is a line of history.jsonl: "psnr" (dB), "params", "macs" (for a 1280x720 output) and,
when the search measured it, "latency_ms". A cost is one of those keys; `COSTS` says how to show it.
The front itself is `SearchResult.pareto`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic
from sr_search_evo.result import SearchResult, number
from sr_search_evo.settings import OBJECTIVE_KEYS, EvoSettings


@dataclass(frozen=True)
class Cost:
    """A cost of a network: record key, axis label (unit of the axis), divisor from the record's
    value to the axis, file suffix, and what the record's value is (front.json's unit)."""

    key: str
    label: str
    divisor: float
    suffix: str
    meaning: str


COSTS = {
    "params": Cost("params", "parameters (thousands)", 1e3, "params", "parameters"),
    "macs": Cost(
        "macs", "MACs for a 1280x720 output (G)", 1e9, "macs", "multiply-accumulates, 1280x720 output"
    ),
    "latency_ms": Cost("latency_ms", "measured latency (ms)", 1.0, "latency", "milliseconds, measured"),
}


def costs_of(records: Sequence[dict]) -> list[str]:
    """The cost keys (in `COSTS` order) that every scored record carries: the plots a run gets."""
    ok = SearchResult(list(records)).scored()
    return [key for key in COSTS if ok and all(number(r, key) is not None for r in ok)]


def run_costs(policy: EvoSettings, available: Sequence[str]) -> list[str]:
    """The record keys of the costs the run ranked by (NSGA-II's objectives but PSNR), those the
    records carry; params for a PSNR search (the classic accuracy-size front)."""
    wanted = [OBJECTIVE_KEYS[name] for name in policy.objective_names() if name != "psnr"]
    return [key for key in wanted if key in available] or [key for key in ("params",) if key in available]


def front_entries(front: Sequence[dict]) -> list[dict[str, Any]]:
    """front.json's entries: id (F1, F2, ... as the plots label them), history key, genes, psnr and
    every cost present."""
    entries = []
    for index, record in enumerate(front, 1):
        entry = {
            "id": f"F{index}",
            "key": record.get("key"),
            "genes": record.get("decoded", record.get("genes")),
        }
        entry["psnr"] = number(record, "psnr")
        entry.update({key: record[key] for key in COSTS if number(record, key) is not None})
        entry["generation"] = record.get("generation")
        entries.append(entry)
    return entries


def write_front(
    out: Path, records: Sequence[dict], costs: Sequence[str], latency: str | None = None
) -> dict[str, Any]:
    """Write out/front.json: the front of `records` (history lines) over PSNR and `costs`, with what
    each value means (`latency`: how latency was measured, e.g. `plots.latency_label`'s text)."""
    entries = front_entries(SearchResult(list(records)).pareto(costs, skip_missing=True))
    units = {key: cost.meaning for key, cost in COSTS.items() if any(key in e for e in entries)}
    if latency and "latency_ms" in units:
        units["latency_ms"] = latency
    data = {
        "objectives": ["psnr", *costs],
        "units": {"psnr": "dB on Y, validation PSNR after the search's fast training", **units},
        "front": entries,
    }
    write_text_atomic(Path(out) / "front.json", json.dumps(data, indent=2) + "\n")
    return data
