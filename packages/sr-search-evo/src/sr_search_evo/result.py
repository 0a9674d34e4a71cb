"""`SearchResult`: the evaluations of a search and the ways to pick from them."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


def _psnr(record: dict) -> float:
    value = record.get("psnr")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else -math.inf


@dataclass
class SearchResult:
    """Every evaluation (`history`, in the order they finished), the final elites and the output folder."""

    history: list[dict]
    elites: list[dict] = field(default_factory=list)
    out_dir: Path | None = None

    @classmethod
    def load(cls, out_dir: str | os.PathLike) -> SearchResult:
        """The result of the search in `out_dir` (finished or not), read from its files."""
        from sr_search_evo.checkpoint import load_checkpoint
        from sr_search_evo.history import History

        history = History(out_dir)
        if not history.records:
            raise FileNotFoundError(f"{Path(out_dir) / 'history.jsonl'}: no evaluations to load")
        state = load_checkpoint(out_dir) or {}
        elites = [history[key] for key in state.get("elite_keys", []) if key in history]
        return cls(history=list(history.records), elites=elites, out_dir=Path(out_dir))

    def _unique_ok(self) -> list[dict]:
        seen: dict[str, dict] = {}
        for record in self.history:
            if record["key"] not in seen and math.isfinite(_psnr(record)):
                seen[record["key"]] = record
        return list(seen.values())

    def best(self, k: int = 1) -> list[dict]:
        """The `k` best distinct candidates by PSNR (failed evaluations left out)."""
        return sorted(self._unique_ok(), key=lambda r: (-_psnr(r), r["key"]))[:k]

    def pareto(self, costs: Sequence[str] = ("params",)) -> list[dict]:
        """Candidates no other beats on PSNR (higher) and every cost in `costs` (record keys such as
        "params", "macs", "latency_ms"; lower), by increasing first cost."""
        records = self._unique_ok()
        for record in records:
            for cost in costs:
                value = record.get(cost)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"pareto(): record {record['key']!r} has no number {cost!r}")

        def dominates(o: dict, r: dict) -> bool:
            no_worse = _psnr(o) >= _psnr(r) and all(o[c] <= r[c] for c in costs)
            return no_worse and (_psnr(o) > _psnr(r) or any(o[c] < r[c] for c in costs))

        front = [r for r in records if not any(dominates(o, r) for o in records)]
        return sorted(front, key=lambda r: (*(r[c] for c in costs), -_psnr(r)))
