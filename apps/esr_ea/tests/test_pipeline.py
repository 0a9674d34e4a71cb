"""`esr-ea` end to end on the bundled photos with the seed's example config shrunk to a tiny budget:
the results folder, re-runs that redo nothing, a kill that resumes, refused setting changes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from sr_data import SampleImages, write_image
from sr_deploy import load_trained
from sr_esr_ea.cli import main
from sr_search_evo import esrn_params

pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")

SEED_EXAMPLE = Path(__file__).parent / "seed_example.yaml"
TINY_DATA = {"patch_size": 16, "batch_size": 4, "patches_per_epoch": 8, "val": "holdout:1", "val_crop": 32}


def tiny_budget(test_folder) -> list[str]:
    """--set arguments that shrink the seed's budget (its search space and parameter window stay)."""
    overrides = {
        "nas.dataset": TINY_DATA,
        "nas.search_algorithm.policy": {"num_generation": 2, "num_individual": 2, "num_elitism": 1},
        "nas.trainer.epochs": 1,
        "fully_train.top_k": 2,
        "fully_train.dataset": TINY_DATA,
        "fully_train.trainer": {"epochs": 2, "lr_scheduler": {"milestones": [1]}, "val_ssim": False},
        "evaluate.test": [str(test_folder)],
    }
    args = []
    for key, value in overrides.items():
        args += ["--set", f"{key}={json.dumps(value)}"]
    return args


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """The seed example as a file, a 2-image test folder (crops of the bundled test photos), args."""
    root = tmp_path_factory.mktemp("esr")
    config = SEED_EXAMPLE
    tests = root / "tiny_test"
    photos = SampleImages("test", scale=2)
    for index in range(2):
        hr = photos[index]["hr"]
        top, left = hr.shape[1] // 2, hr.shape[2] // 2
        write_image(tests / f"crop{index}.png", hr[:, top : top + 48, left : left + 40])
    args = ["--config", str(config), "--data", "samples", "--quiet", *tiny_budget(tests)]
    return root, args


@pytest.fixture(scope="module")
def finished(setup):
    root, args = setup
    out = root / "run"
    assert main([*args, "--out", str(out)]) == 0
    return out, args


def test_the_results_folder_is_complete(finished):
    out, _ = finished
    for name in (
        "config.yaml",
        "run.json",
        "esr_ea.log",
        "history.jsonl",
        "population.json",
        "best_genes.json",
        "best_genes.txt",
        "pareto.png",
        "table.md",
        "table.json",
    ):
        assert (out / name).is_file(), name
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert 2 <= len(history) <= 4  # 2 generations x 2 individuals, cached repeats not retrained
    for record in history:
        assert 315000 <= record["params"] <= 325000 and len(record["decoded"]) >= 16
    best = json.loads((out / "best_genes.json").read_text())
    assert [b["rank"] for b in best] == [1, 2] and best[0]["psnr"] >= best[1]["psnr"]
    table = json.loads((out / "table.json").read_text())
    assert table["test_sets"] == ["tiny_test"] and len(table["candidates"]) == 2
    for rank, row in enumerate(table["candidates"], 1):
        folder = out / f"top{rank}"
        assert row["genes"] == best[rank - 1]["genes"]
        assert row["params"] == esrn_params(row["genes"], G0=32, scale=2)
        assert 0 < row["benchmarks"]["tiny_test"]["psnr"] < 100 and row["macs_720p"] > 0
        assert row["train_steps"] == 2 * (8 // 4) and row["deploy_max_abs_diff"] == 0.0
        model, ckpt = load_trained(folder / "best.pt")
        assert ckpt["model_kwargs"]["genes"] == row["genes"]
        assert model(torch.rand(1, 3, 9, 7)).shape == (1, 3, 18, 14)
        if row["onnx"] is not None:
            assert (folder / "model.onnx").stat().st_size > 10_000
    text = (out / "table.md").read_text()
    assert "| bicubic |" in text and "| top2 |" in text and "tiny_test PSNR / SSIM" in text
    assert "deploy is the identity for ESRN" in (out / "esr_ea.log").read_text()


def test_a_rerun_redoes_nothing_and_other_settings_are_refused(finished, capsys):
    out, args = finished
    watched = [out / "history.jsonl", out / "top1" / "last.pt", out / "top2" / "results.json"]
    before = {path: path.stat().st_mtime_ns for path in watched}
    assert main([*args, "--out", str(out)]) == 0
    assert main(["--out", str(out), "--resume", "--quiet"]) == 0
    assert {path: path.stat().st_mtime_ns for path in watched} == before
    log = (out / "esr_ea.log").read_text()
    assert "top1: already fully trained" in log and "top2: already evaluated" in log
    capsys.readouterr()
    assert main([*args, "--out", str(out), "--set", "nas.trainer.epochs=3"]) == 2
    assert "nas.trainer.epochs: 1 -> 3" in capsys.readouterr().err


def test_a_killed_run_resumes_without_redoing_finished_work(setup):
    """SIGKILL during the first full training; the re-run keeps the search and continues the training."""
    root, args = setup
    out = root / "killed"
    args = [
        *args,
        "--set",
        "fully_train.trainer.epochs=40",
        "--set",
        "fully_train.trainer.checkpoint_every=2",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "sr_esr_ea.cli", *args, "--out", str(out)], env=env)
    checkpoint = out / "top1" / "last.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert checkpoint.exists(), "the run ended or stalled before its first full-training checkpoint"
    assert not (out / "top1" / "trained.json").exists()
    history = (out / "history.jsonl").read_text()
    assert main([*args, "--out", str(out)]) == 0
    assert (out / "history.jsonl").read_text() == history  # no candidate trained again
    assert "resuming" in (out / "esr_ea.log").read_text()
    assert "resumed at step" in (out / "top1" / "train.log").read_text()
    assert yaml.safe_load((out / "config.yaml").read_text())["fully_train"]["trainer"]["epochs"] == 40
    assert json.loads((out / "top1" / "trained.json").read_text())["steps"] == 40 * 2
