"""What the experiment drivers share: running the apps' command lines (one thread each), resumably.

Each function skips what its folder already holds (a finished `zoo train`, `zoo eval` or latency
file), so a killed driver rerun continues where it stopped. The drivers import this module from the
folder above their own.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import yaml

from sr_data import find_weights_root, write_text_atomic
from sr_deploy import load_trained
from sr_eval import interleaved_times_ms, profile
from sr_eval.report import RESULTS_FILE, read_results


def environment() -> dict[str, str]:
    """The environment of every app run: one intra-op thread, so two runs share two cores fairly."""
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def app(name: str) -> list[str]:
    """An app's console script in this interpreter's environment."""
    return [str(Path(sys.executable).parent / name)]


def run_command(args: list[str], log: Path) -> None:
    """Run one app command line (its own output into `log`); a failure stops the driver, naming it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as stream:
        done = subprocess.run(args, stdout=stream, stderr=subprocess.STDOUT, env=environment())
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {done.returncode}); see {log}")


def search_only(config: Path, data: Path, out: Path, jobs: int, overrides: dict[str, Any]) -> Path:
    """`esr-ea` with `config` (its `--set` `overrides`) into out/search, `jobs` workers of one thread."""
    folder = out / "search"
    sets = [a for key, value in overrides.items() for a in ("--set", f"{key}={json.dumps(value)}")]
    pool = ["--evaluator", "pool", "--workers", str(jobs), "--threads-per-worker", "1"]
    command = [*app("esr-ea"), "--config", str(config), "--data", str(data), "--out", str(folder)]
    print(f"search: {folder}", flush=True)
    run_command([*command, *pool, *sets, "--device", "cpu", "--quiet"], out / "logs" / "search.log")
    return folder


def zoo_train(
    label: str, model: dict[str, Any], recipe: dict[str, Any], data: Path, out: Path
) -> dict[str, Any]:
    """`zoo train` of `model` ({name, kwargs}) with `recipe` (only `model:` added) into out/train/<label>;
    its results.json."""
    folder = out / "train" / label
    if not (folder / RESULTS_FILE).is_file():
        config = out / "recipes" / f"{label}.yaml"
        write_text_atomic(config, yaml.safe_dump({"model": model, **recipe}, sort_keys=False))
        command = [*app("zoo"), "train", "--config", str(config), "--scale", "2", "--data", str(data)]
        print(f"train: {label}", flush=True)
        run_command(
            [*command, "--out", str(folder), "--device", "cpu", "--quiet"], out / "logs" / f"{label}.log"
        )
    return read_results(folder)


def zoo_eval(what: list[str], sets: list[str], out: Path, name: str) -> dict[str, dict]:
    """`zoo eval` of weights or a weight-free model into out/eval/<name>; its per-set summary."""
    folder = out / "eval" / name
    if not (folder / "benchmark.json").is_file():
        command = [*app("zoo"), "eval", *what, "--sets", *sets, "--out", str(folder), "--device", "cpu"]
        run_command(command, out / "logs" / f"{name}.log")
    return json.loads((folder / "benchmark.json").read_text("utf-8"))["summary"]


def evaluate_references(official: dict[str, str], sets: list[str], out: Path) -> dict[str, dict]:
    """Bicubic and the authors' checkpoints (`official`: table name -> file in the weights folder) on
    the test sets; a checkpoint not found is left out, with a note."""
    found = {
        "bicubic": {
            "kind": "reference",
            "deployed": None,
            "benchmarks": zoo_eval(["--model", "bicubic", "--scale", "2"], sets, out, "bicubic"),
        }
    }
    root = find_weights_root()
    for name, file in official.items():
        weights = root / file if root is not None else None
        if weights is None or not weights.is_file():
            where = weights or f"{file} (no weights folder: set SR_WEIGHTS)"
            print(f"official: {where} not found, {name} left out of the table", flush=True)
            continue
        found[name] = {
            "kind": "official",
            "deployed": str(weights),
            "benchmarks": zoo_eval(["--weights", str(weights)], sets, out, name),
        }
    return found


def latencies_ms(
    models: dict[str, torch.nn.Module],
    size: Sequence[int],
    rounds: int,
    statistic: Callable[[list[float]], float] = statistics.median,
) -> dict[str, float]:
    """One-thread CPU latency (ms) of each network on one `size` LR input: `statistic` (the median, or
    `min` where other jobs interfere: they only ever add time) of interleaved rounds, so that a slow
    moment of the machine hits every network alike."""
    torch.set_num_threads(1)
    lr = torch.rand(1, 3, *size)
    with torch.inference_mode():
        calls = {name: (lambda model=model: model(lr)) for name, model in models.items()}
        times = interleaved_times_ms(calls, rounds, warmup=1)
    return {name: statistic(values) for name, values in times.items()}


def measure_latency(
    runs: dict[str, dict],
    out: Path,
    size: Sequence[int],
    rounds: int,
    statistic: Callable[[list[float]], float] = statistics.median,
) -> dict[str, dict]:
    """Params, MACs (720p output) and CPU latency (`latencies_ms`) of every deployed network of `runs`
    (name -> a row with its `deployed` file), kept in out/latency.json."""
    path = out / "latency.json"
    known = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    wanted = sorted(name for name, row in runs.items() if row.get("deployed"))
    if set(wanted) <= set(known):
        return known
    models = {name: load_trained(runs[name]["deployed"], deployed=True)[0] for name in wanted}
    latency = latencies_ms(models, size, rounds, statistic)
    measured: dict[str, dict] = {}
    for name, model in models.items():
        costs = profile(model, scale=2)
        measured[name] = {"params": costs.params, "macs_720p": costs.macs, "latency_ms": latency[name]}
    measured["_setup"] = {
        "lr_size": list(size),
        "threads": 1,
        "rounds": rounds,
        "statistic": statistic.__name__,
    }
    write_text_atomic(path, json.dumps(measured, indent=2) + "\n")
    return measured
