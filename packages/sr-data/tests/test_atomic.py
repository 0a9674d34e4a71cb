"""atomic_write: all or nothing, and the permissions of a plain open()."""

import os
import stat
import subprocess
import sys

import pytest

from sr_data import atomic_write, write_text_atomic


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    write_text_atomic(path, "old")
    with pytest.raises(RuntimeError), atomic_write(path, "w") as stream:
        stream.write("half of the new")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_new_files_get_the_permissions_of_a_plain_open(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.txt", "x")
        with atomic_write(tmp_path / "nested" / "b.bin", fsync=True) as stream:
            stream.write(b"y")
    finally:
        os.umask(old)
    for path in (tmp_path / "a.txt", tmp_path / "nested" / "b.bin"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert (tmp_path / "nested" / "b.bin").read_bytes() == b"y"


FULL_DISK = """
import resource, sys, torch
from sr_data import atomic_write, write_text_atomic
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))  # a file over 64 KiB cannot be written
try:
    if sys.argv[1] == "torch.save":
        with atomic_write(sys.argv[2]) as stream:
            torch.save({"weights": torch.zeros(100_000)}, stream)
    else:
        write_text_atomic(sys.argv[2], "x" * 100_000)
except OSError as err:
    print(f"{type(err).__name__}|{err.filename}|{err.strerror}")
"""


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="RLIMIT_FSIZE: Linux")
@pytest.mark.parametrize("writer", ["torch.save", "text"])
def test_a_write_the_system_refuses_is_an_os_error_naming_the_file(tmp_path, writer):
    """A real refused write (a file-size limit, as a full disk refuses): an OSError naming the file
    being written, also from torch.save (which reports the failed write as a RuntimeError without
    its cause); nothing is left behind."""
    path = tmp_path / "last.pt"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, writer, str(path)], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == f"OSError|{path}|File too large", result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []
