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

the experiment:
4. search: `esr-ea` with search.yaml (search only), 2 worker processes of 1 thread;
5. choose: every trained candidate and the two hand-designed networks timed together (deployed, 1
   thread, 360x640 LR, interleaved rounds); the 3 best by search PSNR among those no slower than
   SESR-M5 (one of them no slower than ECBSR-M4C16 when any is) and 3 others drawn at random (seed 0),
   in chosen.json;
6. train: the chosen and the other baselines (FSRCNN, ESPCN, IMDN-RTC) with the recipe; then, for
   each of ECBSR-M4C16 and SESR-M5, the searched network with the best held-out validation PSNR
   among those no slower than it (the winner) again at seed 1;
7. references: `zoo eval` of bicubic and of the authors' IMDN-RTC checkpoint when found;
8. latency: every deployed network, 1 thread, 360x640 LR, interleaved rounds (latency.json);
9. report: table.md / table.json / psnr_vs_latency.png and the goal's verdict, beside this file,
   with every network's deployed weights in weights/.

    OMP_NUM_THREADS=1 python experiments/repstack_x2/run.py            # every stage (resumes)
    python experiments/repstack_x2/run.py --rescore                    # the table from weights/
    python experiments/repstack_x2/run.py --quick --out /tmp/repstack  # a smoke run of every stage
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
import yaml
from report import rescore, write_report

from sr_blocks import create_model
from sr_data import find_datasets_root, write_text_atomic
from sr_deploy.loading import load_trained
from sr_eval import interleaved_times_ms
from sr_eval.report import RESULTS_FILE, read_results
from sr_search_evo import LatencySettings, RepStackBody, SearchResult, measure_latency_ms
from sr_search_evo.repstack_space import RepStackSpace, repstack_macs, repstack_params
from sr_train import section_from_dict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from app_runs import (  # noqa: E402
    evaluate_references,
    latencies_ms,
    measure_latency,
    search_only,
    zoo_train,
)

RECIPE = HERE.parent / "tiny_x2" / "recipe.yaml"
HAND_DESIGNED = ("ecbsr_m4c16", "sesr_m5")
OTHER_BASELINES = ("fsrcnn", "espcn", "imdn_rtc")
TOP, RANDOM = 3, 3
SETS = ["Set5", "Set14", "BSD68"]
OFFICIAL = {"imdn_rtc_official": "model_RTC.pth"}  # name in the table: file in the weights folder
LATENCY_LR, LATENCY_ROUNDS, CHOOSE_ROUNDS = (360, 640), 21, 3
RANK_DRAWS, RANK_STRATA = 60, 12
RANK_WINDOW = {"min_params": 5000, "max_params": 30000}  # deployed parameters of the drawn networks
SEEDS = (0, 1)
QUICK_TRAIN = {"steps": 4, "val_every": 2, "log_every": 2}
QUICK_SEARCH = {
    "nas.dataset": {
        "patch_size": 32,
        "batch_size": 4,
        "patches_per_epoch": 8,
        "val": "holdout:5",
        "val_crop": 64,
    },
    "nas.search_algorithm.policy": {
        "num_generation": 2,
        "num_individual": 4,
        "num_elitism": 1,
        "objective": "nsga2",
        "objectives": ["psnr", "latency"],
    },
    "nas.search_algorithm.latency": {"lr_size": [24, 32], "warmup": 0, "repeats": 1},
    "nas.trainer.steps": 4,
    "fully_train.dataset.val": "holdout:5",  # unused (top_k 0) but checked against the photos
    "evaluate.test": ["Set5"],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="HR training photos (default: SunHays80 in SR_DATASETS)")
    parser.add_argument("--out", type=Path, help="results folder (default: results/ beside this file)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time, 1 thread each")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, every stage (needs --out)")
    parser.add_argument(
        "--only",
        choices=["rank", "search", "experiment", "report"],
        help="only the rank benchmark (1-3), the search (4-5), the experiment (4-9), or the report of the "
        "runs finished so far (7-9, nothing trained)",
    )
    parser.add_argument("--rescore", action="store_true", help="re-score table.json's networks from weights/")
    parser.add_argument(
        "--retime",
        nargs="+",
        metavar="NAME",
        help="time committed networks (weights/NAME.pt) against each other, 1 thread, 360x640 LR, "
        "interleaved rounds; medians and per-round ratios to the first",
    )
    parser.add_argument("--rounds", type=int, default=61, help="rounds of --retime")
    args = parser.parse_args(argv)
    if args.rescore:
        rescore(args.out or HERE)
        return
    if args.retime:
        retime(args.retime, args.rounds)
        return
    if args.quick and args.out is None:
        parser.error("--quick writes into --out; give one")
    root = find_datasets_root()
    data = args.data or (root / "SunHays80" if root is not None else None)
    if data is None or not data.is_dir():
        parser.error(f"no training photos at {data}: pass --data or set SR_DATASETS")
    out = args.out or HERE / "results"
    publish = out if args.quick or args.out is not None else HERE
    out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "rank"):
        rank_benchmark(data, out, publish, args.jobs, args.quick)
    if args.only in (None, "search", "experiment"):
        search = search_only(HERE / "search.yaml", data, out, args.jobs, QUICK_SEARCH if args.quick else {})
        chosen = choose_candidates(search, out, args.quick)
    if args.only in (None, "experiment"):
        experiment(chosen, data, out, publish, args.jobs, args.quick)
    if args.only == "report":
        report_finished(out, publish, args.quick)


