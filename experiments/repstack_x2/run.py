"""Does a re-parameterisable, latency-aware search beat hand design? Tiny x2 networks on a CPU budget.

The same data, recipe and baselines as experiments/tiny_x2 (SunHays80 x2, 5 photos held out,
`../tiny_x2/recipe.yaml`), on the plain-stack space of `sr_search_evo.RepStackSpace` (search.yaml).
Stages, each resumable (a killed run rerun continues where it stopped, finished runs are skipped):

rank benchmark (the data `benchmarks/bench_fitness_rank.py` scores fitness variants against):
1. draw: networks sampled from the space with a fixed seed, their deployed CPU latency measured,
   and one taken from each of 12 latency strata (drawn.json);
2. train: `zoo train` with the recipe for the 12 and for ECBSR-M4C16 and SESR-M5 at seed 0, and
   the two baselines again at seed 1 (the seed-to-seed noise), 2 runs at a time, 1 thread each;
3. collect: rank_networks.json beside this file and every network's deployed weights in weights/.

    OMP_NUM_THREADS=1 python experiments/repstack_x2/run.py          # every stage (resumes)
    python experiments/repstack_x2/run.py --quick --out /tmp/repstack  # a smoke run of every stage
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
import yaml

from sr_blocks import create_model
from sr_data import find_datasets_root, write_text_atomic
from sr_search_evo import LatencySettings, measure_latency_ms
from sr_search_evo.repstack_space import RepStackSpace, repstack_macs, repstack_params

HERE = Path(__file__).resolve().parent
RECIPE = HERE.parent / "tiny_x2" / "recipe.yaml"
HAND_DESIGNED = ("ecbsr_m4c16", "sesr_m5")
RANK_DRAWS, RANK_STRATA = 60, 12
SEEDS = (0, 1)
QUICK_TRAIN = {"steps": 4, "val_every": 2, "log_every": 2}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="HR training photos (default: SunHays80 in SR_DATASETS)")
    parser.add_argument("--out", type=Path, help="results folder (default: results/ beside this file)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, 1 thread each")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, every stage (needs --out)")
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick writes into --out; give one")
    root = find_datasets_root()
    data = args.data or (root / "SunHays80" if root is not None else None)
    if data is None or not data.is_dir():
        parser.error(f"no training photos at {data}: pass --data or set SR_DATASETS")
    out = args.out or HERE / "results"
    publish = out if args.quick or args.out is not None else HERE
    out.mkdir(parents=True, exist_ok=True)
    drawn = draw_rank_networks(out, args.quick)
    models = {name: {"name": name} for name in HAND_DESIGNED}
    models.update({d["name"]: {"name": "repstack", "kwargs": {"genes": d["genes"]}} for d in drawn})
    runs = [(name, 0) for name in models] + [(name, 1) for name in HAND_DESIGNED]
    trained = train_runs(runs, models, data, out, args.jobs, args.quick)
    collect_rank_networks(drawn, trained, publish)
    print(f"rank benchmark: {publish / 'rank_networks.json'}", flush=True)


def space_from_config(path: Path) -> tuple[RepStackSpace, dict]:
    """The RepStackSpace and the `range`/`latency` sections of a search config."""
    nas = yaml.safe_load(path.read_text("utf-8"))["nas"]
    knobs = {k: v for k, v in nas["search_space"]["repstack"].items() if k != "type"}
    bounds = nas["search_algorithm"]["range"]
    limits = {k: v for k, v in bounds.items() if k != "max_latency_ms"}
    return RepStackSpace(**knobs, **limits), nas["search_algorithm"]


def draw_rank_networks(out: Path, quick: bool) -> list[dict[str, Any]]:
    """Stage 1: RANK_DRAWS networks of the space (seed 0), timed; the middle one of each latency stratum."""
    path = out / "drawn.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))
    space, algorithm = space_from_config(HERE / "search.yaml")
    settings = LatencySettings(**{**algorithm["latency"], **({"lr_size": [24, 32]} if quick else {})})
    rng = random.Random(0)
    draws, strata = (8, 4) if quick else (RANK_DRAWS, RANK_STRATA)
    candidates = []
    for _ in range(draws):
        genes = space.decode(space.repair(space.sample(rng), rng))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            model = create_model("repstack", scale=space.scale, genes=genes)
        candidates.append({"genes": genes, "latency_ms": measure_latency_ms(model, 3, settings)})
        print(f"draw: {len(candidates)}/{draws} {candidates[-1]['latency_ms']:.1f} ms", flush=True)
    candidates.sort(key=lambda c: c["latency_ms"])
    size = len(candidates) / strata
    chosen = [candidates[int(size * i + size / 2)] for i in range(strata)]
    drawn = [
        {
            "name": f"rank{i:02d}",
            **c,
            "params": repstack_params(c["genes"], space.scale),
            "macs_720p": repstack_macs(c["genes"], (360, 640), space.scale),
        }
        for i, c in enumerate(chosen, 1)
    ]
    write_text_atomic(path, json.dumps(drawn, indent=2) + "\n")
    return drawn


def environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def app(name: str) -> list[str]:
    """An app's console script in this interpreter's environment."""
    return [str(Path(sys.executable).parent / name)]


def run_command(args: list[str], log: Path) -> None:
    """Run one app command line (its output into `log`); a failure stops the driver, naming it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as stream:
        done = subprocess.run(args, stdout=stream, stderr=subprocess.STDOUT, env=environment())
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {done.returncode}); see {log}")


