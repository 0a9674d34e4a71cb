"""population.json: the search state after each generation, written atomically.

Holds the next generation to evaluate, the elites, the generation number, the random generator's
state, and the settings/space config the search was started with (checked on resume).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic

CHECKPOINT_NAME = "population.json"
FORMAT = "sr_search_evo/population/1"
# Settings that may differ on resume: raising num_generation extends a finished or running search.
RESUMABLE_CHANGES = frozenset({"num_generation"})


def rng_state_to_json(rng: random.Random) -> list:
    version, internal, gauss_next = rng.getstate()
    return [version, list(internal), gauss_next]


def rng_from_json(state: list) -> random.Random:
    rng = random.Random()
    version, internal, gauss_next = state
    rng.setstate((version, tuple(internal), gauss_next))
    return rng


def save_checkpoint(out_dir: str | os.PathLike, state: dict[str, Any]) -> None:
    write_text_atomic(Path(out_dir) / CHECKPOINT_NAME, json.dumps({"format": FORMAT, **state}, indent=1))


def load_checkpoint(out_dir: str | os.PathLike) -> dict[str, Any] | None:
    path = Path(out_dir) / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    if state.get("format") != FORMAT:
        raise ValueError(f"{path}: format {state.get('format')!r} is not {FORMAT!r}")
    return state


def check_same(
    path: Path, section: str, saved: dict, current: dict, allowed: frozenset = frozenset()
) -> None:
    """Raise naming the first key whose value differs between the checkpoint and this run."""
    for key in sorted(set(saved) | set(current)):
        if key in allowed:
            continue
        if saved.get(key, "<missing>") != current.get(key, "<missing>"):
            raise ValueError(
                f"{path}: cannot resume, {section}.{key} was {saved.get(key, '<missing>')!r} and is now "
                f"{current.get(key, '<missing>')!r}; use the original settings or a new output folder"
            )
