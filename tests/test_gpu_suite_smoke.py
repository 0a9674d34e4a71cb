"""The GPU suite (benchmarks/gpu_suite.py): its smoke run and its time boxes.

The smoke run is what CI runs: every item at tiny sizes on the CPU, each reporting ratios. The
time-box tests run the suite's runner on stand-in items, so they do not depend on machine speed.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SUITE = REPO / "benchmarks" / "gpu_suite.py"
ITEM_IDS = ["1", "2a", "2b", "3", "4a", "4b", "4c", "5", "6", "7"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("gpu_suite")
    run = subprocess.run(
        [sys.executable, str(SUITE), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    assert run.returncode == 0, f"{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    return {"stdout": run.stdout, "out": out, "json": json.loads((out / "gpu_suite.json").read_text())}


def test_smoke_runs_every_item_and_each_reports_ratios(smoke: dict) -> None:
    items = {item["id"]: item for item in smoke["json"]["items"]}
    assert list(items) == ITEM_IDS
    for item_id, item in items.items():
        assert item["status"] == "ok" or item["status"].startswith("partial: "), (item_id, item["status"])
        assert item["ratios"], f"item {item_id} reports no ratio"
        for ratio in item["ratios"]:
            assert math.isfinite(ratio["value"]) and ratio["value"] >= 0, (item_id, ratio)
        for figure in item["ratios"] + item["figures"]:  # a figure may be a signed difference (dB)
            assert math.isfinite(figure["value"]), (item_id, figure)
            assert figure["met"] is None, "the smoke run judges no target"
        assert all(ratio["unit"] == "x" for ratio in item["ratios"])


def test_smoke_is_marked_as_such_in_the_json_and_the_table(smoke: dict) -> None:
    document = smoke["json"]
    assert document["smoke"] is True and document["device"]["type"] == "cpu"
    assert "SMOKE RUN" in smoke["stdout"]
    table = (smoke["out"] / "gpu_suite.md").read_text()
    assert "SMOKE RUN" in table
    for item_id in ITEM_IDS:
        assert f"| **{item_id}** " in table and f"| **{item_id}** " in smoke["stdout"]


@pytest.fixture()
def suite(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    import gpu_suite
    import gpu_suite_items

    return gpu_suite, gpu_suite_items


def test_a_slow_item_is_cut_keeps_what_it_measured_and_the_next_one_runs(suite, tmp_path: Path) -> None:
    gpu_suite, items = suite
    env = items.SuiteEnv(torch.device("cpu"), smoke=True, work=tmp_path)

    def slow(rec, env) -> None:
        rec.ratio("measured before the cut", 2.0)
        time.sleep(60)

    def quick(rec, env) -> None:
        rec.ratio("after", 1.0)

    log: list[str] = []
    cut = gpu_suite.run_item(items.Item("s", "slow", 60, slow), env, 0.2, log)
    assert cut.status == "timed out after 0.2 s"
    assert [r.name for r in cut.ratios] == ["measured before the cut"]
    after = gpu_suite.run_item(items.Item("q", "quick", 60, quick), env, 5, log)
    assert after.status == "ok" and after.ratios[0].value == 1.0
    assert log == []


def test_a_failing_item_is_reported_with_its_traceback_and_does_not_stop_the_suite(suite, tmp_path) -> None:
    gpu_suite, items = suite
    env = items.SuiteEnv(torch.device("cpu"), smoke=True, work=tmp_path)

    def broken(rec, env) -> None:
        raise ValueError("bad size 0\nsecond line")

    log: list[str] = []
    record = gpu_suite.run_item(items.Item("b", "broken", 60, broken), env, 5, log)
    assert record.status == "failed: ValueError: bad size 0"
    assert len(log) == 1 and "Traceback" in log[0] and "second line" in log[0]


def test_targets_are_judged_only_outside_the_smoke_run(suite, tmp_path) -> None:
    gpu_suite, items = suite

    def measures(rec, env) -> None:
        rec.ratio("speed-up", 6.0, ">= 5")
        rec.ratio("overhead", 1.2, "<= 1.05")

    full = items.SuiteEnv(torch.device("cpu"), smoke=False, work=tmp_path)
    record = gpu_suite.run_item(items.Item("t", "targets", 60, measures), full, 5, [])
    assert [r.met for r in record.ratios] == [True, False]
    smoke = items.SuiteEnv(torch.device("cpu"), smoke=True, work=tmp_path)
    record = gpu_suite.run_item(items.Item("t", "targets", 60, measures), smoke, 5, [])
    assert [r.met for r in record.ratios] == [None, None]


def test_the_full_suite_refuses_to_run_without_a_gpu_unless_asked() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    run = subprocess.run(
        [sys.executable, str(SUITE), "--out", "unused"], capture_output=True, text=True, cwd=REPO
    )
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1].startswith("no CUDA device here: the full suite is for a GPU")
