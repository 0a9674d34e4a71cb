"""What a search writes every epoch, atomically, and what a killed search resumes from.

Files in the search folder:

- `search_state.pt`: the supernet (weights, alphas, buffers), both optimisers, the schedule, the
  penalty's normaliser, the best genotype so far, the history, the random generators and the next
  epoch; loaded with `weights_only=True`;
- `best_arch.gen`: the genotype of the epoch with the lowest selection loss so far (what `augment`
  trains), and `last_arch.gen`, the genotype of the latest epoch;
- `alpha_history.jsonl`: one line per finished epoch (losses, temperature, entropy, BitOps,
  genotype and the softmax of every layer's alphas).

The state is written last, so after a kill between the files the resumed run redoes that epoch
and rewrites the others from the state's history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic
from sr_train import SettingsChanged, load_checkpoint, save_checkpoint, settings_differences

STATE_FILE = "search_state.pt"
BEST_GENOTYPE_FILE = "best_arch.gen"
LAST_GENOTYPE_FILE = "last_arch.gen"
HISTORY_FILE = "alpha_history.jsonl"
STATE_FORMAT = "sr-quantnas-search-v1"


def write_epoch_files(
    out_dir: Path, history: list[dict[str, Any]], best_genotype: str, last_genotype: str
) -> None:
    """Rewrite the history and both genotype files (each atomically)."""
    write_text_atomic(out_dir / HISTORY_FILE, "".join(json.dumps(row) + "\n" for row in history))
    write_text_atomic(out_dir / BEST_GENOTYPE_FILE, best_genotype + "\n")
    write_text_atomic(out_dir / LAST_GENOTYPE_FILE, last_genotype + "\n")


def save_state(out_dir: Path, state: dict[str, Any]) -> None:
    """Write `search_state.pt` atomically (fsynced)."""
    save_checkpoint(out_dir / STATE_FILE, {"format": STATE_FORMAT, **state})


def load_state(out_dir: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The saved state of a search in `out_dir`, or None; a state saved with other settings is refused
    (sr_train.SettingsChanged, a ValueError naming each changed key)."""
    path = out_dir / STATE_FILE
    if not path.exists():
        return None
    state = load_checkpoint(path)
    if state.get("format") != STATE_FORMAT:
        raise ValueError(f"{path} is not a QuantNAS search state (format {state.get('format')!r})")
    changed = settings_differences(state["settings"], settings)
    if changed:
        raise SettingsChanged(
            f"{path} was saved by a search with other settings ({', '.join(changed)}): "
            f"use another output folder or the same config to resume"
        )
    return state


def read_history(out_dir: str | Path) -> list[dict[str, Any]]:
    """The per-epoch lines of `alpha_history.jsonl` (empty when absent)."""
    path = Path(out_dir) / HISTORY_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
