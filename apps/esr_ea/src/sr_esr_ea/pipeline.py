"""The ESR_EA pipeline: search -> fully train the top-k -> benchmark -> deploy -> ONNX, one folder.

Results folder:
    config.yaml, run.json      the configuration used (loadable with --config) and the data source
    esr_ea.log                 every message of the run (all re-runs appended)
    history.jsonl              one line per evaluated candidate (genes, params, MACs, PSNR, seconds)
    population.json            the search's checkpoint after each generation
    best_genes.json/.txt       the top-k candidates of the search
    pareto.png                 search PSNR vs params: all candidates, the Pareto front, the top-k
    top<k>/                    full training (best.pt, last.pt, train.log, metrics.jsonl), benchmark.*,
                               model.onnx, results.json of the k-th best candidate
    table.md, table.json       params, MACs, PSNR/SSIM per test set of the top-k and of bicubic
    cache/                     decoded training images (safe to delete)

A re-run of the same command continues: the search resumes from its checkpoint, a finished full
training or evaluation is not redone; a re-run with another config or data is refused.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from sr_blocks import create_model
from sr_data import open_test_sets, write_text_atomic
from sr_deploy import benchmark, measure, ship_trained
from sr_esr_ea.config import EsrConfig, load_config, merge
from sr_esr_ea.data import open_stage_images
from sr_esr_ea.fully_train import fully_train
from sr_esr_ea.plot import plot_pareto
from sr_esr_ea.report import write_table
from sr_esr_ea.search import search
from sr_esr_ea.version import __version__
from sr_train import record_run_settings


class SearchFailed(RuntimeError):
    """Every candidate of the search failed to train (their errors are in history.jsonl)."""


@dataclass
class Request:
    """What `esr-ea` was asked for. With `resume`, config and data default to the folder's own."""

    out: Path
    config: str | None = None
    data: str | None = None
    evaluator: str = "inprocess"
    workers: int | None = None
    device: str = "auto"
    resume: bool = False
    overrides: list[dict[str, Any]] = field(default_factory=list)
    quiet: bool = False


