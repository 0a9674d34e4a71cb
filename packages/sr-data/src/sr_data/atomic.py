"""Atomic file writes: a file either keeps its old content or has the complete new one.

Every long-running job of the toolkit (caches, images, checkpoints, result tables) writes through
this, so a kill mid-write never leaves a truncated file behind. A write that the operating system
refuses (a full disk) raises an OSError naming the file being written, whatever the writer made of
it (torch.save, for one, reports a failed write as a RuntimeError without its cause).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

NO_ROOM_BYTES = 1 << 20  # less free space than this after a short write: the disk is full


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _RecordedFile(io.FileIO):
    """A file that keeps the OSError of its failed write, for writers that replace it with their own."""

    failure: OSError | None = None

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except OSError as err:
            self.failure = err
            raise


def _no_room(folder: Path) -> bool:
    """Whether the file system of ``folder`` is (all but) full: why a write came up short when the
    writer says so in its own words (numpy: "786432 requested and 122752 written"), without errno."""
    try:
        return shutil.disk_usage(folder).free < NO_ROOM_BYTES
    except OSError:
        return False


@contextmanager
def naming_the_file(path: str | os.PathLike) -> Iterator[None]:
    """Re-raise an OSError of the block that names no file (or only a temporary one) as one naming
    ``path``: "[Errno 28] No space left on device" alone does not say what could not be written."""
    try:
        yield
    except OSError as err:
        if err.filename is not None and not Path(str(err.filename)).name.endswith(".tmp"):
            raise
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err


@contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", encoding: str | None = None, fsync: bool = False
) -> Iterator[IO]:
    """Open a temporary file beside ``path`` (``mode`` "wb" or "w"); when the block ends without
    error it replaces ``path``.

    On an error the temporary file is removed and ``path`` is untouched; a write the operating
    system refused is an OSError naming ``path``. The new file gets the permissions a plain
    ``open`` would give it (not ``mkstemp``'s owner-only 0600). ``fsync`` also flushes it to disk
    before the rename (for checkpoints).
    """
    path = Path(path)
    with naming_the_file(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        raw = _RecordedFile(handle, "wb")
        try:
            os.chmod(temp, 0o666 & ~_umask())
            binary = io.BufferedWriter(raw)
            with binary if "b" in mode else io.TextIOWrapper(binary, encoding=encoding) as stream:
                yield stream
                if fsync:
                    stream.flush()
                    os.fsync(stream.fileno())
            os.replace(temp, path)
        except BaseException as err:
            failure = raw.failure if raw.failure is not None else err
            if isinstance(failure, OSError) and failure.errno is None and _no_room(path.parent):
                failure = OSError(
                    errno.ENOSPC, os.strerror(errno.ENOSPC)
                )  # told while the file holds the room
            raw.close()
            Path(temp).unlink(missing_ok=True)
            if failure is not err:
                raise failure from err
            raise


def check_output_folder(path: str | os.PathLike) -> None:
    """Raise, before any work, the OSError that writing into the folder ``path`` would meet: ``path``
    (or, while it is not there, the nearest folder above it, where it would be made) must be a folder
    this process may write in. Creates nothing."""
    existing = Path(path)
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "exists and is not a folder", str(existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        reason = "cannot be written (no permission, or a read-only file system)"
        raise PermissionError(errno.EACCES, reason, str(existing))


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w", encoding="utf-8") as stream:
        stream.write(text)
