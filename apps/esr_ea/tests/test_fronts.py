"""The fronts of a run (pareto_<cost>.png, front.json) and `--compare` with other runs and zoo models,
through the command line (what the plots draw: sr-search-evo's tests/test_fronts.py)."""

import json
from pathlib import Path

import pytest
from esr_ea_runs import TINY_CONFIG, assert_plots_draw_the_run, esr_ea, history

from sr_blocks import create_model
from sr_data import decode_image_with_alpha
from sr_deploy import measure
from sr_deploy.testing import dominated, one_line_error
from sr_search_evo.compare import write_comparison

POLICY = "{num_generation: 2, num_individual: 4, objective: nsga2, objectives: [psnr, params, latency]}"
LATENCY = "{lr_size: [16, 16], warmup: 0, repeats: 1}"  # measured, but quickly
NSGA2 = ["--set", f"nas.search_algorithm.policy={POLICY}", "--set", f"nas.search_algorithm.latency={LATENCY}"]
COSTS = ["params", "latency_ms"]


@pytest.fixture(scope="module")
def nsga2_run(tmp_path_factory) -> Path:
    """A finished `esr-ea` run of the tiny config with NSGA-II over PSNR x params x measured latency."""
    root = tmp_path_factory.mktemp("nsga2")
    (root / "config.yaml").write_text(TINY_CONFIG)
    args = ["--config", "config.yaml", "--data", "samples", "--quiet", *NSGA2]
    result = esr_ea(*args, "--out", "run", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "run"


def test_an_nsga2_run_writes_its_front_and_a_plot_per_cost(nsga2_run):
    records = [r for r in history(nsga2_run) if r["psnr"] is not None]
    front = json.loads((nsga2_run / "front.json").read_text())
    assert front["objectives"] == ["psnr", *COSTS]
    assert front["front"], "an empty front"
    keys = {entry["key"] for entry in front["front"]}
    for entry in front["front"]:
        assert set(entry) >= {"id", "key", "genes", "psnr", "params", "macs", "latency_ms"}
        assert not dominated(entry, records, COSTS)
    # every record left off the front is dominated by one on it
    for record in records:
        if record["key"] not in keys:
            assert dominated(record, front["front"], COSTS), record["key"]
    plots = assert_plots_draw_the_run(nsga2_run)
    assert plots == ["pareto_params.png", "pareto_macs.png", "pareto_latency.png"]
    assert "front of" in (nsga2_run / "run.log").read_text()


def zoo_results(folder: Path, model: str, test_set: str, psnr: float, scale: int = 2) -> Path:
    """A `zoo train` results.json for `model` (params and MACs measured as sr_deploy.ship_trained does)."""
    folder.mkdir(parents=True)
    net = create_model(model, scale=scale)
    report = {"model": model, "scale": scale, **measure(net, scale), "benchmarks": {test_set: {"psnr": psnr}}}
    (folder / "results.json").write_text(json.dumps(report))
    return folder


def test_compare_overlays_another_run_and_zoo_models(nsga2_run, finished, tiny_tests, tmp_path):
    other, _ = finished  # ESR_EA's example on a tiny budget: fully trained, tested on tiny_tests
    zoo = tmp_path / "zoo_x2"
    zoo_results(zoo / "espcn", "espcn", tiny_tests.name, 30.5)
    zoo_results(zoo / "fsrcnn", "fsrcnn", tiny_tests.name, 30.9)
    result = esr_ea("--out", str(other), "--compare", str(nsga2_run), str(zoo), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "compare: 1 other run(s), 2 zoo model(s)" in result.stderr
    # the plots are, pixel for pixel, what sr_search_evo.compare draws from these folders (whose
    # points sr-search-evo's tests check): a plot of other runs or other zoo models fails
    names = ("compare_params.png", "compare_macs.png")
    written = {name: decode_image_with_alpha(other / name).pixels for name in names}
    redrawn = write_comparison(other, [nsga2_run, zoo], log=lambda line: None)
    assert [path.name for path in redrawn] == [*names, "compare.json"]
    for name in names:
        expected = decode_image_with_alpha(other / name).pixels
        assert written[name].shape == expected.shape and (written[name] == expected).all(), name
    compared = json.loads((other / "compare.json").read_text())
    mine, theirs = (run["label"] for run in compared["runs"])  # this run first; the same folder names
    assert mine != theirs and mine.endswith(other.name) and theirs.endswith(nsga2_run.name)
    points = compared["points"]["params"]
    assert {p["source"] for p in points if p["panel"] == "search"} == {mine, theirs}
    trained = {p["name"]: p for p in points if p["panel"] == "trained"}
    assert {"espcn", "fsrcnn", f"{mine}/top1", f"{mine}/top2"} <= set(trained)
    assert trained["espcn"]["params"] == measure(create_model("espcn", scale=2), 2)["params"]
    assert trained["fsrcnn"]["psnr"] == 30.9
    table = json.loads((other / "table.json").read_text())
    top1 = table["candidates"][0]["benchmarks"][tiny_tests.name]
    assert trained[f"{mine}/top1"]["psnr"] == top1["psnr"]


def test_compare_names_a_folder_that_holds_neither_run_nor_zoo_results(nsga2_run, tmp_path):
    (tmp_path / "empty").mkdir()
    result = esr_ea("--out", str(nsga2_run), "--compare", "empty", cwd=tmp_path)
    one_line_error(result, 2, "--compare empty: holds neither an esr_ea run", "results.json")
    zoo_results(tmp_path / "x4" / "espcn", "espcn", "Set5", 28.0, scale=4)
    result = esr_ea("--out", str(nsga2_run), "--compare", "x4", cwd=tmp_path)
    one_line_error(result, 2, "an x4 result, this run is x2")
    # checked with the rest of the command: a new run is refused before its folder exists
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    args = ["--config", "config.yaml", "--data", "samples", "--out", "new", "--compare", "empty"]
    one_line_error(esr_ea(*args, cwd=tmp_path), 2, "--compare empty")
    assert not (tmp_path / "new").exists()
