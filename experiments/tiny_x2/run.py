"""Does the search beat hand design? ESR_EA against five hand-designed tiny x2 networks on a CPU budget.

One recipe (recipe.yaml) trains every network; the search (search.yaml) is `esr-ea` with
`fully_train.top_k: 0`. Stages, in order, each resumable (a killed run rerun continues where it
stopped and redoes nothing finished):

1. search: `esr-ea` on the training photos (5 held out for validation), 2 worker processes of 1 thread;
2. choose: the 3 best candidates by search PSNR and 3 others drawn at random (seed 0), in chosen.json;
3. train: `zoo train` with recipe.yaml for the baselines (fsrcnn, espcn, sesr_m5, ecbsr_m4c16,
   imdn_rtc) and the 6 chosen candidates, 2 runs at a time, 1 thread each; each run tests itself on
   Set5/Set14/BSD68 and writes its deployed network;
4. official: `zoo eval` of the authors' IMDN-RTC checkpoint (trained for days on DIV2K), when found;
5. latency: every deployed network timed on a 360x640 LR input (a 720p output), 1 thread, in
   interleaved rounds with nothing else running, in latency.json;
6. report: table.md / table.json and psnr_vs_params.png (report.py).

    OMP_NUM_THREADS=1 python experiments/tiny_x2/run.py            # the full run, about an hour
    python experiments/tiny_x2/run.py --quick --out /tmp/tiny_quick  # a smoke run of every stage

The full run writes its runs under experiments/tiny_x2/results/ (not committed) and its report beside
this file; `--quick` shrinks every budget and writes everything into --out.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml
from report import write_report

from sr_data import find_datasets_root, write_text_atomic
from sr_search_evo import SearchResult

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from app_runs import evaluate_references, measure_latency, search_only, zoo_train  # noqa: E402

BASELINES = ("fsrcnn", "espcn", "sesr_m5", "ecbsr_m4c16", "imdn_rtc")
TOP, RANDOM = 3, 3
OFFICIAL = {"imdn_rtc_official": "model_RTC.pth"}  # name in the table: file in the weights folder
LATENCY_LR = (360, 640)
LATENCY_ROUNDS = 7
SETS = ["Set5", "Set14", "BSD68"]
# --quick: every stage on a tiny budget (the configs still parse and run end to end)
QUICK_SEARCH = {
    "nas.dataset": {
        "patch_size": 32,
        "batch_size": 4,
        "patches_per_epoch": 8,
        "val": "holdout:5",
        "val_crop": 64,
    },
    "nas.search_algorithm.policy": {"num_generation": 2, "num_individual": 4, "num_elitism": 1},
    "nas.search_algorithm.latency": {"lr_size": [24, 32], "warmup": 0, "repeats": 1},
    "fully_train.dataset.val": "holdout:5",  # unused (top_k 0) but checked against the photos
    "evaluate.test": ["Set5"],
}
QUICK_TRAIN = {"steps": 4, "val_every": 2, "log_every": 2}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, help="HR training photos (default: SunHays80 in the datasets folder)"
    )
    parser.add_argument("--out", type=Path, help="results folder (default: results/ beside this file)")
    parser.add_argument(
        "--jobs", type=int, default=2, help="runs (and search workers) at a time, 1 thread each"
    )
    parser.add_argument("--quick", action="store_true", help="tiny budgets, every stage (needs --out)")
    args = parser.parse_args(argv)
    if args.quick and args.out is None:
        parser.error("--quick writes into --out; give one")
    data = args.data
    if data is None:
        datasets = find_datasets_root()
        if datasets is None:
            parser.error(
                "no datasets folder found: pass --data, or set SR_DATASETS to the folder holding SunHays80"
            )
        data = datasets / "SunHays80"
    if not data.is_dir():
        parser.error(
            f"no training photos at {data}: pass --data, or set SR_DATASETS to the folder holding SunHays80"
        )
    out = args.out or HERE / "results"
    out.mkdir(parents=True, exist_ok=True)
    search = search_only(HERE / "search.yaml", data, out, args.jobs, QUICK_SEARCH if args.quick else {})
    chosen = choose_candidates(search, out)
    trained = train_all(chosen, data, out, args.jobs, args.quick)
    trained.update(evaluate_references(OFFICIAL, ["Set5"] if args.quick else SETS, out))
    size, rounds = ((24, 32), 2) if args.quick else (LATENCY_LR, LATENCY_ROUNDS)
    latency = measure_latency(trained, out, size, rounds)
    report_dir = out if args.quick or args.out is not None else HERE
    write_report(report_dir, out, chosen, trained, latency)
    print(f"report: {report_dir / 'table.md'}, {report_dir / 'psnr_vs_params.png'}")


def choose_candidates(search: Path, out: Path) -> list[dict[str, Any]]:
    """Stage 2: the top candidates by search PSNR and a random draw of the others, fixed in chosen.json."""
    path = out / "chosen.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))
    result = SearchResult.load(search)  # trained candidates, each once, by PSNR then key
    ranked = result.best(len(result.history))
    top, rest = ranked[:TOP], ranked[TOP:]
    drawn = random.Random(0).sample(rest, min(RANDOM, len(rest)))
    chosen = [
        {
            "name": f"{kind}{i}",
            "genes": r["decoded"],
            "search_psnr": r["psnr"],
            "search_latency_ms": r.get("latency_ms"),
        }
        for kind, group in (("search_top", top), ("search_random", drawn))
        for i, r in enumerate(group, 1)
    ]
    write_text_atomic(path, json.dumps(chosen, indent=2) + "\n")
    return chosen


def train_all(chosen: list[dict], data: Path, out: Path, jobs: int, quick: bool) -> dict[str, dict]:
    """Stage 3: `zoo train` every baseline and chosen candidate with the one recipe, `jobs` at a time."""
    recipe = yaml.safe_load((HERE / "recipe.yaml").read_text("utf-8"))
    if quick:
        recipe["train"].update(QUICK_TRAIN)
        recipe["data"].update(test=["Set5"])
    search_config = yaml.safe_load((HERE / "search.yaml").read_text("utf-8"))
    g0 = search_config["nas"]["search_space"]["esrbody"]["G0"]
    models = {name: {"name": name} for name in BASELINES}
    models.update({c["name"]: {"name": "esrn", "kwargs": {"genes": c["genes"], "G0": g0}} for c in chosen})

    def train(name: str) -> tuple[str, dict]:
        report = zoo_train(name, models[name], recipe, data, out)
        return name, {"kind": "baseline" if name in BASELINES else "searched", **report}

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(pool.map(train, models))


if __name__ == "__main__":
    main()
