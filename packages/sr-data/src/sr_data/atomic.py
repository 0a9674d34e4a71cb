"""Atomic file writes: a file either keeps its old content or has the complete new one.

Every long-running job of the toolkit (caches, images, checkpoints, result tables) writes through
this, so a kill mid-write never leaves a truncated file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", encoding: str | None = None, fsync: bool = False
) -> Iterator[IO]:
    """Open a temporary file beside ``path``; when the block ends without error it replaces ``path``.

    On an error the temporary file is removed and ``path`` is untouched. The new file gets the
    permissions a plain ``open`` would give it (not ``mkstemp``'s owner-only 0600). ``fsync`` also
    flushes it to disk before the rename (for checkpoints).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temp, 0o666 & ~_umask())
        with os.fdopen(handle, mode, encoding=encoding) as stream:
            yield stream
            if fsync:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w", encoding="utf-8") as stream:
        stream.write(text)
