"""`quantnas` through its real command line (subprocesses): run folders that refuse other settings and
leave nothing behind when a command is rejected, one-line errors with exit statuses, resumable and
finished runs; the shipped configs; a shrunk `batch` end to end on the bundled sample photos (CPU)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from sr_deploy.testing import one_line_error
from sr_quantnas.cli import main
from sr_quantnas.config import CONFIG_DIRS, load_config
from sr_quantnas.version import __version__
from sr_train import find_config

# the keys of the reference's configs/quant_config.yaml (On-Point-RND/QuantNAS, 2022)
REFERENCE_KEYS = {
    "dataset": {"scale", "search_subsample", "batch_size", "crop_size", "files_list", "debug_mode"},
    "arch": {"bits", "channels", "c_fixed", "scale", "arch_pattern", "body_cells", "skip_mode", "primitives"},
    "env": {"run_name", "gpu", "log_dir", "im_dir", "workers", "seed", "print_freq"},
    "search": {
        *("warm_up", "load_path", "penalty", "alpha_selector", "sparse_type", "sparse_coef", "optimizer"),
        *("quant_noise", "lr_scheduler", "w_lr", "w_momentum", "w_weight_decay", "w_grad_clip", "epochs"),
        *("alpha_lr", "alpha_weight_decay", "temp_max", "temp_min"),
    },
    "train": {"warm_up", "lr_scheduler", "lr", "weight_decay", "print_freq", "epochs", "genotype_path"},
}

TINY = """
dataset: {scale: 2, search_subsample: 1.0, batch_size: 4, crop_size: 12, files_list: samples,
          patches_per_epoch: 16}
arch:
  bits: [8, 4]
  c_fixed: 8
  scale: 2
  arch_pattern: {head: 1, body: 1, skip: 1, upsample: 1, tail: 0}
  body_cells: 1
  skip_mode: False
  primitives:
    head: [simple_3x3, simple_1x1]
    body: [simple_3x3, simple_1x1]
    skip: [simple_1x1]
    upsample: [simple_3x3, simple_1x1]
    tail: [simple_3x3]
