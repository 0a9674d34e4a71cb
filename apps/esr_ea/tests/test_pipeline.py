"""`esr-ea` end to end on the bundled photos with ESR_EA's example config shrunk to a tiny budget:
the results folder, a finished run rerun that does nothing, a killed run that resumes."""

import json

import torch
import yaml
from esr_ea_runs import assert_plots_draw_the_run, esr_ea, history, kill_when, start

from sr_deploy import load_trained
from sr_search_evo import esrn_params

STAGES = ["search", "train-top1", "ship-top1", "train-top2", "ship-top2", "table"]


def test_the_results_folder_is_complete(finished, tiny_tests):
    out, _ = finished
    for name in ("config.yaml", "run.log", "history.jsonl", "population.json", "best_genes.json"):
        assert (out / name).is_file(), name
    for name in (
        "best_genes.txt",
        "front.json",
        "pareto_params.png",
        "pareto_macs.png",
        "table.md",
        "table.json",
    ):
        assert (out / name).is_file(), name
    assert sorted(p.stem for p in (out / "stages").glob("*.json")) == sorted(STAGES)
    # the plots draw the run's records, top and front; no latency measured: no latency plot
    assert assert_plots_draw_the_run(out) == ["pareto_params.png", "pareto_macs.png"]
    assert not (out / "pareto_latency.png").exists()
    records = history(out)
    assert 2 <= len(records) <= 4  # 2 generations x 2 individuals, cached repeats not retrained
    for record in records:
        assert 315000 <= record["params"] <= 325000 and len(record["decoded"]) >= 16
    best = json.loads((out / "best_genes.json").read_text())
    assert [b["rank"] for b in best] == [1, 2] and best[0]["search_psnr"] >= best[1]["search_psnr"]
    front = json.loads((out / "front.json").read_text())  # PSNR x params: the best is its costliest point
    assert front["objectives"] == ["psnr", "params"] and front["front"][-1]["psnr"] == best[0]["search_psnr"]
    table = json.loads((out / "table.json").read_text())
    assert table["test_sets"] == [tiny_tests.name]
    assert len(table["candidates"]) == 2 and table["search"]["candidates"] == len(records)
    for rank, row in enumerate(table["candidates"], 1):
        folder = out / f"top{rank}"
        assert row["genes"] == best[rank - 1]["genes"]
        assert row["params"] == esrn_params(row["genes"], G0=32, scale=2)
        assert 0 < row["benchmarks"][tiny_tests.name]["psnr"] < 100 and row["macs_720p"] > 0
        assert row["train_steps"] == 2 * (8 // 4) and row["deploy_max_abs_diff"] == 0.0
        model, ckpt = load_trained(folder / "best.pt")
        assert ckpt["model_kwargs"]["genes"] == row["genes"]
        assert model(torch.rand(1, 3, 9, 7)).shape == (1, 3, 18, 14)
        # onnx and onnxruntime are test dependencies: the ONNX branch runs, it is not skipped
        assert (folder / "model.onnx").stat().st_size > 10_000 and row["onnx_max_abs_diff"] < 1e-4
    text = (out / "table.md").read_text()
    assert "| bicubic |" in text and "| top2 |" in text and "PSNR / SSIM" in text
    assert "deploy is the identity for ESRN" in (out / "run.log").read_text()
    recorded = yaml.safe_load((out / "config.yaml").read_text())
    assert recorded["data"] == "samples" and recorded["config"]["fully_train"]["top_k"] == 2


def test_a_finished_run_rerun_does_nothing(finished):
    out, args = finished
    watched = [
        out / "history.jsonl",
        out / "top1" / "last.pt",
        out / "top2" / "model.onnx",
        out / "table.json",
    ]
    before = {path: path.stat().st_mtime_ns for path in watched}
    recorded = (out / "config.yaml").read_bytes()
    same = esr_ea(*[a for a in args if a != "--quiet"], "--out", str(out), cwd=out.parent)
    assert same.returncode == 0, same.stderr
    assert all(f"{stage}: already done, skipped" in same.stderr for stage in STAGES), same.stderr
    # the device and the evaluator change how fast results come, not what they are
    resumed = esr_ea("--out", "run", "--resume", "--device", "cpu", "--evaluator", "pool", cwd=out.parent)
    assert resumed.returncode == 0 and "table: already done, skipped" in resumed.stderr, resumed.stderr
    assert {path: path.stat().st_mtime_ns for path in watched} == before
    assert (out / "config.yaml").read_bytes() == recorded


def test_a_killed_run_resumes_without_redoing_finished_work(finished, tmp_path):
    """SIGKILL once the search has recorded a candidate, and again once the first full training has
    written a checkpoint; the last rerun ends with exactly the search of an uninterrupted run."""
    reference, args = finished
    full = {"top_k": 1, "trainer": {"epochs": 40, "checkpoint_every": 2}}
    args = [*args, "--set", f"fully_train={json.dumps(full)}"]
    out = tmp_path / "killed"
    kill_when(
        start(*args, "--out", str(out), cwd=tmp_path), lambda: len(history(out)) >= 1, "a search record"
    )
    assert not (out / "stages" / "search.json").exists()
    before_kill = (out / "history.jsonl").read_text()

    checkpoint = out / "top1" / "last.pt"
    kill_when(start(*args, "--out", str(out), cwd=tmp_path), checkpoint.exists, "a full-training checkpoint")
    assert not (out / "stages" / "train-top1.json").exists(), "the training ended before the kill"
    searched = (out / "history.jsonl").read_text()
    assert searched.startswith(before_kill)

    last = esr_ea(*args, "--out", str(out), cwd=tmp_path)
    assert last.returncode == 0, last.stderr
    assert (out / "history.jsonl").read_text() == searched  # no candidate trained again
    assert [(r["key"], r["psnr"]) for r in history(out)] == [
        (r["key"], r["psnr"]) for r in history(reference)
    ]
    log = (out / "run.log").read_text()
    assert "resuming" in log and "search: already done, skipped" in log
    assert "resumed at step" in (out / "top1" / "train.log").read_text()
    trained = json.loads((out / "stages" / "train-top1.json").read_text())["result"]
    assert trained["train_steps"] == 40 * 2


def test_top_k_zero_searches_and_trains_nothing(finished, tmp_path):
    """fully_train.top_k 0: the same search as a whole run, its front and plots, then nothing else."""
    reference, args = finished
    result = esr_ea(*args, "--set", "fully_train.top_k=0", "--out", "search", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "search"
    searched = [(r["key"], r["psnr"]) for r in history(out)]
    assert searched == [(r["key"], r["psnr"]) for r in history(reference)]
    assert sorted(p.stem for p in (out / "stages").glob("*.json")) == ["search"]
    assert assert_plots_draw_the_run(out) == ["pareto_params.png", "pareto_macs.png"]
    assert not (out / "top1").exists() and not (out / "table.md").exists()
    assert "search only" in (out / "run.log").read_text()


def test_the_table_shows_what_ships() -> None:
    from sr_esr_ea.report import to_markdown

    baseline = {"params": 0, "macs_720p": 2.27e9, "benchmarks": {"Set5": {"psnr": 33.68, "ssim": 0.93}}}
    trained = {"name": "top1", "genes": ["nearest", "rep_8_relu", "rep_8_relu", "rep"], "search_psnr": 36.0}
    trained.update(params=61_144, macs_720p=2.02e9, deployed_params=8_848, deployed_macs_720p=2.02e9)
    trained["benchmarks"] = {"Set5": {"psnr": 35.33, "ssim": 0.9465}}
    text = to_markdown([trained], baseline, ["Set5"], 2)
    assert "| top1 | 8,848 | 2.02 G | 36.00 | 35.33 / 0.9465 |" in text and "61,144" not in text
