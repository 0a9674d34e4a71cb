"""`SearchResult`: the evaluations of a search and the ways to pick from them; `pareto`, the front of
any records over a score (higher is better) and costs (lower is better)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def number(record: dict, key: str) -> float | None:
    """`record[key]` as a finite float, else None (missing, null, a bool, inf or nan)."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _psnr(record: dict) -> float:
    value = number(record, "psnr")
    return -math.inf if value is None else value


def pareto(
    records: Sequence[dict], costs: Sequence[str], score: Callable[[dict], float] = _psnr
) -> list[dict]:
    """The records no other beats on `score` (higher; default the record's "psnr") and every cost in
    `costs` (record keys, lower), by increasing first cost. Every record must hold a number for each
    cost (ValueError naming the record otherwise): the front of a search, of fully trained networks or
    of any table's rows is the same computation."""
    for record in records:
        for cost in costs:
            value = record.get(cost)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                name = record.get("key", record.get("name"))
                raise ValueError(f"pareto(): record {name!r} has no number {cost!r}")

    def dominates(o: dict, r: dict) -> bool:
        no_worse = score(o) >= score(r) and all(o[c] <= r[c] for c in costs)
        return no_worse and (score(o) > score(r) or any(o[c] < r[c] for c in costs))

    front = [r for r in records if not any(dominates(o, r) for o in records)]
    return sorted(front, key=lambda r: (*(r[c] for c in costs), -score(r)))


@dataclass
class SearchResult:
    """Every evaluation (`history`, in the order they finished), the final elites and the output folder."""

    history: list[dict]
    elites: list[dict] = field(default_factory=list)
    out_dir: Path | None = None

    @classmethod
    def load(cls, out_dir: str | os.PathLike, read_only: bool = False) -> SearchResult:
        """The result of the search in `out_dir` (finished or not), read from its files; `read_only`
        for a search that may still be running (see `History`)."""
        from sr_search_evo.checkpoint import load_checkpoint
        from sr_search_evo.history import History

        history = History(out_dir, read_only=read_only)
        if not history.records:
            raise FileNotFoundError(f"{Path(out_dir) / 'history.jsonl'}: no evaluations to load")
        state = load_checkpoint(out_dir) or {}
        elites = [history[key] for key in state.get("elite_keys", []) if key in history]
        return cls(history=list(history.records), elites=elites, out_dir=Path(out_dir))

    def scored(self) -> list[dict]:
        """The evaluations with a finite PSNR, the first of each key (failed and repeated ones left out)."""
        seen: dict[str, dict] = {}
        for record in self.history:
            if record["key"] not in seen and math.isfinite(_psnr(record)):
                seen[record["key"]] = record
        return list(seen.values())

    def best(self, k: int = 1) -> list[dict]:
        """The `k` best distinct candidates by PSNR (failed evaluations left out)."""
        return sorted(self.scored(), key=lambda r: (-_psnr(r), r["key"]))[:k]

    def pareto(self, costs: Sequence[str] = ("params",), skip_missing: bool = False) -> list[dict]:
        """Candidates no other beats on PSNR (higher) and every cost in `costs` (record keys such as
        "params", "macs", "latency_ms"; lower), by increasing first cost. A scored candidate without
        a number for a cost is an error, or with `skip_missing` left out (say, latency not measured)."""
        records = self.scored()
        if skip_missing:
            records = [r for r in records if all(number(r, cost) is not None for cost in costs)]
        return pareto(records, costs)
