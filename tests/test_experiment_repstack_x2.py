"""The repstack-x2 experiment (experiments/repstack_x2: the plain-stack search vs hand design and its
rank benchmark), as a --quick run of every stage, then re-scored from the weights it wrote, and
the fitness-rank benchmark on the networks it trained.

Its configs are the full run's, shrunk by --quick to a few steps, on six small crops of SunHays80
photos; the runs need the SunHays80 and Set5 images and skip with the reason without them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sr_data import find_datasets_root

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "experiments" / "repstack_x2" / "run.py"
BENCH = ROOT / "benchmarks" / "bench_fitness_rank.py"
DATASETS = find_datasets_root()
BASELINES = {"fsrcnn", "espcn", "sesr_m5", "ecbsr_m4c16", "imdn_rtc"}


def run(script: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=env, timeout=1200
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, photo_crops) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(data folder, results folder, the finished --quick run) on 6 crops of 160 px."""
    if DATASETS is None or not all(
        (DATASETS / name).is_dir() for name in ("Set5", "Set14", "BSD68", "SunHays80")
    ):
        pytest.skip("the shared Set5, Set14, BSD68 and SunHays80 images are not here")
    root = tmp_path_factory.mktemp("repstack_x2")
    data = photo_crops(DATASETS, root / "photos")
    out = root / "out"
    return data, out, run(DRIVER, "--quick", "--data", str(data), "--out", str(out))


def test_every_stage_runs_and_the_table_holds_every_network(quick_run):
    _, out, done = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((out / "table.json").read_text())
    kinds = {row["name"]: row["kind"] for row in record["rows"]}
    assert BASELINES | {"ecbsr_m4c16_seed1", "sesr_m5_seed1"} <= {
        n for n, k in kinds.items() if k == "baseline"
    }
    searched = {n for n, k in kinds.items() if k == "searched" and "_seed" not in n}
    # the top 3 are the fastest-enough by search PSNR: on --quick's tiny inputs there may be fewer
    tops, randoms = {f"search_top{i}" for i in (1, 2, 3)}, {f"search_random{i}" for i in (1, 2, 3)}
    assert randoms <= searched <= tops | randoms and kinds["bicubic"] == "reference"
    for row in record["rows"]:
        assert 0 < row["tests"]["Set5"]["psnr"] < 100, row["name"]
        if row["kind"] in ("baseline", "searched"):
            assert (out / row["weights"]).is_file() and row["latency_ms"] > 0, row["name"]
    assert [v["baseline"] for v in record["verdict"]] == ["ecbsr_m4c16", "sesr_m5"]
    recipes = {p.stem: p.read_text() for p in (out / "recipes").glob("*.yaml")}
    assert len({text.split("\ndata:", 1)[1].replace("seed: 1", "seed: 0") for text in recipes.values()}) == 1
    rank = json.loads((out / "rank_networks.json").read_text())
    assert {r["name"] for r in rank} >= {"rank01", "rank02", "ecbsr_m4c16", "sesr_m5_seed1"}


def test_the_table_is_rescored_from_its_weights(quick_run):
    _, out, done = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    rescored = run(DRIVER, "--rescore", "--out", str(out))
    assert rescored.returncode == 0, rescored.stderr[-3000:]
    assert "largest difference from table.json: 0.00" in rescored.stdout


def test_a_rerun_redoes_nothing(quick_run):
    data, out, done = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    before = (out / "table.json").read_text()
    again = run(DRIVER, "--quick", "--data", str(data), "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert "train:" not in again.stdout and (out / "table.json").read_text() == before


def test_the_fitness_rank_benchmark_scores_every_variant(quick_run):
    data, out, done = quick_run
    assert done.returncode == 0, done.stderr[-3000:]
    variants = ["fixed2", "halving1", "inherit2", "fixed2-uv"]
    bench = run(
        BENCH,
        "--quick",
        "--data",
        str(data),
        "--networks",
        str(out / "rank_networks.json"),
        "--variants",
        *variants,
    )
    assert bench.returncode == 0, bench.stderr[-3000:]
    lines = [line for line in bench.stdout.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0].strip("| ") for line in lines[1:]] == variants
    assert json.loads((out / "fitness_rank.json").read_text())["fixed2"]["networks"][0] == "ecbsr_m4c16"
