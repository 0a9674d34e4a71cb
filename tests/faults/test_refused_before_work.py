"""Faults of the user, refused before any work: one line naming the flag, key or file, the exit
status of sr_eval.runtime, and nothing written (so the corrected command is never refused), through
each real command (one case per command here; the apps' tests hold the others: the rest of sesr's
data checks in apps/sesr/tests/test_cli.py, `zoo quantize` into the official weights' folder in
apps/zoo/tests/test_official_weights.py). Also a search whose every candidate the latency limit
rejects, which says so."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fault_runs import ESR_SEARCH, run

from sr_data import write_image
from sr_deploy.testing import one_line_error

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
def scratch(tmp_path: Path) -> Path:
    """A folder with a search config, a folder of photos and a file named `taken`."""
    (tmp_path / "search.yaml").write_text(ESR_SEARCH)
    write_image(tmp_path / "photos" / "a.png", np.full((8, 8, 3), 0.5))
    (tmp_path / "taken").write_text("a file, not a folder\n")
    return tmp_path


def contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_command_is_one_line_and_writes_nothing(scratch, case):
    (cli, *args), status, fragments = CASES[case]
    before = contents(scratch)
    one_line_error(run(cli, *args, cwd=scratch), status, *fragments)
    assert contents(scratch) == before and sorted(p.name for p in scratch.iterdir()) == [
        "photos",
        "search.yaml",
        "taken",
    ]


def test_a_latency_limit_that_rejects_every_candidate_says_so(tmp_path):
    (tmp_path / "search.yaml").write_text(ESR_SEARCH)
    limit = ["--set", "nas.search_algorithm.range.max_latency_ms=0.0001"]
    timing = ["--set", "nas.search_algorithm.latency={lr_size: [16, 16], warmup: 0, repeats: 1}"]
    result = run("esr-ea", *ESR_EA, *limit, *timing, cwd=tmp_path)
    line = one_line_error(result, 3, "range.max_latency_ms 0.0001 rejected every candidate of the search")
    assert "the fastest measured " in line and "failed to train" not in line
