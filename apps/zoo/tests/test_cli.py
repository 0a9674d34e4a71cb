"""`zoo train|eval|deploy|export` end to end on the bundled samples with a few steps (CPU), and the
fault cases through the real command line, as subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from sr_deploy import load_trained
from sr_deploy.testing import one_line_error
from sr_train import load_checkpoint
from sr_zoo import __version__
from sr_zoo.cli import main

RECIPE = """
model: {name: espcn}
data: {patch_size: 32, patches_per_epoch: 64, val: samples, test: [samples]}
train: {steps: 6, batch_size: 8, lr: 1.0e-3, val_every: 3, val_ssim: false, log_every: 2}
"""
# no CUDA here: any CUDA device is unavailable; with CUDA, device 99 does not exist
ABSENT_DEVICE = "cuda:99" if torch.cuda.is_available() else "cuda"
DEADLINE_S = 300  # generous bound of the handshakes below (never a race: they poll for a file or line)


def zoo(*args: object, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """`zoo ARGS` in a fresh Python process: what a user runs."""
    command = [sys.executable, "-m", "sr_zoo.cli", *map(str, args)]
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=environment, timeout=DEADLINE_S
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("zoo")
    recipe = tmp / "tiny.yaml"
    recipe.write_text(RECIPE)
    out = tmp / "run"
    assert main(["train", "--data", "samples", "--config", str(recipe), "--out", str(out), "--quiet"]) == 0
    return recipe, out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_train_writes_a_complete_results_folder(trained):
    _, out = trained
    for name in (
        "config.yaml",
        "train.log",
        "metrics.jsonl",
        "last.pt",
        "best.pt",
        "results.json",
        "benchmark.md",
        "benchmark.json",
        "benchmark.csv",
        "deployed.pt",
        "model.onnx",
        "stages/results.json",
    ):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_mode & 0o044, f"{name} is readable only by its owner"
    results = json.loads((out / "results.json").read_text())
    assert results["model"] == "espcn" and results["steps"] == 6 and results["params"] > 0
    assert results["deploy_max_abs_diff"] < 1e-4 and results["onnx_max_abs_diff"] < 1e-4
    assert list(results["benchmarks"]) == ["samples-test"] and results["patches_per_s"] > 0
    settings = (out / "config.yaml").read_text()
    assert str(out) not in settings and "out_dir" not in settings  # the folder is not a setting


def test_finished_run_rerun_does_nothing_from_any_spelling_of_its_path(trained):
    recipe, out = trained
    before = snapshot(out)
    run = zoo("train", "--config", recipe.name, "--out", out.name, cwd=out.parent)  # relative paths
    assert run.returncode == 0, run.stderr
    assert "finished run" in run.stderr and "samples-test" in run.stderr
    after = snapshot(out)
    log = after.pop("train.log")
    assert after == {k: v for k, v in before.items() if k != "train.log"}
    assert log.startswith(before["train.log"]) and b"resumed" not in log


def test_changed_setting_is_refused_with_the_diff(trained):
    recipe, out = trained
    before = snapshot(out)
    run = zoo("train", "--config", recipe, "--out", out, "--lr", "0.1", "--quiet")
    one_line_error(run, 2, str(out), "train.lr: 0.001 -> 0.1")
    assert snapshot(out) == before  # config.yaml byte-identical, and nothing else written either


def test_eval_deploy_export_from_the_checkpoint(trained, tmp_path, capsys):
    _, out = trained
    weights = str(out / "best.pt")
    assert main(["eval", "--weights", weights, "--sets", "samples", "--out", str(tmp_path / "ev")]) == 0
    assert "samples-test" in (tmp_path / "ev" / "benchmark.md").read_text()
    assert main(["eval", "--weights", str(out), "--sets", "samples"]) == 0  # a run folder: its best.pt
    assert main(["deploy", "--weights", weights, "--out", str(tmp_path / "dep")]) == 0
    model, _ = load_trained(out / "best.pt")
    deployed, _ = load_trained(tmp_path / "dep" / "deployed.pt")
    x = torch.rand(1, 3, 10, 12)
    torch.testing.assert_close(deployed(x), model(x), rtol=1e-5, atol=1e-5)
    assert main(["export", "--weights", weights, "--out", str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 1000


def test_rejected_train_commands_leave_no_folder(tmp_path):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(RECIPE)
    out = tmp_path / "run"
    one_line_error(
        zoo("train", "--config", recipe, "--out", out, "--device", ABSENT_DEVICE), 2, ABSENT_DEVICE
    )
    (tmp_path / "empty.yaml").write_text("")
    one_line_error(zoo("train", "--config", tmp_path / "empty.yaml", "--out", out), 2, "empty.yaml")
    (tmp_path / "twice.yaml").write_text(RECIPE + "model: {name: fsrcnn}\n")
    one_line_error(
        zoo("train", "--config", tmp_path / "twice.yaml", "--out", out), 2, "twice.yaml", "'model'"
    )
    one_line_error(zoo("train", "--config", recipe, "--out", out, "--data", "Set5_HR"), 2, "Set5_HR")
    assert not out.exists()
    (tmp_path / "file").write_text("not a folder")
    one_line_error(zoo("train", "--config", recipe, "--out", tmp_path / "file"), 1, str(tmp_path / "file"))


def test_train_with_an_unknown_model_and_no_recipe_names_the_model_and_the_known_ones(tmp_path, capsys):
    assert main(["train", "--model", "nosuchnet", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert (
        error.startswith("zoo train: error: unknown model 'nosuchnet'; registered models: ")
        and "imdn" in error
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--scale", "3"], ["patch_size 32", "scale 3"]),  # found while the training patches are set up
        (["--batch-size", "128"], ["fewer than one batch"]),  # found while the trainer is set up
        (["--model", "nope"], ["nope"]),
    ],
)
def test_checks_that_build_the_run_leave_no_folder(tmp_path, capsys, args, words):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(RECIPE)
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "run"), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert all(word in err for word in words), err
    assert not (tmp_path / "run").exists()


def test_model_kwargs_that_do_not_fit_name_the_recipe(tmp_path, capsys):
    recipe = tmp_path / "typo.yaml"
    recipe.write_text(RECIPE.replace("{name: espcn}", "{name: espcn, kwargs: {widht: 8}}"))
    assert main(["train", "--config", str(recipe), "--out", str(tmp_path / "typo")]) == 2
    err = capsys.readouterr().err
    assert "widht" in err and "typo.yaml" in err and not (tmp_path / "typo").exists()


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {DEADLINE_S} s"
        time.sleep(0.2)


def test_ctrl_c_keeps_a_checkpoint_and_the_same_command_resumes(tmp_path):
    recipe = tmp_path / "long.yaml"
    recipe.write_text(
        "model: {name: espcn}\ndata: {patch_size: 32, patches_per_epoch: 64, val: none, test: [samples]}\n"
        "train: {steps: 1000000, batch_size: 8, checkpoint_every: 2, log_every: 2}\n"
    )
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "sr_zoo.cli",
        "train",
        "--config",
        str(recipe),
        "--out",
        str(out),
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    wait_for((out / "last.pt").is_file, "last.pt")  # training is under way
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=DEADLINE_S)
    assert first.returncode == 130 and "rerun the same command to resume" in err and "Traceback" not in err
    step = load_checkpoint(out / "last.pt")["step"]
    assert f"interrupted at step {step} of 1000000" in err
    second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    wait_for(lambda: f"resumed at step {step}" in (out / "train.log").read_text(), "resume line")
    second.send_signal(signal.SIGINT)
    second.communicate(timeout=DEADLINE_S)
    assert second.returncode == 130 and load_checkpoint(out / "last.pt")["step"] >= step


def test_eval_faults_are_one_line_errors(tmp_path):
    missing = zoo("eval", "--model", "bicubic", "--sets", "Set5", SR_DATASETS=str(tmp_path))
    one_line_error(missing, 2, "'Set5'")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    one_line_error(zoo("eval", "--weights", tmp_path / "junk.pt"), 2, str(tmp_path / "junk.pt"))
    one_line_error(zoo("eval", "--model", "bicubic", "--device", ABSENT_DEVICE), 2, ABSENT_DEVICE)


def test_default_test_sets_are_taken_where_found(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))  # no benchmark here
    assert main(["eval", "--model", "bicubic"]) == 0
    out = capsys.readouterr().out
    assert "optional test sets not found (skipped): Set5, Set14, BSD68" in out and "samples-test" in out


def test_version():
    run = zoo("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"zoo {__version__}"
