"""`quantnas` configs and a shrunk `batch` run end to end on the bundled sample photos (CPU)."""

import json

import pytest
import yaml

from sr_quantnas.cli import main
from sr_quantnas.config import load_config
from sr_train import ConfigError

# the keys of the reference's configs/quant_config.yaml (On-Point-RND/QuantNAS, 2022)
REFERENCE_KEYS = {
    "dataset": {"scale", "search_subsample", "batch_size", "crop_size", "files_list", "debug_mode"},
    "arch": {"bits", "channels", "c_fixed", "scale", "arch_pattern", "body_cells", "skip_mode", "primitives"},
    "env": {"run_name", "gpu", "log_dir", "im_dir", "workers", "seed", "print_freq"},
    "search": {
        "warm_up",
        "load_path",
        "penalty",
        "alpha_selector",
        "sparse_type",
        "sparse_coef",
        "optimizer",
        "quant_noise",
        "lr_scheduler",
        "w_lr",
        "w_momentum",
        "w_weight_decay",
        "w_grad_clip",
        "epochs",
        "alpha_lr",
        "alpha_weight_decay",
        "temp_max",
        "temp_min",
    },
    "train": {"warm_up", "lr_scheduler", "lr", "weight_decay", "print_freq", "epochs", "genotype_path"},
}


@pytest.mark.parametrize("name", ["quant_config.yaml", "fp_config.yaml"])
def test_shipped_configs_hold_the_reference_keys_verbatim(name):
    config = load_config(name)
    data = yaml.safe_load(open(config.source, encoding="utf-8"))
    assert {section: set(keys) for section, keys in data.items()} == REFERENCE_KEYS
    assert config.arch.bits == ([32] if name == "fp_config.yaml" else [8, 4])
    assert config.search.quant_mode == ("shared" if name == "fp_config.yaml" else "noise")


def test_an_unknown_key_is_an_error_naming_it_and_the_file(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("search:\n  penalti: 0.1\n")
    with pytest.raises(ConfigError, match=r"search\.penalti.*bad\.yaml"):
        load_config(path)
    assert main(["search", "-c", str(path)]) == 2
    assert "search.penalti" in capsys.readouterr().err
    path.write_text("searchh:\n  penalty: 0.1\n")
    with pytest.raises(ConfigError, match="unknown config section 'searchh'"):
        load_config(path)


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


def test_a_shrunk_batch_writes_one_table_and_one_plot_over_all_runs(tmp_path):
    pytest.importorskip("skimage", reason="the bundled sample images need scikit-image")
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
    assert (root / "batch_psnr_vs_bitops.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = root / "trail_1" / "tiny_penalty_0.01"
    for path in (
        "search/best_arch.gen",
        "search/arch_images/alphas.png",
        "train/best.pt",
        "validation/validation.json",
    ):
        assert (run / path).is_file(), path
    # a second call finds every stage done and only rebuilds the table
    assert main(argv) == 0
