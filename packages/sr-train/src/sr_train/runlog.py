"""Where a run reports: messages (console + train.log) and metrics (metrics.jsonl).

Without an output folder it only prints (and not even that in quiet mode). TensorBoard event files
are `sr_train.eventlog`'s.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from sr_data import naming_the_file


class RunLog:
    """Appends to `out_dir/<log_name>` and `out_dir/metrics.jsonl`; prints unless `quiet`."""

    def __init__(
        self,
        out_dir: Path | None,
        quiet: bool = False,
        log_name: str = "train.log",
    ) -> None:
        self.out_dir, self.quiet, self.log_name = out_dir, quiet, log_name

    def _file(self, name: str) -> Path:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name

    def message(self, text: str) -> None:
        """A human-readable line (start, resume, validation results, end)."""
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)
        if self.out_dir is not None:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            path = self._file(self.log_name)
            with naming_the_file(path), open(path, "a", encoding="utf-8") as handle:
                handle.write(f"{stamp} {text}\n")

    def metrics(self, record: dict[str, Any]) -> None:
        """One JSON line with a "step" key and numbers; NaN/inf written as null."""
        if self.out_dir is None:
            return
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}
        path = self._file("metrics.jsonl")
        with naming_the_file(path), open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean) + "\n")

    def truncate_after(self, step: int) -> None:
        """Drop metric lines past `step` (written by a killed run after its last checkpoint), and a
        last line cut short by the kill."""
        path = None if self.out_dir is None else self.out_dir / "metrics.jsonl"
        if path is None or not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [
            line for line in lines if (record := _parse(line)) is not None and record.get("step", 0) <= step
        ]
        path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def _parse(line: str) -> dict[str, Any] | None:
    """One metrics record, or None for a blank or partly written line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None