class PipelineLog:
    """Prints a message (unless quiet) and appends it, time-stamped, to the run's esr_ea.log."""

    def __init__(self, path: Path, quiet: bool) -> None:
        self.path, self.quiet = path, quiet

    def __call__(self, text: str) -> None:
        if not self.quiet:
            print(text, file=sys.stderr, flush=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")


def run(request: Request) -> dict[str, Any]:
    """Run (or continue) the whole pipeline; returns the table's data."""
    config, data = _settings(request)
    out = request.out
    _record(out, config, data)
    log = PipelineLog(out / "esr_ea.log", request.quiet)
    log(f"esr-ea {__version__}: config {config.source}, data {data}, results in {out}")
    timing: dict[str, float] = {}

    start = time.perf_counter()
    result = search(config, data, out, request.evaluator, request.workers, request.device, log)
    timing["search_s"] = time.perf_counter() - start
    _log_search_rate(result.history, log)
    top = result.best(config.fully_train.top_k)
    if not top:
        raise SearchFailed(f"the search produced no successful candidate; see {out / 'history.jsonl'}")
    _write_best_genes(out, top)
    evaluated = result.best(len(result.history))
    plot_pareto(evaluated, result.pareto(), top, out / "pareto.png", f"ESR_EA search, x{config.scale}")
    log(f"best genes written to {out / 'best_genes.txt'}, plot to {out / 'pareto.png'}")

    images = open_stage_images(data, config.scale, config.fully_train.dataset, "fully_train.dataset")
    notes: list[str] = []
    tests = open_test_sets(config.evaluate.test, config.scale, notes)
    for note in notes:
        log(note)
    device = _device(request.device)
    rows = []
    for rank, candidate in enumerate(top, 1):
        folder = out / f"top{rank}"
        genes = candidate["decoded"]
        start = time.perf_counter()
        trained = fully_train(genes, folder, config, images, request.device, not request.quiet, log)
        timing[f"top{rank}_train_s"] = time.perf_counter() - start
        rows.append({"rank": rank, **_finish(folder, candidate, trained, tests, device, log)})

    bicubic = create_model("bicubic", scale=config.scale)
    baseline = {"name": "bicubic", **measure(bicubic, config.scale)}
    baseline["benchmarks"] = benchmark(bicubic, tests, config.scale, out / "bicubic", device).summary
    table = write_table(out, rows, baseline, timing, config)
    log("results (PSNR/SSIM on Y, crop = scale):\n" + (out / "table.md").read_text(encoding="utf-8"))
    return table


def _finish(
    folder: Path, candidate: dict, trained: dict, tests: list, device: torch.device, log
) -> dict[str, Any]:
    """Benchmark, deploy and export a fully trained candidate once (results.json marks it done)."""
    done = folder / "results.json"
    if done.exists():
        log(f"{folder.name}: already evaluated, deployed and exported ({done})")
        return json.loads(done.read_text(encoding="utf-8"))
    row = {
        "name": folder.name,
        "genes": trained["genes"],
        "key": candidate["key"],
        "search_psnr": candidate["psnr"],
        "best_val_psnr": trained["best_val_psnr"],
        "train_steps": trained["steps"],
        "train_seconds": trained["train_seconds"],
        **ship_trained(folder, tests, device=device, log=lambda text: log(f"{folder.name}: {text}")),
    }
    write_text_atomic(done, json.dumps(row, indent=2) + "\n")
    return row


def _settings(request: Request) -> tuple[EsrConfig, str]:
    """The config (with overrides) and data source of the run: given, or the folder's own on resume."""
    recorded = request.out / "config.yaml"
    run_file = request.out / "run.json"
    if request.resume:
        if not recorded.exists() or not run_file.exists():
            raise FileNotFoundError(f"--resume: {request.out} holds no run (no config.yaml / run.json)")
        config_name = request.config or str(recorded)
        data = request.data or json.loads(run_file.read_text(encoding="utf-8"))["data"]
    else:
        if request.config is None or request.data is None:
            raise ValueError("give --config and --data (or --resume to continue the run in --out)")
        config_name, data = request.config, request.data
    overrides: dict[str, Any] = {}
    for override in request.overrides:
        overrides = merge(overrides, override)
    return load_config(config_name, overrides), data


def _record(out: Path, config: EsrConfig, data: str) -> None:
    """Write run.json and config.yaml; when they exist, refuse a run with other settings or data."""
    run_file = out / "run.json"
    if run_file.exists():
        before = json.loads(run_file.read_text(encoding="utf-8"))["data"]
        if before != data:
            raise ValueError(
                f"{out} holds a run with other settings (data: {before!r} -> {data!r}); use another --out, "
                f"or delete the folder to start over"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        run_info = {"data": data, "config_source": config.source, "version": __version__}
        write_text_atomic(run_file, json.dumps(run_info, indent=2) + "\n")
    record_run_settings(out, config.to_dict())


def _log_search_rate(history: list[dict], log) -> None:
    """Candidates trained and their training time (summed over every run of the search)."""
    seconds = sum(r.get("seconds") or 0.0 for r in history)
    devices = sorted({str(r.get("device")) for r in history})
    rate = len(history) / seconds * 3600 if seconds else float("nan")
    log(
        f"search: {len(history)} candidates trained in {seconds:.0f} s of fast training on "
        f"{', '.join(devices)} ({rate:.0f} candidates per device-hour)"
    )


def _write_best_genes(out: Path, top: list[dict]) -> None:
    best = [
        {
            "rank": rank,
            "genes": record["decoded"],
            "key": record["key"],
            "psnr": record["psnr"],
            "params": record.get("params"),
            "macs": record.get("macs"),
            "generation": record.get("generation"),
        }
        for rank, record in enumerate(top, 1)
    ]
    write_text_atomic(out / "best_genes.json", json.dumps(best, indent=2) + "\n")
    write_text_atomic(out / "best_genes.txt", "".join(f"{record['decoded']}\n" for record in top))


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
