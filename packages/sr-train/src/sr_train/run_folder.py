"""A run folder: the one vocabulary every pipeline of the toolkit uses for its results folder.

- **Settings**: `config.yaml` records what the run was asked for. `open(settings)` is called once
  every check of the command has passed, so a refused command leaves nothing behind that would
  block its corrected rerun. A later run into the same folder must ask for the same settings —
  compared by meaning, not spelling (a path is compared resolved, a tuple equals a list, `2e-4`
  equals `0.0002`) — or it is refused with the differences and nothing is overwritten. The folder's
  own path is not a setting: a run reached as `runs/r1` or by its absolute path, or moved, is the
  same run.
- **Stages**: `stage(name, work)` runs `work()` once; its result is kept in `stages/<name>.json`
  (the done-marker), so a rerun skips what is finished and a finished run rerun does nothing.
- **Log**: `log(text)` prints a line (unless quiet) and appends it, time-stamped, to `run.log`.
"""

from __future__ import annotations

import errno
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
import yaml

from sr_data import write_text_atomic
from sr_train.runlog import RunLog
from sr_train.strict_config import ConfigError

SETTINGS_FILE = "config.yaml"
STAGES_FOLDER = "stages"


class SettingsChanged(ConfigError):
    """A run folder asked to continue with other settings than it was started with."""


def path_setting(value: str | Path) -> str:
    """A path-or-word setting (`--data samples`, `--data ../photos`) in the form runs compare:
    an existing path resolved to an absolute one, any other word as given."""
    path = Path(value).expanduser()
    return str(path.resolve()) if path.exists() else str(value)


def plain(value: Any) -> Any:
    """`value` as JSON gives it back: tuples as lists, paths as strings, 0-d tensors as numbers,
    integral floats kept as floats (so 2e-4 and 0.0002 compare equal)."""
    return json.loads(json.dumps(value, default=_json_default))


def settings_differences(before: Any, after: Any, prefix: str = "") -> list[str]:
    """'key.sub: old -> new' for every leaf that differs between two nested mappings."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return [d for k in keys for d in settings_differences(before.get(k), after.get(k), f"{prefix}{k}.")]
    return [] if before == after else [f"{prefix[:-1] or 'settings'}: {before!r} -> {after!r}"]


class RunFolder:
    """One results folder: its settings record, its run log and its resumable stages."""

    def __init__(self, path: str | Path, quiet: bool = False, log_name: str = "run.log") -> None:
        self.path = Path(path)
        self.quiet = quiet
        self._log = RunLog(None, quiet)
        self._log_name = log_name

    # ---------------------------------------------------------------------------------- settings
    @property
    def settings_path(self) -> Path:
        return self.path / SETTINGS_FILE

    def recorded_settings(self) -> dict[str, Any] | None:
        """The settings the folder's run was started with, or None for a folder with no run."""
        if not self.settings_path.is_file():
            return None
        data = yaml.safe_load(self.settings_path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ConfigError(f"{self.settings_path}: not a settings record (delete it to start over)")
        return data

    def check(self, settings: dict[str, Any], may_change: Iterable[str] = ()) -> None:
        """Refuse (SettingsChanged, listing every difference) settings other than the recorded ones;
        `may_change` names dotted keys (e.g. "train.device") that a rerun may change. Writes nothing."""
        before = self.recorded_settings()
        if before is None:
            return
        allowed = tuple(f"{key}:" for key in may_change)
        changed = [
            d for d in settings_differences(plain(before), plain(settings)) if not d.startswith(allowed)
        ]
        if changed:
            raise SettingsChanged(
                f"{self.path} holds a run with other settings ({'; '.join(changed)}); rerun with the "
                f"recorded settings to continue it, or use another --out (or delete {self.path}) to "
                f"start over"
            )

    def open(self, settings: dict[str, Any], may_change: Iterable[str] = ()) -> RunFolder:
        """Check `settings` (see `check`), then create the folder and record them when it is new.
        Call it after every other check of the command: a refused command leaves nothing behind."""
        self.check(settings, may_change)
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(self.path))
        self.path.mkdir(parents=True, exist_ok=True)
        if self.recorded_settings() is None:
            write_text_atomic(self.settings_path, yaml.safe_dump(plain(settings), sort_keys=False))
        self._log = RunLog(self.path, self.quiet, log_name=self._log_name)
        return self

    # ----------------------------------------------------------------------------------------- log
    def log(self, text: str) -> None:
        """Print `text` (unless quiet) and append it to the run log (once the folder is open)."""
        self._log.message(text)

    # -------------------------------------------------------------------------------------- stages
    def stage_path(self, name: str) -> Path:
        return self.path / STAGES_FOLDER / f"{name}.json"

    def done(self, name: str) -> Any | None:
        """The recorded result of stage `name`, or None when it has not finished."""
        path = self.stage_path(name)
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))["result"]

    def finished(self, name: str) -> Any | None:
        """`done(name)`, and when the stage is done, a log line saying it is skipped."""
        result = self.done(name)
        if result is not None:
            self.log(f"{name}: already done, skipped")
        return result

    def record(self, name: str, result: Any, settings: dict[str, Any] | None = None) -> Any:
        """Mark stage `name` done with `result` (JSON-ready; returned as JSON gives it back). With
        `finished`, a pipeline calls its work itself: `folder.finished(n) or folder.record(n, work())`."""
        result = plain(result)
        record = {"settings": None if settings is None else plain(settings), "result": result}
        write_text_atomic(self.stage_path(name), json.dumps(record, indent=2) + "\n")
        return result

    def stage(self, name: str, work: Callable[[], Any], settings: dict[str, Any] | None = None) -> Any:
        """`work()`'s result (JSON-ready), run once: a rerun returns the recorded result. With
        `settings`, a stage recorded with other settings (say, a later stage's options) runs again."""
        path = self.stage_path(name)
        if path.is_file():
            record = json.loads(path.read_text(encoding="utf-8"))
            if settings is None or record.get("settings") == plain(settings):
                self.log(f"{name}: already done, skipped")
                return record["result"]
            changed = "; ".join(settings_differences(record.get("settings"), plain(settings)))
            self.log(f"{name}: settings changed ({changed}); running it again")
        return self.record(name, work(), settings)

    def finished_stages(self, prefix: str = "") -> dict[str, Any]:
        """{name: result} of the finished stages whose name starts with `prefix`."""
        folder = self.path / STAGES_FOLDER
        return {
            p.stem: json.loads(p.read_text(encoding="utf-8"))["result"]
            for p in sorted(folder.glob(f"{prefix}*.json"))
        }


def _json_default(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item()
    return str(value)
