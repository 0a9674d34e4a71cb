"""Faults of the user, refused before any work: one line naming the flag, key or file, the exit
status of sr_eval.runtime, and nothing written (so the corrected command is never refused), through
each real command. Also a search whose every candidate the latency limit rejects, which says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fault_runs import ESR_SEARCH, run

from sr_data import write_image
from sr_deploy.testing import needs_official_weights, official_weights, one_line_error

SESR = ["--data", "samples", "--test_sets", "samples", "--out", "out", "--m", "2", "--int_features", "8"]
SESR += ["--feature_size", "16", "--epochs", "1", "--quiet"]
ESR_EA = ["--config", "search.yaml", "--data", "samples", "--out", "out", "--quiet"]
QUANTNAS_BATCH = ["batch", "-v", "0", "-r", "1", "-c", "fp_config", "--data", "samples", "--quiet"]
CASES = {  # name: (command, exit status, fragments of the one line)
    "sesr: a batch larger than an epoch": (
        ["sesr", *SESR, "--batch_size", "100000"],
        2,
        ["--batch_size 100000: more than the"],
    ),
    "sesr: a patch the scale cannot divide": (
        ["sesr", *SESR, "--steps_per_epoch", "1", "--patch_size", "33"],
        2,
        ["--patch_size 33", "not a multiple of scale 2"],
    ),
    "sesr: images smaller than the patch": (
        ["sesr", *SESR, "--steps_per_epoch", "1", "--patch_size", "1000"],
        2,
        ["--patch_size 1000", "smaller than the 1000x1000 patch"],
    ),
    "quantnas batch: a test set not found": (
        ["quantnas", *QUANTNAS_BATCH, "--sets", "samples", "NoSuchSet"],
        2,
        ["NoSuchSet"],
    ),
    "esr-ea: an impossible --set": (
        ["esr-ea", *ESR_EA, "--set", "nas.search_algorithm.policy.num_elitism=9"],
        2,
        ["num_elitism must be in [0, num_individual=4], got 9 in --set"],
    ),
    "zoo train: an unknown model": (
        ["zoo", "train", "--model", "nosuchnet", "--data", "samples", "--out", "out"],
        2,
        ["unknown model 'nosuchnet'; registered models: ", "imdn"],
    ),
    "zoo upscale: --out is the input folder": (
        ["zoo", "upscale", "photos", "--model", "bicubic", "--scale", "2", "--out", "photos"],
        2,
        ["--out photos is the input folder photos"],
    ),
    "zoo upscale: --out cannot be made": (
        ["zoo", "upscale", "photos", "--model", "bicubic", "--scale", "2", "--out", "taken/x2"],
        1,
        ["zoo upscale: error: taken: exists and is not a folder"],
    ),
    "sr-eval: --out is a file": (
        ["sr-eval", "--model", "bicubic", "--scale", "2", "--data", "samples", "--out", "taken"],
        1,
        ["sr-eval: error: taken: exists and is not a folder"],
    ),
}


@pytest.fixture
def workplace(tmp_path: Path) -> Path:
    """A folder with a search config, a folder of photos and a file named `taken`."""
    (tmp_path / "search.yaml").write_text(ESR_SEARCH)
    write_image(tmp_path / "photos" / "a.png", np.full((8, 8, 3), 0.5))
    (tmp_path / "taken").write_text("a file, not a folder\n")
    return tmp_path


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_command_is_one_line_and_writes_nothing(workplace, case):
    (cli, *args), status, fragments = CASES[case]
    before = contents(workplace)
    one_line_error(run(cli, *args, cwd=workplace), status, *fragments)
    assert contents(workplace) == before and sorted(p.name for p in workplace.iterdir()) == [
        "photos",
        "search.yaml",
        "taken",
    ]


@needs_official_weights
def test_zoo_quantize_never_writes_into_the_official_weights_folder(tmp_path):
    folder = tmp_path / "authors"  # a copy: the refusal must hold wherever the authors' files are
    folder.mkdir()
    (folder / "model_RTC.pth").write_bytes(official_weights("model_RTC.pth").read_bytes())
    args = ["quantize", "--weights", "authors/model_RTC.pth", "--out", "authors/int8", "--sets", "samples"]
    one_line_error(run("zoo", *args, cwd=tmp_path), 2, "folder of the official weights model_RTC.pth")
    assert [p.name for p in folder.iterdir()] == ["model_RTC.pth"]


def test_a_latency_limit_that_rejects_every_candidate_says_so(tmp_path):
    (tmp_path / "search.yaml").write_text(ESR_SEARCH)
    limit = ["--set", "nas.search_algorithm.range.max_latency_ms=0.0001"]
    timing = ["--set", "nas.search_algorithm.latency={lr_size: [16, 16], warmup: 0, repeats: 1}"]
    result = run("esr-ea", *ESR_EA, *limit, *timing, cwd=tmp_path)
    line = one_line_error(result, 3, "range.max_latency_ms 0.0001 rejected every candidate of the search")
    assert "the fastest measured " in line and "failed to train" not in line
