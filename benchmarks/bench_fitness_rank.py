"""Does a search's fitness rank candidates as full training does, and at what CPU cost per candidate?

The fully trained networks are experiments/repstack_x2/rank_networks.json (12 networks drawn from
the plain-stack space across its latency range, plus ECBSR-M4C16 and SESR-M5, each trained with the
tiny-x2 recipe; `python experiments/repstack_x2/run.py` makes it). Every fitness variant of
`sr_search_evo.fitness_variants` scores the same networks on the search's own data (search.yaml's
`nas.dataset` and `nas.trainer`: the training photos, 5 held out), one thread, and is compared with
the fully trained held-out validation PSNR and the mean of Set5/Set14/BSD68: Spearman's rho,
Kendall's tau and CPU-seconds per candidate. Scores are kept in fitness_rank.json beside the
networks (a rerun reuses them; --fresh recomputes), so the table reprints in seconds.

Variants: `fixedN` trains every network N steps; `halvingN` trains all N steps, then the better half
continues to 2N, and so on; `inheritN` starts each network from a trained parent and trains N steps.
Plain names train from the model's own initial weights with L1 from the first step; a `-uv` suffix
starts from unit-variance weights and trains with MSE after a 20-step warm-up (what search.yaml's
fitness does).

    OMP_NUM_THREADS=1 python benchmarks/bench_fitness_rank.py              # all variants
    python benchmarks/bench_fitness_rank.py --variants fixed400 halving100  # some variants
    python benchmarks/bench_fitness_rank.py --esrn --variants fixed400 halving100  # tiny_x2's ESRN networks
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
from pathlib import Path

import torch
import yaml

from sr_blocks.repstack import REPSTACK_PRESETS
from sr_data import find_datasets_root, open_training_images, open_validation, write_text_atomic
from sr_search_evo import GeneFitness, RepStackBody, fitness_tensors
from sr_search_evo.fitness_variants import fixed_budget, inherited_budget, successive_halving, train_steps
from sr_search_evo.rank_correlation import kendall, spearman
from sr_search_evo.repstack_space import RepStackSpace
from sr_train import section_from_dict
from sr_train.trainer_section import TrainerSection

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "repstack_x2"
TINY_X2 = ROOT / "experiments" / "tiny_x2"
SETS = ("Set5", "Set14", "BSD68")
VARIANTS = (
    "fixed200",
    "fixed400",
    "halving100",
    "halving150",
    "inherit200",
    "fixed100-uv",
    "fixed200-uv",
    "halving100-uv",
)
# How a variant trains, over the search config's trainer: plain names keep the model's own initial
# weights and train with L1 from the first step; "-uv" names start from unit-variance weights
# (GeneFitness start="unit_variance") and train with MSE after a 20-step warm-up.
PLAIN = {"start": "default", "loss": "l1", "warmup_steps": 0}
UNIT_VARIANCE = {"start": "unit_variance", "loss": "mse", "warmup_steps": 20}
PARENT_STEPS = 400  # a parent's own fitness evaluation (the search's fixed budget)


def search_fitness(config: Path, data: Path, model: str, model_kwargs: dict, quick: bool) -> GeneFitness:
    """The fitness the search of `config` would use (its data, trainer and budget) for `model`."""
    nas = yaml.safe_load(config.read_text("utf-8"))["nas"]
    dataset, scale = nas["dataset"], 2
    trainer = section_from_dict(TrainerSection, nas["trainer"], "nas.trainer", config)
    steps_per_epoch = dataset["patches_per_epoch"] // dataset["batch_size"]
    train_config = trainer.train_config(scale, dataset["batch_size"], steps_per_epoch)
    images = open_training_images(str(data), scale)
    train, val, _ = open_validation(dataset["val"], images, scale)
    size = (
        (32, 16, 64) if quick else (dataset["patch_size"], dataset["patches_per_epoch"], dataset["val_crop"])
    )
    patches, crops = fitness_tensors(train, val, size[0], size[1], trainer.seed, size[2])
    return GeneFitness(
        patches,
        crops,
        train_config.steps,
        scale,
        model,
        model_kwargs,
        seed=trainer.seed,
        train_config=train_config,
    )


def network_genes(row: dict) -> list[str]:
    return row.get("genes") or REPSTACK_PRESETS[row["model"]]


def variant_fitness(base: GeneFitness, name: str) -> GeneFitness:
    """`base` (the search config's fitness) with the variant's start, loss and warm-up."""
    settings = UNIT_VARIANCE if name.endswith("-uv") else PLAIN
    overrides = {**base.train_overrides, **{k: v for k, v in settings.items() if k != "start"}}
    return GeneFitness(
        base.train_data,
        base.val_data,
        base.steps,
        base.scale,
        base.model,
        base.model_kwargs,
        seed=base.seed,
        train_overrides=overrides,
        start=settings["start"],
    )


def run_variant(
    name: str, base: GeneFitness, genes: list[list[str]], space: RepStackSpace | None, parent_steps: int
) -> list[dict]:
    """Scores of one variant for every network, in order."""
    fitness = variant_fitness(base, name)
    budget = name.removesuffix("-uv")
    if budget.startswith("fixed"):
        fitness.steps = int(budget.removeprefix("fixed"))
        return fixed_budget(fitness, genes)
    if budget.startswith("halving"):
        return successive_halving(fitness, genes, int(budget.removeprefix("halving")))
    steps = int(budget.removeprefix("inherit"))
    rng = random.Random(0)  # each network's parent: one mutation of it, trained `parent_steps` steps
    parents = [space.decode(space.repair(space.mutate(space.encode(g), rng, 0.2), rng)) for g in genes]
    parent_fitness = GeneFitness(
        fitness.train_data,
        fitness.val_data,
        parent_steps,
        fitness.scale,
        fitness.model,
        fitness.model_kwargs,
        seed=fitness.seed,
        train_overrides=fitness.train_overrides,
        start=fitness.start,
    )

    def parent_state(parent: list[str]) -> dict[str, torch.Tensor]:
        model = parent_fitness.build(parent)
        train_steps(parent_fitness, model, parent, parent_fitness.steps, 0)
        return model.state_dict()

    return inherited_budget(fitness, genes, parents, steps, parent_state)


def correlations(scores: list[float], rows: list[dict]) -> dict[str, float]:
    val = [r["val_psnr"] for r in rows]
    tests = [statistics.mean(r["tests"][s]["psnr"] for s in SETS if s in r["tests"]) for r in rows]
    return {
        "spearman_val": spearman(scores, val),
        "kendall_val": kendall(scores, val),
        "spearman_test": spearman(scores, tests),
        "kendall_test": kendall(scores, tests),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=Path, default=EXPERIMENT / "rank_networks.json")
    parser.add_argument("--config", type=Path, default=EXPERIMENT / "search.yaml")
    parser.add_argument("--data", type=Path, help="training photos (default: SunHays80 in SR_DATASETS)")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument(
        "--scores", type=Path, help="where scores are kept (default: fitness_rank.json beside --networks)"
    )
    parser.add_argument("--fresh", action="store_true", help="recompute every score")
    parser.add_argument("--quick", action="store_true", help="tiny data (a smoke run)")
    parser.add_argument(
        "--esrn", action="store_true", help="score tiny_x2's six fully trained ESRN networks instead"
    )
    args = parser.parse_args(argv)
    root = find_datasets_root()
    data = args.data or (root / "SunHays80" if root is not None else None)
    if data is None or not data.is_dir():
        sys.exit(f"bench_fitness_rank: no training photos at {data}: pass --data or set SR_DATASETS")
    drawn = EXPERIMENT / "results" / "drawn.json"
    if args.esrn and any(v.endswith("-uv") for v in args.variants):
        sys.exit("bench_fitness_rank: the unit-variance start needs a model with layers(); not with --esrn")
    if args.esrn and any(v.startswith("inherit") for v in args.variants):
        sys.exit("bench_fitness_rank: inherit draws parents from the plain-stack space; not with --esrn")
    if not args.esrn and not args.networks.is_file() and not drawn.is_file():
        sys.exit(f"bench_fitness_rank: {args.networks} not found; run experiments/repstack_x2/run.py first")
    unknown = [v for v in args.variants if not re.fullmatch(r"(fixed|halving|inherit)\d+(-uv)?", v)]
    if unknown:
        sys.exit(f"bench_fitness_rank: unknown variants {unknown}; e.g. {', '.join(VARIANTS)}")
    torch.set_num_threads(1)
    if args.esrn:
        table = json.loads(TINY_X2.joinpath("table.json").read_text("utf-8"))["rows"]
        rows = [
            {"name": r["name"], "genes": r["genes"], "val_psnr": r["val_psnr"], "tests": r["benchmarks"]}
            for r in table
            if r["kind"] == "searched"
        ]
    elif args.networks.is_file():
        rows = [r for r in json.loads(args.networks.read_text("utf-8")) if r.get("seed", 0) == 0]
    else:  # the networks are still training: score them now, correlate once they are trained
        listed = json.loads(drawn.read_text("utf-8"))
        rows = [{"name": n, "model": n} for n in REPSTACK_PRESETS] + [
            {**d, "model": "repstack"} for d in listed
        ]
    genes = [network_genes(r) for r in rows]
    config = TINY_X2 / "search.yaml" if args.esrn else args.config
    nas = yaml.safe_load(config.read_text("utf-8"))["nas"]
    if args.esrn:
        space, model = None, ("esrn", {"G0": nas["search_space"]["esrbody"]["G0"]})
        store = args.scores or TINY_X2 / "fitness_rank.json"
    else:
        body = section_from_dict(
            RepStackBody, nas["search_space"]["repstack"], "nas.search_space.repstack", config
        )
        space, model = body.space(), ("repstack", {})
        store = args.scores or args.networks.with_name("fitness_rank.json")
    kept = {} if args.fresh or not store.is_file() else json.loads(store.read_text("utf-8"))
    fitness = search_fitness(config, data, *model, args.quick)
    names = [r["name"] for r in rows]
    for variant in args.variants:
        if kept.get(variant, {}).get("networks") != names:
            print(f"{variant}: scoring {len(rows)} networks", flush=True)
            results = run_variant(variant, fitness, genes, space, 4 if args.quick else PARENT_STEPS)
            kept[variant] = {"networks": names, "results": results}
            write_text_atomic(store, json.dumps(kept, indent=2) + "\n")
    if not all("val_psnr" in r for r in rows):
        print("scores kept; the networks are not all trained yet, so no correlation to print")
        return
    print(f"\n{len(rows)} fully trained networks ({'tiny_x2 ESRN' if args.esrn else args.networks.name})")
    header = ("variant", "Spearman (val)", "Kendall (val)", "Spearman (test mean)", "Kendall (test mean)")
    print("| " + " | ".join(header) + " | CPU-s per candidate |")
    print("|---|---|---|---|---|---|")
    for variant in args.variants:
        results = kept[variant]["results"]
        corr = correlations([r["score"] for r in results], rows)
        cpu = statistics.mean(r["cpu_seconds"] for r in results)
        print(
            f"| {variant} | {corr['spearman_val']:.2f} | {corr['kendall_val']:.2f} | "
            f"{corr['spearman_test']:.2f} | {corr['kendall_test']:.2f} | {cpu:.1f} |"
        )


if __name__ == "__main__":
    main()
