"""kill -9 in the middle of `zoo train`, then the same command: the run resumes from its last
checkpoint and ends with exactly the weights and results of a run never killed. (The search apps'
kills are tested with them: apps/esr_ea/tests, packages/sr-search-*/tests; sr_train's resume is
bitwise identical for every app that trains through it: packages/sr-train/tests/test_resume.py.)"""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
import torch
from fault_runs import finish, run, start, wait_until

from sr_train import load_checkpoint

RECIPE = """
model: {name: espcn}
data: {patch_size: 32, patches_per_epoch: 64, val: none, test: [samples]}
train: {steps: 24, batch_size: 8, lr: 1.0e-3, checkpoint_every: 4, log_every: 4, val_ssim: false}
"""
TRAIN = ["train", "--config", "tiny.yaml", "--data", "samples", "--quiet"]


def checkpoint_step(path) -> int:
    """The step of the checkpoint at `path` (0 while there is none)."""
    try:
        return load_checkpoint(path)["train_state"]["step"]
    except (FileNotFoundError, ValueError, KeyError):
        return 0


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_zoo_train_killed_mid_run_resumes_to_the_result_of_an_unbroken_run(tmp_path):
    (tmp_path / "tiny.yaml").write_text(RECIPE)
    unbroken = start("zoo", *TRAIN, "--out", "unbroken", cwd=tmp_path, stdout=subprocess.DEVNULL)
    killed = start("zoo", *TRAIN, "--out", "killed", cwd=tmp_path, stdout=subprocess.DEVNULL)
    wait_until(lambda: 4 <= checkpoint_step(tmp_path / "killed" / "last.pt") < 24, killed, "a checkpoint")
    killed.kill()
    finish(killed)
    err = finish(unbroken)
    assert unbroken.returncode == 0, err
    resumed = run("zoo", *TRAIN, "--out", "killed", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    ends = [load_checkpoint(tmp_path / run_name / "last.pt") for run_name in ("unbroken", "killed")]
    assert ends[0]["train_state"]["step"] == ends[1]["train_state"]["step"] == 24
    for name, tensor in ends[0]["state_dict"].items():
        assert torch.equal(tensor, ends[1]["state_dict"][name]), name
    results = [
        json.loads((tmp_path / run_name / "results.json").read_text()) for run_name in ("unbroken", "killed")
    ]
    assert results[0]["benchmarks"] == results[1]["benchmarks"]
