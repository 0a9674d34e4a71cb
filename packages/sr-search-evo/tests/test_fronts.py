"""Fronts of a search's records (front.json), the pareto_<cost>.png plots and the comparison of runs:
each checked for what it records or draws, not only for the files it writes."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import yaml

from sr_deploy.testing import dominated
from sr_eval.report import write_results
from sr_search_evo import EvoSettings, SearchResult
from sr_search_evo.compare import write_comparison
from sr_search_evo.fronts import COSTS, costs_of, run_costs, write_front
from sr_search_evo.plots import plot_fronts
from sr_search_evo.result import pareto


def history(seed: int, count: int = 25, latency: bool = True) -> list[dict]:
    """Search records whose PSNR grows with their parameters (plus noise), and one failed evaluation."""
    rng = random.Random(seed)
    records = []
    for index in range(count):
        params = rng.randint(20_000, 45_000)
        record = {
            "key": f"k{seed}_{index}",
            "decoded": [f"C_2_8_{index}"],
            "psnr": 30 + params / 20_000 + rng.gauss(0, 0.3),
            "params": params,
            "macs": params * 230,
        }
        if latency:
            record["latency_ms"] = params / 1000 + rng.gauss(0, 4)
        records.append(record)
    return [*records, {"key": "failed", "psnr": None, "error": "NonFiniteLossError"}]


def test_the_front_is_what_no_record_beats_and_every_other_is_beaten(tmp_path):
    records = history(1)
    costs = costs_of(records)
    assert costs == ["params", "macs", "latency_ms"]
    assert run_costs(EvoSettings(objective="nsga2"), costs) == ["params", "macs"]  # NSGA-II's default
    latency = EvoSettings(objective="nsga2", objectives=["psnr", "latency"])
    assert run_costs(latency, costs) == ["latency_ms"] and run_costs(EvoSettings(), costs) == ["params"]
    data = write_front(tmp_path, records, ["latency_ms"])
    assert json.loads((tmp_path / "front.json").read_text()) == data
    assert data["objectives"] == ["psnr", "latency_ms"]
    on_front = {e["key"] for e in data["front"]}
    ok = records[:-1]
    assert on_front and all(not dominated(e, ok, ["latency_ms"]) for e in data["front"])
    assert all(dominated(r, data["front"], ["latency_ms"]) for r in ok if r["key"] not in on_front)
    assert [e["id"] for e in data["front"]] == [f"F{i}" for i in range(1, len(on_front) + 1)]


def test_records_without_a_cost_are_left_out_only_when_asked():
    records = history(2, count=6)
    del records[0]["latency_ms"]
    result = SearchResult(records)
    with pytest.raises(ValueError, match="has no number 'latency_ms'"):
        result.pareto(["latency_ms"])
    front = result.pareto(["latency_ms"], skip_missing=True)
    assert records[0] not in front and front
    assert costs_of(records) == ["params", "macs"]  # not every scored record has a latency


def test_pareto_of_any_rows_with_another_score():
    rows = [
        {"name": "a", "params": 10, "test": 30.0},
        {"name": "b", "params": 20, "test": 29.0},  # costlier and worse than a
        {"name": "c", "params": 30, "test": 31.0},
    ]
    front = pareto(rows, ["params"], score=lambda row: row["test"])
    assert [row["name"] for row in front] == ["a", "c"]


def test_each_cost_plot_draws_every_candidate_and_the_front(tmp_path, drawn):
    records = history(3)
    data = write_front(tmp_path, records, ["params"])
    top = SearchResult(records).best(2)
    paths = plot_fronts(records, costs_of(records), top, data["front"], tmp_path, "test")
    assert [p.name for p in paths] == ["pareto_params.png", "pareto_macs.png", "pareto_latency.png"]
    scored = records[:-1]
    for (ax,), key in zip(drawn, ["params", "macs", "latency_ms"], strict=True):
        divisor = COSTS[key].divisor
        dots = ax.collections[0].get_offsets()
        assert np.allclose(dots, [(r[key] / divisor, r["psnr"]) for r in scored])
        front = SearchResult(records).pareto([key])
        line = ax.get_lines()[0].get_xydata()
        assert np.allclose(line, [(r[key] / divisor, r["psnr"]) for r in front])
        stars = [c.get_offsets()[0] for c in ax.collections[1:] if len(c.get_offsets())]
        assert np.allclose(stars, [(r[key] / divisor, r["psnr"]) for r in top])
        labels = [t.get_text() for t in ax.texts]
        if key == "params":  # the front of front.json: its points are labelled with their ids
            assert labels[: len(front)] == [f"F{i} {r['psnr']:.2f} dB" for i, r in enumerate(front, 1)]
        assert labels[-2:] == ["top1", "top2"]


def esr_run(folder: Path, records: list[dict], trained: list[dict] | None = None, scale: int = 2) -> Path:
    """An ESR_EA run folder: history.jsonl, config.yaml and (with `trained`) table.json."""
    folder.mkdir(parents=True)
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    config = {"nas": {"search_space": {"esrbody": {"scale": scale}}, "trainer": {"epochs": 1}}}
    (folder / "config.yaml").write_text(yaml.safe_dump({"data": "samples", "config": config}))
    if trained is not None:
        (folder / "table.json").write_text(json.dumps({"scale": scale, "candidates": trained}))
    return folder


def test_the_comparison_draws_each_run_front_and_every_trained_network(tmp_path, drawn):
    mine, theirs = history(4, latency=False), history(5, latency=False)
    best = SearchResult(mine).best(1)[0]
    top1 = {"name": "top1", "key": best["key"], "params": 30_000, "macs_720p": 6e9,
            "benchmarks": {"Set5": {"psnr": 33.5, "ssim": 0.9}}}  # fmt: skip
    own = esr_run(tmp_path / "a" / "run", mine, [top1])
    other = esr_run(tmp_path / "b" / "run", theirs)
    zoo = tmp_path / "zoo"
    for name, params, psnr in (("espcn", 25_000, 32.9), ("fsrcnn", 12_000, 32.7)):
        write_results(zoo / name, {"model": name, "scale": 2, "params": params, "macs_720p": params * 900,
                                   "benchmarks": {"Set5": {"psnr": psnr, "ssim": 0.9}}})  # fmt: skip
    log: list[str] = []
    written = write_comparison(own, [other, zoo], log.append)
    assert [p.name for p in written] == ["compare_params.png", "compare_macs.png", "compare.json"]
    assert log == ["compare: 1 other run(s), 2 zoo model(s): compare_params.png, compare_macs.png"]
    compared = json.loads((own / "compare.json").read_text())
    labels = [run["label"] for run in compared["runs"]]
    assert labels == ["a/run", "b/run"]  # the same folder name: told apart by their parents
    (search, trained), _ = drawn
    fronts = [line.get_xydata() for line in search.get_lines()]
    for records, front in zip((mine, theirs), fronts, strict=True):
        expected = SearchResult(records).pareto(["params"])
        assert np.allclose(front, [(r["params"] / 1e3, r["psnr"]) for r in expected])
    points = {tuple(np.round(xy, 3)) for c in trained.collections for xy in c.get_offsets()}
    assert points == {(30.0, 33.5), (25.0, 32.9), (12.0, 32.7)}
    shown = {p["name"]: p["psnr"] for p in compared["points"]["params"] if p["panel"] == "trained"}
    assert shown == {"a/run/top1": 33.5, "espcn": 32.9, "fsrcnn": 32.7}
    with pytest.raises(ValueError, match="an x4 result, this run is x2"):
        write_comparison(own, [esr_run(tmp_path / "x4", theirs, scale=4)], log.append)


def test_a_history_still_being_written_is_read_without_its_last_line_and_left_as_it_is(tmp_path):
    run = esr_run(tmp_path / "run", history(6, count=4))
    with open(run / "history.jsonl", "a") as stream:
        stream.write('{"key": "half')  # a line the search has not finished writing
    before = (run / "history.jsonl").read_bytes()
    write_comparison(run, [], lambda line: None)
    assert (run / "history.jsonl").read_bytes() == before
    drawn = json.loads((run / "compare.json").read_text())["points"]["params"]
    assert {p["genes"][0] for p in drawn} <= {f"C_2_8_{i}" for i in range(4)}
