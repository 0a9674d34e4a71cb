"""Reading a torch.save file safely, for every command that loads weights or checkpoints.

`torch.load(..., weights_only=True)` runs no code from the file, but on a refusal it prints warnings
and raises paragraphs that end in the advice to load the file with ``weights_only=False``: advice a
user must never act on for a file of unknown origin. `load_weights_only` keeps torch quiet and says
in one line what the file is: a torch.save file holding Python objects, a plain pickle, or
something unreadable (truncated, another format).
"""

from __future__ import annotations

import pickle
import re
import warnings
from pathlib import Path
from typing import Any

import torch

# torch.save's legacy (pre-zip) format opens with its magic number, pickled with protocol 2
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019")
_ZIP_MAGIC = b"PK\x03\x04"  # a zip archive's first local file header


def is_torch_file(path: str | Path) -> bool:
    """Whether ``path`` opens as one of torch.save's formats does (a zip archive, or the legacy format),
    also when it is truncated."""
    with open(path, "rb") as stream:
        head = stream.read(len(_LEGACY_MAGIC))
    return head == _LEGACY_MAGIC or head.startswith(_ZIP_MAGIC)


def _is_pickle(path: Path) -> bool:
    """Whether ``path`` opens as a pickle of protocol 2 or later does."""
    with open(path, "rb") as stream:
        return stream.read(1) == b"\x80"


def load_weights_only(path: str | Path, map_location: str | torch.device = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` without torch's warnings; a file that cannot be loaded
    so is a one-line ValueError naming it and saying what it holds."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types (KeyError, RuntimeError, ...)
        raise ValueError(f"{path}: {_refusal(Path(path), err)}") from None


def _refusal(path: Path, err: Exception) -> str:
    torch_file = is_torch_file(path)
    text = str(err)
    if isinstance(err, pickle.UnpicklingError) and "weights only load failed" in text.lower():
        if torch_file:
            found = re.search(r"GLOBAL (\S+)", text)
            what = f" ({found.group(1)})" if found else ""
            return (
                f"holds Python objects besides tensors{what}, which a safe (weights_only) load refuses; "
                "only checkpoints of plain tensors and containers load"
            )
        if _is_pickle(path):
            return "a plain Python pickle, not a torch.save file; refused, as loading it could run code"
    kind = "truncated or damaged torch.save file" if torch_file else "not a torch.save file"
    return f"not a readable checkpoint ({kind})"