def retime(names: list[str], rounds: int) -> None:
    """Fastest and median latency of each committed network, and its median per-round ratio to the
    first one (the table's latency is the fastest round: other jobs only ever add time)."""
    torch.set_num_threads(1)
    lr = torch.rand(1, 3, *LATENCY_LR)
    models = {name: load_trained(HERE / "weights" / f"{name}.pt")[0].eval() for name in names}
    with torch.inference_mode():
        calls = {name: (lambda model=model: model(lr)) for name, model in models.items()}
        times = interleaved_times_ms(calls, rounds, warmup=2)
    first = times[names[0]]
    for name in names:
        ratio = statistics.median(a / b for a, b in zip(times[name], first, strict=True))
        fastest, median = min(times[name]), statistics.median(times[name])
        times_text = f"fastest {fastest:.1f} ms, median {median:.1f} ms"
        print(f"{name}: {times_text}, per-round ratio to {names[0]} {ratio:.3f}")


def rank_benchmark(data: Path, out: Path, publish: Path, jobs: int, quick: bool) -> None:
    """Stages 1-3: draw, train (the hand-designed networks at both seeds first) and collect."""
    drawn = draw_rank_networks(out, quick)
    models = {name: {"name": name} for name in HAND_DESIGNED}
    models.update({d["name"]: {"name": "repstack", "kwargs": {"genes": d["genes"]}} for d in drawn})
    runs = [(name, seed) for seed in SEEDS for name in HAND_DESIGNED] + [(d["name"], 0) for d in drawn]
    trained = train_runs(runs, models, data, out, jobs, quick)
    collect_rank_networks(drawn, trained, publish)
    print(f"rank benchmark: {publish / 'rank_networks.json'}", flush=True)


def experiment(chosen: list[dict], data: Path, out: Path, publish: Path, jobs: int, quick: bool) -> None:
    """Stages 6-9: train the chosen and the winners' second seed, the baselines, references, latency,
    report (the hand-designed networks' runs are the rank benchmark's, trained here when missing)."""
    models = {name: {"name": name} for name in (*HAND_DESIGNED, *OTHER_BASELINES)}
    models.update({c["name"]: {"name": "repstack", "kwargs": {"genes": c["genes"]}} for c in chosen})
    trained = train_runs([(c["name"], 0) for c in chosen], models, data, out, jobs, quick)
    winners = choose_winners(chosen, trained, out)
    again = [(w, 1) for w in sorted(set(winners.values()))]
    again += [(name, seed) for seed in SEEDS for name in HAND_DESIGNED] + [(n, 0) for n in OTHER_BASELINES]
    trained.update(train_runs(again, models, data, out, jobs, quick))
    references = evaluate_references(OFFICIAL, ["Set5"] if quick else SETS, out)
    size, rounds = ((24, 32), 2) if quick else (LATENCY_LR, LATENCY_ROUNDS)
    latency = measure_latency({**trained, **references}, out, size, rounds, statistic=min)
    write_report(publish, chosen, winners, trained, references, latency)
    print(f"report: {publish / 'table.md'}", flush=True)


def space_from_config(path: Path) -> tuple[RepStackSpace, dict]:
    """The RepStackSpace of a search config's choices within RANK_WINDOW, and its `search_algorithm`."""
    nas = yaml.safe_load(path.read_text("utf-8"))["nas"]
    body = section_from_dict(RepStackBody, nas["search_space"]["repstack"], "nas.search_space.repstack", path)
    return body.space(**RANK_WINDOW), nas["search_algorithm"]


