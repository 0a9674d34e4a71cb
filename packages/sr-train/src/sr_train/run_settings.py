"""Refuse to resume a results folder with other settings than the ones it was started with.

A run writes its settings to `<out_dir>/config.yaml` when it starts; a later run into the same
folder (a resume) must ask for the same settings, or checkpoints, logs and tables of two different
experiments would be mixed. Settings that do not change results (device, progress display, ...) may
be named as allowed to change.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from sr_data import write_text_atomic

SETTINGS_FILE = "config.yaml"


def settings_differences(before: Any, after: Any, prefix: str = "") -> list[str]:
    """'key.sub: old -> new' for every leaf that differs between two nested mappings."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return [d for k in keys for d in settings_differences(before.get(k), after.get(k), f"{prefix}{k}.")]
    return [] if before == after else [f"{prefix[:-1]}: {before!r} -> {after!r}"]


def record_run_settings(
    out_dir: str | Path, settings: dict[str, Any], may_change: Iterable[str] = ()
) -> None:
    """Write `settings` to `out_dir/config.yaml`, or, when it is there, check they are the same.

    `may_change` lists dotted keys (e.g. "train.device") whose change is allowed on a resume; the
    first recorded settings are kept. Any other difference is a ValueError listing what changed.
    """
    out_dir = Path(out_dir)
    path = out_dir / SETTINGS_FILE
    if not path.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, yaml.safe_dump(settings, sort_keys=False))
        return
    allowed = tuple(f"{key}:" for key in may_change)
    before = yaml.safe_load(path.read_text(encoding="utf-8"))
    changed = [d for d in settings_differences(before, settings) if not d.startswith(allowed)]
    if changed:
        raise ValueError(
            f"{out_dir} holds a run with other settings ({', '.join(changed)}); "
            f"use another --out or delete {out_dir} to start over"
        )
