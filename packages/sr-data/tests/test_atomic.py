"""atomic_write: all or nothing, and the permissions of a plain open()."""

import os
import stat

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
