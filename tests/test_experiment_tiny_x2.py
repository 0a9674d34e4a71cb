"""The tiny-x2 experiment (experiments/tiny_x2: ESR_EA vs hand design), as a --quick run of every stage.

Its configs (recipe.yaml, search.yaml) are the full run's, shrunk by --quick to a few steps, on six
small crops of SunHays80 photos. Needs the repository checkout (the driver is not in any wheel); the runs
also need the SunHays80 and Set5 images and skip with the reason without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sr_data import decode_image_with_alpha, find_datasets_root

DRIVER = Path(__file__).resolve().parents[1] / "experiments" / "tiny_x2" / "run.py"
DATASETS = find_datasets_root()
BASELINES = {"fsrcnn", "espcn", "sesr_m5", "ecbsr_m4c16", "imdn_rtc"}

pytestmark = pytest.mark.skipif(not DRIVER.is_file(), reason=f"driver not found: {DRIVER}")


def run_driver(*args: str, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", **env}
    command = [sys.executable, str(DRIVER), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory, photo_crops) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """(data folder, results folder, the finished --quick run) on 6 crops of 160 px."""
    if DATASETS is None or not (DATASETS / "Set5").is_dir() or not (DATASETS / "SunHays80").is_dir():
        pytest.skip("the shared Set5 and SunHays80 images are not here")
    root = tmp_path_factory.mktemp("tiny_x2")
    data = photo_crops(DATASETS, root / "photos")
    out = root / "out"
    return data, out, run_driver("--quick", "--data", str(data), "--out", str(out))


def assert_plot_draws_the_table(out: Path, rows: list[dict]) -> None:
    """psnr_vs_params.png is, pixel for pixel, what report.plot draws from the rows of table.json."""
    spec = importlib.util.spec_from_file_location("tiny_x2_report", DRIVER.parent / "report.py")
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    sets = list(next(row for row in rows if row["kind"] == "searched")["benchmarks"])
    with tempfile.TemporaryDirectory() as folder:
        report.plot(rows, sets, Path(folder) / "psnr_vs_params.png")
        expected = decode_image_with_alpha(Path(folder) / "psnr_vs_params.png").pixels
    drawn = decode_image_with_alpha(out / "psnr_vs_params.png").pixels
    assert drawn.shape == expected.shape and (drawn == expected).all(), "the plot draws other data"


def test_every_stage_runs_and_the_report_holds_every_network(quick_run):
    _, out, run = quick_run
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads((out / "table.json").read_text())
    kinds = {row["name"]: row["kind"] for row in report["rows"]}
    assert BASELINES <= {name for name, kind in kinds.items() if kind == "baseline"}
    searched = [name for name, kind in kinds.items() if kind == "searched"]
    assert {"search_top1", "search_top2", "search_top3"} <= set(searched) and len(searched) == 6
    assert kinds["bicubic"] == "reference"
    for row in report["rows"]:
        assert 0 < row["benchmarks"]["Set5"]["psnr"] < 100, row["name"]
        if row["kind"] != "reference":
            assert row["params"] > 0 and row["latency_ms"] > 0, row["name"]
    # every trained network used the one recipe, with only its model added
    recipes = {p.stem: p.read_text() for p in (out / "recipes").glob("*.yaml")}
    assert set(recipes) == BASELINES | set(searched)
    assert len({text.split("\ndata:", 1)[1] for text in recipes.values()}) == 1
    assert set(report["correlations"]) == {"held-out validation", "Set5"}
    assert report["verdict"]["network"].startswith("search_top")
    text = (out / "table.md").read_text()
    assert "Spearman" in text and "Goal (beats every such baseline" in text
    assert_plot_draws_the_table(out, report["rows"])


def test_a_rerun_trains_nothing_again(quick_run):
    data, out, run = quick_run
    assert run.returncode == 0, run.stderr[-3000:]
    watched = [
        *(out / "train").glob("*/results.json"),
        out / "search" / "history.jsonl",
        out / "latency.json",
    ]
    before = {path: path.stat().st_mtime_ns for path in watched}
    again = run_driver("--quick", "--data", str(data), "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert {path: path.stat().st_mtime_ns for path in watched} == before


def test_missing_photos_are_named(tmp_path):
    run = run_driver("--quick", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and "nowhere" in run.stderr and not (tmp_path / "out").exists()


def test_no_datasets_folder_is_a_bad_input_naming_the_variable(tmp_path):
    run = run_driver("--quick", "--out", str(tmp_path / "out"), SR_DATASETS=str(tmp_path / "nowhere"))
    assert run.returncode == 2, run.stderr[-3000:]
    assert "SR_DATASETS" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_no_weights_folder_leaves_the_official_checkpoint_out(monkeypatch, capsys, tmp_path):
    spec = importlib.util.spec_from_file_location("app_runs", DRIVER.parents[1] / "app_runs.py")
    app_runs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_runs)
    monkeypatch.setattr(app_runs, "find_weights_root", lambda: None)
    monkeypatch.setattr(app_runs, "zoo_eval", lambda what, sets, out, name: {"Set5": {"psnr": 30.0}})
    found = app_runs.evaluate_references({"imdn_rtc_official": "model_RTC.pth"}, ["Set5"], tmp_path)
    assert set(found) == {"bicubic"}
    assert "SR_WEIGHTS" in capsys.readouterr().out
