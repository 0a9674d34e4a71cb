"""history.jsonl: one JSON line per finished evaluation, appended and fsync'ed as it finishes.

It is also the search's cache: on resume, every key in it counts as trained. The same append-only
keyed log holds the screen's results (screened.jsonl), so no candidate is screened twice.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from sr_data import naming_the_file

HISTORY_NAME = "history.jsonl"


def _clean(value: Any) -> Any:
    """JSON has no inf/nan: store them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class History:
    """Append-only log of evaluations (or any keyed results), with the key -> record cache rebuilt from it."""

    def __init__(self, out_dir: str | os.PathLike, name: str = HISTORY_NAME, read_only: bool = False) -> None:
        """The log in `out_dir`; `read_only` for a reader of another run's log (which may still be
        writing it): its unfinished last line is left out but not cut off, and `append` is refused."""
        self.path = Path(out_dir) / name
        self.read_only = read_only
        self.records: list[dict] = []
        self.by_key: dict[str, dict] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        raw = self.path.read_bytes()
        complete, _, partial = raw.rpartition(b"\n")
        if partial and not self.read_only:
            # A line cut short by a kill mid-write: drop it (its evaluation reruns).
            with open(self.path, "r+b") as stream:
                stream.truncate(len(complete) + 1 if complete else 0)
        for number, line in enumerate(complete.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{self.path}:{number}: not a JSON line ({err})") from None
            if "key" not in record:
                raise ValueError(f"{self.path}:{number}: record has no 'key'")
            self._remember(record)

    def _remember(self, record: dict) -> None:
        self.records.append(record)
        self.by_key.setdefault(record["key"], record)

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def __getitem__(self, key: str) -> dict:
        return self.by_key[key]

    def append(self, record: dict) -> dict:
        """Write `record` as one line, flush and fsync it, and cache it; returns the stored form."""
        if self.read_only:
            raise PermissionError(f"{self.path}: opened read-only, not appended to")
        record = _clean(record)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with naming_the_file(self.path), open(self.path, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(record, sort_keys=True) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        self._remember(record)
        return record
