"""A full disk: the command stops with one line naming the file it was writing and the cause, and
the rerun, once there is room, goes on. On a real full file system (a small tmpfs, where this
machine lets an unprivileged user mount one in a namespace of its own) and, everywhere, with a
file-size limit the kernel enforces on every write (RLIMIT_FSIZE: "File too large")."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fault_runs import HANG_BOUND_S, command, environment, run

from sr_deploy.testing import one_line_error

RECIPE = """
model: {name: espcn}
data: {patch_size: 32, patches_per_epoch: 16, val: none, test: [samples]}
train: {steps: 2, batch_size: 8, lr: 1.0e-3, val_ssim: false, log_every: 1}
"""
# mount a small tmpfs on the results folder, train; give it room, train again (each: stderr, status)
FULL_THEN_ROOM = """
mount -t tmpfs -o size=128k tmpfs "$1" || exit 97
shift
"$@" 2> full.err; echo $? > full.status
mount -o remount,size=64m "$(dirname "$1")/run" 2>/dev/null || mount -o remount,size=64m run
"$@" 2> room.err; echo $? > room.status
"""


def can_mount_a_tmpfs() -> str | None:
    """None when `unshare` lets this user mount a tmpfs in a namespace of its own, else why not."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return "needs Linux's unshare"
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        text=True,
    )
    return None if probe.returncode == 0 else f"cannot mount a tmpfs here ({probe.stderr.strip()})"


def test_zoo_train_on_a_full_tmpfs_names_the_file_and_the_rerun_goes_on(tmp_path):
    reason = can_mount_a_tmpfs()
    if reason is not None:
        pytest.skip(reason)
    (tmp_path / "tiny.yaml").write_text(RECIPE)
    (tmp_path / "run").mkdir()
    train = command("zoo", "train", "--config", "tiny.yaml", "--data", "samples", "--out", "run", "--quiet")
    script = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", FULL_THEN_ROOM, "sh", "run"]
    subprocess.run([*script, *train], cwd=tmp_path, env=environment(), timeout=2 * HANG_BOUND_S, check=True)
    full = (tmp_path / "full.err").read_text().strip()
    assert (tmp_path / "full.status").read_text().strip() == "1", full
    assert len(full.splitlines()) == 1 and full.startswith("zoo train: error: run/"), full
    assert full.endswith(": no space left on the device"), full
    room = (tmp_path / "room.err").read_text()
    assert (tmp_path / "room.status").read_text().strip() == "0", room


def limit_file_size(limit: int):
    """A preexec_fn: files of the child cannot grow past `limit` bytes (the kernel refuses the write)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as Linux enforces it")
def test_a_write_the_kernel_refuses_names_the_file_and_the_rerun_goes_on(tmp_path, make_checkpoint):
    """`zoo deploy` writes deployed.pt through torch.save (which reports a failed write as a
    RuntimeError without its cause): the line names the file; with room, the rerun writes it."""
    weights = make_checkpoint("imdn_rtc")
    args = ["deploy", "--weights", weights, "--out", "deploy"]
    cramped = subprocess.run(
        command("zoo", *args),
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=HANG_BOUND_S,
        preexec_fn=limit_file_size(16_000),
    )
    one_line_error(cramped, 1, f"zoo deploy: error: deploy{Path('/')}deployed.pt: File too large")
    assert sorted(p.name for p in (tmp_path / "deploy").iterdir()) == []
    roomy = run("zoo", *args, cwd=tmp_path)
    assert roomy.returncode == 0, roomy.stderr
    assert (tmp_path / "deploy" / "deployed.pt").is_file() and (tmp_path / "deploy" / "model.onnx").is_file()