env: {gpu: cpu, log_dir: LOG_DIR, seed: 1, print_freq: 100}
search: {epochs: 1, quant_noise: True, alpha_lr: 3e-2}
train: {epochs: 2, warm_up: 1, lr: 1e-3, print_freq: 2}
"""
OTHER_GENOTYPE = (
    "Genotype_SR(head=[('simple_1x1', 8)], body=[('simple_1x1', 4)], tail=[], "
    "skip=[('simple_1x1', 8)], upsample=[('simple_3x3', 8)])"
)
UNAVAILABLE = "cuda:99" if torch.cuda.is_available() else "cuda"


def quantnas(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the `quantnas` command line in a fresh interpreter (one thread)."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    command = [sys.executable, "-m", "sr_quantnas.cli", *args]
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A folder holding tiny.yaml, a finished search (runs/search) and a finished augment (runs/train)."""
    root = tmp_path_factory.mktemp("quantnas")
    (root / "tiny.yaml").write_text(TINY.replace("LOG_DIR", "runs"))
    search = quantnas("search", "-c", "tiny.yaml", "--out", "runs/search", "--quiet", cwd=root)
    assert search.returncode == 0, search.stderr
    augment = ("augment", "-c", "tiny.yaml", "--genotype", "runs/search/best_arch.gen", "--out", "runs/train")
    result = quantnas(*augment, "--quiet", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "sr_quantnas.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == f"quantnas {__version__}"


def test_a_finished_run_rerun_does_nothing_even_on_another_device_or_worker_count(trained):
    recorded = (trained / "runs" / "search" / "config.yaml").read_bytes()
    state = (trained / "runs" / "search" / "search_state.pt").stat().st_mtime_ns
    again = quantnas(
        "search",
        "-c",
        "tiny.yaml",
        "--out",
        "runs/search",
        "--device",
        "auto",
        "--set",
        "env.workers=1",
        cwd=trained,
    )
    assert again.returncode == 0, again.stderr
    assert "search: already done, skipped" in again.stderr
    assert (trained / "runs" / "search" / "search_state.pt").stat().st_mtime_ns == state
    assert (trained / "runs" / "search" / "config.yaml").read_bytes() == recorded
    again = quantnas(
        "augment",
        "-c",
        "tiny.yaml",
        "--genotype",
        "runs/search/best_arch.gen",
        "--out",
        "runs/train",
        cwd=trained,
    )
    assert again.returncode == 0 and "augment: already done, skipped" in again.stderr, again.stderr


def test_a_changed_penalty_is_refused_with_the_diff_and_config_yaml_is_unchanged(trained):
    recorded = (trained / "runs" / "search" / "config.yaml").read_bytes()
    result = quantnas("search", "-c", "tiny.yaml", "--out", "runs/search", "--penalty", "0.5", cwd=trained)
    one_line_error(result, 2, "other settings", "search.penalty: 0.0 -> 0.5")
    assert (trained / "runs" / "search" / "config.yaml").read_bytes() == recorded


def test_a_changed_learning_rate_or_another_genotype_is_refused(trained):
    recorded = (trained / "runs" / "train" / "config.yaml").read_bytes()
    augment = ("augment", "-c", "tiny.yaml", "--out", "runs/train")
    result = quantnas(
        *augment, "--genotype", "runs/search/best_arch.gen", "--set", "train.lr=2e-3", cwd=trained
    )
    one_line_error(result, 2, "train.lr: 0.001 -> 0.002")
    (trained / "other.gen").write_text(OTHER_GENOTYPE + "\n")
    result = quantnas(*augment, "--genotype", "other.gen", cwd=trained)
    one_line_error(result, 2, "other settings", "genotype: ", "simple_1x1', 8")
    assert (trained / "runs" / "train" / "config.yaml").read_bytes() == recorded


def test_activation_bits_searched_separately_reach_the_genotype_and_the_trained_network(trained, tmp_path):
    # folders of runs without the act_bits extensions record no act_bits key (older folders match)
    assert "act_bits" not in (trained / "runs" / "search" / "config.yaml").read_text()
    assert "act_bits" not in (trained / "runs" / "train" / "config.yaml").read_text()
    (tmp_path / "tiny.yaml").write_text(TINY.replace("LOG_DIR", str(tmp_path / "runs")))
    common = ["-c", str(tmp_path / "tiny.yaml"), "--set", "arch.act_bits=[8,4]", "--quiet"]
    assert main(["search", *common, "--out", str(tmp_path / "search")]) == 0
    genotype_file = tmp_path / "search" / "best_arch.gen"
    assert re.search(r"\('simple_\dx\d', [48], [48]\)", genotype_file.read_text())
    assert "act_bits:\n  - 8\n  - 4" in (tmp_path / "search" / "config.yaml").read_text()
    train = ["augment", *common, "--genotype", str(genotype_file), "--out", str(tmp_path / "train")]
    assert main(train) == 0
    weights = tmp_path / "train" / "best.pt"
    assert main(["validate", "--weights", str(weights), "--sets", "samples", "--quiet"]) == 0
    report = json.loads((tmp_path / "train" / "validation" / "validation.json").read_text())
    assert report["genotype"] == genotype_file.read_text().strip() and report["bitops_32x32"] > 0


REJECTED = {
    "unavailable device": (["--device", UNAVAILABLE], None, f"device '{UNAVAILABLE}'"),
    "unknown device": (["--device", "tpu"], None, "unknown device 'tpu'"),
    "unavailable env.gpu": (["--set", "env.gpu=99"], None, "env.gpu 99"),
    "batch size 0": (["--set", "dataset.batch_size=0"], None, "dataset.batch_size must be >= 1"),
    "scale mismatch": (["--set", "arch.scale=3"], None, "dataset.scale 2 and arch.scale 3 differ"),
    "unknown key": (["--set", "search.penalti=1"], None, "unknown config key 'search.penalti'"),
    "unknown op": (["--set", "arch.primitives.body=[simple_4x4]"], None, "arch.primitives.body"),
    "unsupported act_bits": (["--set", "arch.act_bits=[8,5]"], None, "arch.act_bits must be"),
    "empty config": ([], "", "is empty"),
    "duplicate key": ([], "search:\n  penalty: 0.1\n  penalty: 0.2\n", "duplicate key 'penalty'"),
    "missing data": (["--data", "no/such/folder"], None, "no/such/folder"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_a_rejected_search_is_one_line_exit_2_and_leaves_no_folder(tmp_path, case):
    args, config_text, fragment = REJECTED[case]
    config = tmp_path / "config.yaml"
    config.write_text(TINY.replace("LOG_DIR", "runs") if config_text is None else config_text)
    result = quantnas("search", "-c", "config.yaml", "--out", "out", *args, cwd=tmp_path)
    one_line_error(result, 2, fragment)
    if config_text is not None:
        assert str(config) in result.stderr or "config.yaml" in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_a_batch_with_a_missing_test_set_is_refused_before_any_work(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY.replace("LOG_DIR", "runs"))
    args = ["batch", "-v", "0", "-r", "1", "-c", "tiny.yaml", "--sets", "samples", "NoSuchSet", "--quiet"]
    one_line_error(quantnas(*args, cwd=tmp_path), 2, "NoSuchSet")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("genotype", ["Genotype_SR(head=[('simple_3x3', 8)", None])
def test_a_bad_or_missing_genotype_file_leaves_no_folder(tmp_path, genotype):
    (tmp_path / "tiny.yaml").write_text(TINY.replace("LOG_DIR", "runs"))
    if genotype is not None:
        (tmp_path / "bad.gen").write_text(genotype)
    result = quantnas("augment", "-c", "tiny.yaml", "--genotype", "bad.gen", "--out", "out", cwd=tmp_path)
    one_line_error(result, 2, "bad.gen")
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()


def test_validate_refuses_a_named_test_set_that_is_missing_and_uses_optional_ones_when_found(
    trained, tmp_path
):
    empty = {"SR_DATASETS": str(tmp_path)}
    weights = str(trained / "runs" / "train" / "best.pt")
    result = quantnas(
        "validate",
        "--weights",
        weights,
        "--scale",
        "2",
        "--sets",
        "Set5",
        "--out",
        "v1",
        cwd=tmp_path,
        env=empty,
    )
    one_line_error(result, 2, "Set5")
    assert not (tmp_path / "v1").exists()
    result = quantnas(
        "validate", "--weights", weights, "--scale", "2", "--out", "v2", cwd=tmp_path, env=empty
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "v2" / "validation.json").read_text())
    assert list(report["psnr"]) == ["samples-test"] and "Set5" in report["notes"][0]
    assert report["bitops_256x256"] > report["bitops_32x32"] > 0


@pytest.mark.parametrize("name", ["quant_config.yaml", "fp_config.yaml"])
def test_shipped_configs_hold_the_reference_keys_verbatim(name):
    config = load_config(name)
    data = yaml.safe_load(find_config(name, CONFIG_DIRS).read_text(encoding="utf-8"))
    assert {section: set(keys) for section, keys in data.items()} == REFERENCE_KEYS
    assert config.arch.bits == ([32] if name == "fp_config.yaml" else [8, 4])
    assert config.search.quant_mode == ("shared" if name == "fp_config.yaml" else "noise")


def test_a_shrunk_batch_writes_one_table_and_one_plot_over_all_runs(tmp_path, capsys, drawn):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY.replace("LOG_DIR", str(tmp_path / "runs")))
    argv = [
        "batch",
        "-v",
        "0",
        "1e-2",
        "-d",
        "exp",
        "-r",
        "1",
        "-c",
        str(config),
        "-n",
        "tiny",
        "--data",
        "samples",
        "--sets",
        "samples",
        "--quiet",
    ]
    assert main(argv) == 0
    root = tmp_path / "runs" / "exp"
    rows = json.loads((root / "batch_results.json").read_text())
    assert [row["penalty"] for row in rows] == [0.0, 1e-2]
    for row in rows:
        assert row["bitops_256x256"] > row["bitops_32x32"] > 0
        assert 10 < row["psnr"]["samples-test"] < 60
    table = (root / "batch_results.md").read_text().splitlines()
    assert len(table) == 4 and "psnr_samples-test" in table[0]
    # the plot puts each run at its BitOps and its PSNR on the test set
    (plot,) = [axes for axes in drawn if axes[0].get_title().startswith("QuantNAS runs")]
    (points,) = plot[0].collections
    assert points.get_label() == "samples-test" and (root / "batch_psnr_vs_bitops.png").is_file()
    expected = [[row["bitops_256x256"], row["psnr"]["samples-test"]] for row in rows]
    assert points.get_offsets().tolist() == expected
    run = root / "trail_1" / "tiny_penalty_0.01"
    for path in (
        "search/best_arch.gen",
        "search/arch_images/alphas.png",
        "train/best.pt",
        "validation/validation.json",
    ):
        assert (run / path).is_file(), path
    # a second call finds every stage done and only rebuilds the table; another train.lr is refused
    state = (run / "search" / "search_state.pt").stat().st_mtime_ns
    assert main(argv) == 0
    assert (run / "search" / "search_state.pt").stat().st_mtime_ns == state
    assert json.loads((root / "batch_results.json").read_text()) == rows
    capsys.readouterr()
    assert main([*argv, "--set", "train.lr=5e-4"]) == 2
    assert "train.lr: 0.001 -> 0.0005" in capsys.readouterr().err
