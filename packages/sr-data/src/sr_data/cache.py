"""Decode-once cache: decoded images as .npy files, memory-mapped on every later read.

A cache entry is keyed by the source file's absolute path, modification time and size plus a
variant string (e.g. "bicubic_x2" for an LR image made from it), so an edited file is decoded again.
Entries are written to a temporary file and renamed, so DataLoader workers and concurrent runs that
share a ``cache_dir`` never see a partial file; at worst two of them decode the same image once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sr_data.atomic import atomic_write


class DecodeCache:
    """Decoded images (uint8/uint16 arrays) stored under ``cache_dir`` and memory-mapped read-only."""

    def __init__(self, cache_dir: str | os.PathLike):
        self.cache_dir = Path(cache_dir)  # created on the first write, not here
        self._opened: dict[tuple[str, str], np.ndarray] = {}

    def __getstate__(self) -> dict:
        # memory maps are per process; a worker opens its own
        return {"cache_dir": self.cache_dir, "_opened": {}}

    def entry_path(self, source: Path, variant: str = "") -> Path:
        """The .npy file that holds ``source`` (decoded, or its ``variant``)."""
        stat = source.stat()
        key = f"{source.resolve()}|{stat.st_mtime_ns}|{stat.st_size}|{variant}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:20]
        return self.cache_dir / f"{source.stem}-{variant or 'decoded'}-{digest}.npy"

    def load(self, source: Path, make: Callable[[], np.ndarray], variant: str = "") -> np.ndarray:
        """The cached array for ``source``/``variant``, made with ``make()`` and stored on first use."""
        memo_key = (str(source), variant)
        if memo_key in self._opened:
            return self._opened[memo_key]
        entry = self.entry_path(source, variant)
        if not entry.exists():
            self._write(entry, make())
        array = np.load(entry, mmap_mode="r")
        self._opened[memo_key] = array
        return array

    def _write(self, entry: Path, array: np.ndarray) -> None:
        with atomic_write(entry) as stream:
            np.save(stream, np.ascontiguousarray(array))
