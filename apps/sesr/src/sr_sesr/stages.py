"""Resumable stages of a run: each finished stage leaves ``<run>/stages/<name>.json``.

The record holds the settings the stage ran with and what it reported. A re-run skips a stage whose
record is there with the same settings, and redoes it (saying what changed) when the settings
differ, so an interrupted or extended run (say, QAT added later) only does what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sr_data import write_text_atomic
from sr_train import settings_differences


class Stages:
    """Runs the stages of one results folder, skipping those already done with the same settings."""

    def __init__(self, run_dir: Path, log: Callable[[str], None] = print) -> None:
        self.folder = Path(run_dir) / "stages"
        self.log = log

    def record_path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def done(self, name: str, settings: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded result of ``name`` when it finished with these settings, else None."""
        path = self.record_path(name)
        if not path.is_file():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        recorded = record.get("settings")
        if recorded != plain(settings):
            changed = ", ".join(settings_differences(recorded, plain(settings))) or "unreadable record"
            self.log(f"stage {name}: settings changed ({changed}); running it again")
            return None
        return record["result"]

    def recorded(self, prefix: str, matching: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """{name: result} of the finished stages named ``prefix*`` whose settings include ``matching``."""
        found = {}
        for path in sorted(self.folder.glob(f"{prefix}*.json")):
            record = json.loads(path.read_text(encoding="utf-8"))
            settings = record.get("settings", {})
            if all(settings.get(key) == value for key, value in plain(matching).items()):
                found[path.stem] = record["result"]
        return found

    def run(self, name: str, settings: dict[str, Any], work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``work()``'s result, or the recorded one when ``name`` already finished with ``settings``."""
        result = self.done(name, settings)
        if result is not None:
            self.log(f"stage {name}: already done, skipped")
            return result
        self.log(f"stage {name}: running")
        result = plain(work())
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"settings": plain(settings), "result": result}
        write_text_atomic(self.record_path(name), json.dumps(record, indent=2) + "\n")
        return result


def plain(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples as lists, paths as strings, 0-d tensors as numbers)."""
    return json.loads(json.dumps(value, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    return str(value)