def draw_rank_networks(out: Path, quick: bool) -> list[dict[str, Any]]:
    """Stage 1: RANK_DRAWS networks of the space (seed 0), timed; the middle one of each latency stratum."""
    path = out / "drawn.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))
    space, algorithm = space_from_config(HERE / "search.yaml")
    settings = LatencySettings(**{**algorithm["latency"], **({"lr_size": [24, 32]} if quick else {})})
    rng = random.Random(0)
    draws, strata = (6, 2) if quick else (RANK_DRAWS, RANK_STRATA)
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
        seeded = {**recipe, "train": {**recipe["train"], "seed": seed}}
        return label, zoo_train(label, models[name], seeded, data, out)

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


def choose_candidates(search: Path, out: Path, quick: bool) -> list[dict[str, Any]]:
    """Stage 5: the top candidates by search PSNR no slower than SESR-M5 (one no slower than
    ECBSR-M4C16 when any is) and a random draw of the others, fixed in chosen.json."""
    path = out / "chosen.json"
    if path.is_file():
        return json.loads(path.read_text("utf-8"))
    ranked = SearchResult.load(search).best(10**6)  # trained candidates, each once, by PSNR then key
    models = {r["key"]: deploy_untrained("repstack", {"genes": r["decoded"]}) for r in ranked}
    models.update({name: deploy_untrained(name, {}) for name in HAND_DESIGNED})
    latency = latencies_ms(models, (24, 32) if quick else LATENCY_LR, 1 if quick else CHOOSE_ROUNDS, min)
    bound = {name: latency[name] for name in HAND_DESIGNED}
    eligible = [r for r in ranked if latency[r["key"]] <= bound["sesr_m5"]]
    top = eligible[:TOP]
    fastest = [r for r in eligible if latency[r["key"]] <= bound["ecbsr_m4c16"]]
    if top and fastest and not any(r in fastest for r in top):
        top[-1] = fastest[0]
    rest = [r for r in ranked if r not in top]
    drawn = random.Random(0).sample(rest, min(RANDOM, len(rest)))
    chosen = [
        {
            "name": f"{kind}{i}",
            "genes": r["decoded"],
            "search_psnr": r["psnr"],
            "choose_latency_ms": latency[r["key"]],
        }
        for kind, group in (("search_top", top), ("search_random", drawn))
        for i, r in enumerate(group, 1)
    ]
    record = {"chosen": chosen, "baseline_latency_ms": bound, "candidates": len(ranked)}
    write_text_atomic(out / "choose_latency.json", json.dumps(record, indent=2) + "\n")
    write_text_atomic(path, json.dumps(chosen, indent=2) + "\n")
    return chosen


def deploy_untrained(name: str, kwargs: dict) -> torch.nn.Module:
    """The deployed form of a freshly built network (latency does not depend on the weights)."""
    return create_model(name, scale=2, deployed=True, **kwargs).eval()


def report_finished(out: Path, publish: Path, quick: bool) -> None:
    """Stages 7-9 over the experiment's runs that have finished (a run still training is left out)."""
    chosen = json.loads((out / "chosen.json").read_text("utf-8"))
    labels = [run_name(n, s) for n in (*HAND_DESIGNED, *(c["name"] for c in chosen)) for s in SEEDS]
    labels += list(OTHER_BASELINES)
    trained = {label: read_results(out / "train" / label) for label in labels if is_finished(out, label)}
    done = [c for c in chosen if c["name"] in trained]
    winners = choose_winners(done, trained, out)
    expected = {run_name(n, s) for n in HAND_DESIGNED for s in SEEDS} | {c["name"] for c in chosen}
    expected |= {run_name(w, 1) for w in winners.values()} | set(OTHER_BASELINES)
    print(
        f"report: left out (not finished): {', '.join(sorted(expected - set(trained))) or 'none'}", flush=True
    )
    references = evaluate_references(OFFICIAL, ["Set5"] if quick else SETS, out)
    size, rounds = ((24, 32), 2) if quick else (LATENCY_LR, LATENCY_ROUNDS)
    latency = measure_latency({**trained, **references}, out, size, rounds, statistic=min)
    write_report(publish, done, winners, trained, references, latency)
    print(f"report: {publish / 'table.md'}", flush=True)


def is_finished(out: Path, label: str) -> bool:
    return (out / "train" / label / RESULTS_FILE).is_file()


def choose_winners(chosen: list[dict], trained: dict[str, dict], out: Path) -> dict[str, str]:
    """For each hand-designed network, the searched one with the best held-out validation PSNR among
    those no slower than it when chosen (never a test set)."""
    bounds = json.loads((out / "choose_latency.json").read_text("utf-8"))["baseline_latency_ms"]
    winners = {}
    for baseline, bound in bounds.items():
        fast = [c for c in chosen if c["choose_latency_ms"] <= bound]
        if fast:
            best = max(fast, key=lambda c: trained[c["name"]]["best_val_psnr"])
            winners[baseline] = best["name"]
    return winners


if __name__ == "__main__":
    main()
