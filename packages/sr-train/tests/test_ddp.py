"""DistributedDataParallel on CPU: 2 processes under torchrun with gloo."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from sr_train import Trainer, load_checkpoint

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.skipif(not dist.is_available(), reason="torch built without torch.distributed")
def test_two_gloo_ranks_match_one_process_with_the_global_batch(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(WORKER),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)

    # DistributedSampler gives rank r the items r, r+2, ... of each global batch of 2 x 4, and DDP
    # averages gradients: the same update as one process taking the whole batch of 8.
    spec = importlib.util.spec_from_file_location("ddp_worker", WORKER)
    worker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(worker)
    model, data, config = worker.build(2 * worker.BATCH)
    Trainer(model, data, None, config).fit()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(rank0[key], value, rtol=1e-5, atol=1e-6)
    assert not torch.equal(rank0["0.weight"], worker.build(8)[0].state_dict()["0.weight"])  # it trained

    ckpt = load_checkpoint(tmp_path / "run" / "last.pt")  # rank 0 wrote it, with the run's position
    assert ckpt["train_state"]["step"] == worker.STEPS and ckpt["best_psnr"] is not None
    assert (tmp_path / "run" / "metrics.jsonl").exists()
