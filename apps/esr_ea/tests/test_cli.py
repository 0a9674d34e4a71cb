"""`esr-ea` through its real command line (subprocesses): one-line errors with exit statuses, refused
commands that leave no folder, refused setting changes, faults of the environment and failed runs."""

import re
import subprocess
import sys

import pytest
import torch
from esr_ea_runs import FAULTY, TINY_CONFIG, esr_ea, history

from sr_deploy.testing import one_line_error
from sr_esr_ea.version import __version__

UNAVAILABLE = "cuda:99" if torch.cuda.is_available() else "cuda"


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "sr_esr_ea.cli", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == f"esr-ea {__version__}"


def test_a_changed_setting_is_refused_with_the_diff_and_config_yaml_is_unchanged(finished, tiny_tests):
    out, args = finished
    recorded = (out / "config.yaml").read_bytes()
    result = esr_ea("--out", str(out), "--resume", "--set", "nas.trainer.epochs=3", cwd=out.parent)
    one_line_error(result, 2, "other settings", "config.nas.trainer.epochs: 1 -> 3")
    result = esr_ea(*args, "--out", "run", "--set", "fully_train.top_k=1", cwd=out.parent)
    one_line_error(result, 2, "config.fully_train.top_k: 2 -> 1")
    result = esr_ea("--out", "run", "--resume", "--data", str(tiny_tests), cwd=out.parent)
    one_line_error(result, 2, f"data: 'samples' -> '{tiny_tests}'")
    assert (out / "config.yaml").read_bytes() == recorded


GIVEN = ["--config", "config.yaml", "--data", "samples"]
REJECTED = {
    "unavailable device": (
        [*GIVEN, "--device", UNAVAILABLE],
        None,
        f"device '{UNAVAILABLE}' is not available",
    ),
    "pool on an unavailable device": (
        [*GIVEN, "--device", UNAVAILABLE, "--evaluator", "pool"],
        None,
        "available",
    ),
    "unknown device": ([*GIVEN, "--device", "tpu"], None, "unknown device 'tpu'"),
    "workers in process": ([*GIVEN, "--workers", "2"], None, "--workers 2 needs --evaluator pool"),
    "empty config": (GIVEN, "", "config.yaml is empty"),
    "duplicate key": (
        GIVEN,
        "nas:\n  trainer: {epochs: 1}\n  trainer: {epochs: 2}\n",
        "duplicate key 'trainer'",
    ),
    "elites above population": (
        [*GIVEN, "--set", "nas.search_algorithm.policy.num_elitism=4"],
        None,
        "nas.search_algorithm.policy.num_elitism must be in [0, num_individual=3], got 4",
    ),
    "batch size 0": (
        [*GIVEN, "--set", "fully_train.dataset.batch_size=0"],
        None,
        "fully_train.dataset.batch_size must be >= 1, got 0",
    ),
    "patch larger than the photos": (
        [*GIVEN, "--set", "fully_train.dataset.patch_size=4096"],
        None,
        "smaller than the 4096x4096 patch",
    ),
    "crop larger than the photos": ([*GIVEN, "--set", "nas.dataset.val_crop=4096"], None, "validation crop"),
    "missing test set": (
        [*GIVEN, "--set", "evaluate.test=[samples, NoSuchSet]"],
        None,
        "test set 'NoSuchSet'",
    ),
    "missing data": (["--config", "config.yaml", "--data", "no/such/folder"], None, "no/such/folder"),
    "no config": (["--data", "samples"], None, "give --config and --data"),
    "resume of no run": (["--resume"], None, "holds no esr-ea run"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_a_rejected_command_is_one_line_exit_2_and_leaves_no_folder(tmp_path, case):
    args, config_text, fragment = REJECTED[case]
    (tmp_path / "config.yaml").write_text(TINY_CONFIG if config_text is None else config_text)
    result = esr_ea(*args, "--out", "out", cwd=tmp_path)
    one_line_error(result, 2, fragment)
    if config_text is not None:
        assert "config.yaml" in result.stderr  # the file is named with the key
    if case in ("elites above population", "batch size 0"):
        assert "in --set" in result.stderr and "config.yaml" not in result.stderr  # the value came from --set
    assert not (tmp_path / "out").exists()


def test_an_out_that_is_a_file_is_one_line_exit_1_naming_it(tmp_path):
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    (tmp_path / "taken").write_text("a file, not a folder\n")
    one_line_error(esr_ea(*GIVEN, "--out", "taken", cwd=tmp_path), 1, "taken")
    assert (tmp_path / "taken").read_text() == "a file, not a folder\n"


def test_a_fault_of_the_environment_stops_the_run_and_the_rerun_evaluates_what_was_left(tmp_path):
    """The search's device runs out of memory after 2 trainings: exit 3, those 2 recorded and no
    failed candidate; the rerun evaluates the rest of that generation and finishes the run."""
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    args = [*GIVEN, "--out", "out", "--quiet"]
    faulty = esr_ea(*args, cwd=tmp_path, via=FAULTY, ESR_EA_TEST_TRAININGS_BEFORE_OOM="2")
    one_line_error(faulty, 3, "esr-ea: failed: search stopped in generation", "the device ran out of memory")
    stopped = re.search(
        r"generation (\d+): .*; (\d+) of (\d+) candidates recorded, the others not", faulty.stderr
    )
    generation, done, pending = (int(group) for group in stopped.groups())
    out = tmp_path / "out"
    recorded = history(out)
    assert len(recorded) == 2 and all(r["psnr"] is not None and "error" not in r for r in recorded)
    assert len([r for r in recorded if r["generation"] == generation]) == done < pending
    assert not (out / "stages" / "search.json").exists()

    rerun = esr_ea(*args, cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    records = history(out)
    assert records[:2] == recorded and len({r["key"] for r in records}) == len(records)
    assert len([r for r in records if r["generation"] == generation]) == pending  # the rest, trained now
    assert (out / "stages" / "table.json").exists()


def test_a_search_whose_every_candidate_fails_is_a_failed_run(tmp_path):
    """A learning rate that makes every loss non-finite: each candidate is recorded failed; exit 3."""
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    args = [*GIVEN, "--out", "out", "--quiet", "--set", "nas.trainer={epochs: 2, optim: {lr: 1.0e+30}}"]
    result = esr_ea(*args, cwd=tmp_path)
    one_line_error(
        result, 3, "esr-ea: failed: every candidate of the search failed to train", "history.jsonl"
    )
    records = history(tmp_path / "out")
    assert records and all(r["psnr"] is None and "NonFiniteLossError" in r["error"] for r in records)
    assert not (tmp_path / "out" / "stages" / "search.json").exists()
