"""Deprecated home of the run-settings record (kept for one release): use `sr_train.RunFolder`."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sr_train.run_folder import RunFolder


def record_run_settings(
    out_dir: str | Path, settings: dict[str, Any], may_change: Iterable[str] = ()
) -> None:
    """Deprecated: `RunFolder(out_dir).open(settings, may_change)`."""
    warnings.warn(
        "record_run_settings is deprecated; use sr_train.RunFolder(out).open(settings)",
        DeprecationWarning,
        stacklevel=2,
    )
    RunFolder(out_dir).open(settings, may_change)