def run_name(name: str, seed: int) -> str:
    return name if seed == 0 else f"{name}_seed{seed}"


def train_runs(
    runs: list[tuple[str, int]], models: dict[str, dict], data: Path, out: Path, jobs: int, quick: bool
) -> dict[str, dict]:
    """`zoo train` each (model, seed) with the one recipe (only `model:` and `train.seed` added)."""
    recipe = yaml.safe_load(RECIPE.read_text("utf-8"))
    if quick:
        recipe["train"].update(QUICK_TRAIN)
        recipe["data"].update(test=["Set5"])

    def train(run: tuple[str, int]) -> tuple[str, dict]:
        name, seed = run
        label = run_name(name, seed)
        folder = out / "train" / label
        if not (folder / "results.json").is_file():
            config = out / "recipes" / f"{label}.yaml"
            body = {"model": models[name], **recipe, "train": {**recipe["train"], "seed": seed}}
            write_text_atomic(config, yaml.safe_dump(body, sort_keys=False))
            command = [*app("zoo"), "train", "--config", str(config), "--scale", "2", "--data", str(data)]
            print(f"train: {label}", flush=True)
            run_command(
                [*command, "--out", str(folder), "--device", "cpu", "--quiet"], out / "logs" / f"{label}.log"
            )
        return label, json.loads((folder / "results.json").read_text("utf-8"))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(train, runs))


def summary(report: dict) -> dict[str, Any]:
    """Held-out validation PSNR and the test sets' PSNR/SSIM of one `zoo train` results.json."""
    tests = {
        name: {"psnr": row["psnr"], "ssim": row.get("ssim")} for name, row in report["benchmarks"].items()
    }
    return {"val_psnr": report["best_val_psnr"], "tests": tests, "train_seconds": report.get("train_seconds")}


def collect_rank_networks(drawn: list[dict], trained: dict[str, dict], publish: Path) -> None:
    """Stage 3: rank_networks.json (genes, costs, scores of every run) and weights/<run>.pt."""
    weights = publish / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    genes = {d["name"]: d for d in drawn}
    rows = []
    for label, report in trained.items():
        name = label.split("_seed")[0]
        target = weights / f"{label}.pt"
        if not target.is_file():
            shutil.copyfile(report["deployed"], target)
        row = {"name": label, "model": name if name in HAND_DESIGNED else "repstack"}
        if name in genes:
            row.update({k: genes[name][k] for k in ("genes", "latency_ms", "params", "macs_720p")})
        row.update(seed=int(label.split("_seed")[1]) if "_seed" in label else 0, **summary(report))
        row["weights"] = str(target.relative_to(publish))
        rows.append(row)
    write_text_atomic(publish / "rank_networks.json", json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
