"""The ESR_EA pipeline in one sr_train.RunFolder: search -> fully train the top-k -> ship each -> table.

Results folder:
    config.yaml              the run's settings: data, evaluator, workers, device and the whole config
    run.log                  every message of every run of this folder
    stages/<stage>.json      done-markers with each stage's result: search, train-top<k>, ship-top<k>, table
    history.jsonl            one line per evaluated candidate (genes, params, MACs, PSNR, seconds)
    population.json          the search's checkpoint after each generation
    best_genes.json/.txt     the top-k candidates of the search
    top<k>/                  full training (best.pt, last.pt, train.log, metrics.jsonl) and
                             sr_deploy.ship_trained's benchmark.*, deployed.pt, model.onnx
    bicubic/                 bicubic's benchmark
    table.md, table.json     params, MACs, PSNR/SSIM per test set of the top-k and of bicubic
    cache/                   decoded training images (safe to delete)
    front.json               the search's Pareto front over PSNR and the run's costs
    pareto_<cost>.png        search PSNR vs params, MACs and (when measured) latency, fronts marked
    compare_<cost>.png       with --compare: this run next to other runs and zoo models (compare.json)

Every check runs before the folder is opened, so a refused command leaves nothing behind. A rerun
continues: a finished stage is skipped, the search resumes from its checkpoint, a full training
from last.pt; a rerun with another config or data is refused with the differences.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from sr_blocks import create_model
from sr_data import RandomPatches, open_test_sets, open_training_images, open_validation, write_text_atomic
from sr_deploy import benchmark, measure, ship_trained
from sr_esr_ea.config import EsrConfig, load_config
from sr_esr_ea.report import write_table
from sr_esr_ea.version import __version__
from sr_eval.runtime import RunFailed, resolve_device
from sr_search_evo import (
    CenterCrops,
    GeneFitness,
    ProcessPoolEvaluator,
    build_esr_screen,
    build_esr_space,
    evaluator_options,
    fitness_tensors,
    make_evaluator,
    run_search,
)
from sr_search_evo.compare import load_sources, write_comparison
from sr_search_evo.fronts import costs_of, run_costs, write_front
from sr_search_evo.plots import latency_label, plot_fronts
from sr_train import ConfigError, RunFolder, path_setting, registered_trainer, section_to_dict

HISTORY = "history.jsonl"
MAY_CHANGE = ("evaluator", "workers", "threads_per_worker", "device")  # how fast results come, not what
Images = tuple[Dataset, Dataset | None, list[str]]  # sr_data.open_validation's (train, val, notes)


def run(args: argparse.Namespace) -> None:
    """Check everything `esr-ea` was asked for, then run (or continue) the pipeline in `args.out`;
    with --compare alone (no --config, no --resume), only compare the run in `args.out` with others."""
    if args.compare and args.config is None and not args.resume:
        write_comparison(args.out, args.compare, lambda line: args.quiet or print(line, file=sys.stderr))
        return
    device = resolve_device(args.device)
    options = evaluator_options(args.evaluator, args.device, args.workers, args.threads_per_worker)
    folder = RunFolder(args.out, quiet=args.quiet)
    config, data, source = requested(args, folder)
    scale = config.scale
    load_sources(args.compare or [], scale)  # a folder that cannot be compared: refused before any work
    images = open_training_images(data, scale)
    nas = open_validation(config.nas.dataset.val, images, scale, f"nas.dataset.val in {source}")
    full = open_validation(
        config.fully_train.dataset.val, images, scale, f"fully_train.dataset.val in {source}"
    )
    if nas[1] is None:
        raise ConfigError(f"nas.dataset.val in {source}: the search validates every candidate, 'none' cannot")
    for stage, (train, val, _) in (("nas", nas), ("fully_train", full)):
        sizes = getattr(config, stage).dataset
        try:  # an image smaller than a patch or than the validation crop: refused before the folder exists
            RandomPatches(train, sizes.patch_size, sizes.patches_per_epoch)
            if sizes.val_crop and val is not None:
                CenterCrops(val, sizes.val_crop, scale)
        except ValueError as err:
            raise ConfigError(f"{stage}.dataset in {source}: {err}") from None
    notes = [f"nas.dataset: {n}" for n in nas[2]] + [f"fully_train.dataset: {n}" for n in full[2]]
    try:
        tests = open_test_sets(config.evaluate.test, scale, notes)
    except (FileNotFoundError, ValueError) as err:  # a named set that is not found
        raise type(err)(f"evaluate.test in {source}: {err}") from None
    settings = {
        "data": path_setting(data),
        "evaluator": args.evaluator,
        "workers": args.workers,
        "threads_per_worker": args.threads_per_worker,
    }
    folder.open({**settings, "device": args.device, "config": section_to_dict(config)}, MAY_CHANGE)

    folder.log(f"esr-ea {__version__}: config {source}, data {data}, {args.evaluator} on {device}")
    for note in notes:
        folder.log(note)
    search = folder.finished("search") or folder.record(
        "search", search_stage(config, nas, folder, args.evaluator, options)
    )
    if config.fully_train.top_k == 0:
        folder.log(f"fully_train.top_k is 0: search only; the candidates are in {folder.path / HISTORY}")
        return
    rows = []
    for candidate in search["top"]:
        name = f"top{candidate['rank']}"
        trained = folder.finished(f"train-{name}") or folder.record(
            f"train-{name}", train_stage(candidate["genes"], folder.path / name, config, full, device, folder)
        )
        shipped = folder.finished(f"ship-{name}") or folder.record(
            f"ship-{name}", ship_trained(folder.path / name, tests, device=device, log=folder.log)
        )
        rows.append({"name": name, **candidate, **trained, **shipped})
    if folder.finished("table") is None:
        folder.record("table", table_stage(folder.path, rows, search, tests, scale, device))
    folder.log("results (PSNR/SSIM on Y, crop = scale):\n" + (folder.path / "table.md").read_text("utf-8"))
    if args.compare:
        write_comparison(folder.path, args.compare, folder.log)


def requested(args: argparse.Namespace, folder: RunFolder) -> tuple[EsrConfig, str, str]:
    """(config, data, where the config came from): as given, or on --resume the folder's own."""
    if not args.resume:
        if args.config is None or args.data is None:
            raise ValueError("give --config and --data (or --resume to continue the run in --out)")
        config, path = load_config(args.config, args.set)
        return config, args.data, str(path)
    recorded = folder.recorded_settings()
    if recorded is None or not {"config", "data"} <= set(recorded):
        raise ValueError(
            f"--resume: {folder.path} holds no esr-ea run (no config and data in {folder.settings_path})"
        )
    if args.config is not None:
        config, path = load_config(args.config, args.set)
    else:
        config, path = load_config(str(folder.settings_path), args.set, recorded["config"])
    return config, args.data or recorded["data"], str(path)


def search_stage(
    config: EsrConfig, images: Images, folder: RunFolder, kind: str, options: dict[str, Any]
) -> dict[str, Any]:
    """Search (or resume, or reload a finished search) in the folder; the top-k, best_genes, pareto.png."""
    nas, out, (train, val, _) = config.nas, folder.path, images
    space = build_esr_space(nas.search_space, nas.search_algorithm.range)
    policy, data = nas.search_algorithm.policy, nas.dataset
    train_config = nas.trainer.train_config(config.scale, data.batch_size, data.steps_per_epoch)
    seed = nas.trainer.seed
    patches, crops = fitness_tensors(
        train, val, data.patch_size, data.patches_per_epoch, seed, data.val_crop, out / "cache"
    )
    model, kwargs = nas.search_space.candidate_model()
    fitness = GeneFitness(
        patches,
        crops,
        train_config.steps,
        config.scale,
        model,
        kwargs,
        seed=seed,
        train_config=train_config,
        start=nas.search_space.fitness_start,
    )
    folder.log(
        f"search: up to {policy.num_generation * policy.num_individual} candidates ({policy.num_generation} "
        f"generations x {policy.num_individual}), {train_config.steps} fast-training steps each on "
        f"{len(patches)} patches of {data.patch_size} px, validated on {len(crops)} crops of "
        f"{crops.hr.shape[-1]} px"
    )
    screen = build_esr_screen(nas.search_space, nas.search_algorithm, out, folder.log)
    with make_evaluator(kind, fitness, **options) as evaluator:
        if isinstance(evaluator, ProcessPoolEvaluator):
            folder.log(f"search: process pool of {evaluator.describe()}")
        result = run_search(space, evaluator, policy, out, log=folder.log, screen=screen)
    top = result.best(config.fully_train.top_k)
    if not result.best(1):
        raise RunFailed(why_none_trained(result.history, nas.search_algorithm.range.max_latency_ms, out))
    seconds = sum(r.get("seconds") or 0.0 for r in result.history)
    devices = ", ".join(sorted({str(r.get("device")) for r in result.history}))
    rate = len(result.history) / seconds * 3600 if seconds else float("nan")
    folder.log(
        f"search: {len(result.history)} candidates trained in {seconds:.0f} s of fast training on "
        f"{devices} ({rate:.0f} candidates per device-hour)"
    )
    keys = ("key", "params", "macs", "generation")
    best = [
        {"rank": rank, "genes": r["decoded"], "search_psnr": r["psnr"], **{k: r.get(k) for k in keys}}
        for rank, r in enumerate(top, 1)
    ]
    write_text_atomic(out / "best_genes.json", json.dumps(best, indent=2) + "\n")
    write_text_atomic(out / "best_genes.txt", "".join(f"{r['genes']}\n" for r in best))
    costs = costs_of(result.history)
    latency = latency_label(nas.search_algorithm.latency) if screen is not None else None
    front = write_front(out, result.history, run_costs(policy, costs), latency)
    title = f"ESR_EA search, x{config.scale}"
    plots = plot_fronts(result.history, costs, top, front["front"], out, title, latency)
    folder.log(
        f"search: front of {len(front['front'])} over {', '.join(front['objectives'])} in front.json; "
        f"plots {', '.join(p.name for p in plots)}"
    )
    return {"top": best, "candidates": len(result.history), "training_seconds": seconds}


def why_none_trained(history: list[dict], max_latency_ms: float | None, out: Path) -> str:
    """Why a search trained no candidate: the latency limit rejected every one (said with the fastest
    latency measured, so the limit can be set), or every training failed."""
    latencies = [r["latency_ms"] for r in history if r.get("rejected") and r.get("latency_ms") is not None]
    if history and len(latencies) == len(history):
        return (
            f"range.max_latency_ms {max_latency_ms:g} rejected every candidate of the search: the fastest "
            f"measured {min(latencies):.4g} ms; see {out / 'screened.jsonl'}"
        )
    return f"every candidate of the search failed to train; see {out / HISTORY}"


def train_stage(
    genes: list[str], out: Path, config: EsrConfig, images: Images, device: torch.device, folder: RunFolder
) -> dict[str, Any]:
    """Fully train the candidate `genes` in `out` with sr_train.Trainer (resumes from out/last.pt)."""
    stage, scale, (train, val, _) = config.fully_train, config.scale, images
    if stage.dataset.val_crop and val is not None:
        val = CenterCrops(val, stage.dataset.val_crop, scale)
    model, kwargs = config.nas.search_space.candidate_model()
    kwargs = {"genes": list(genes), **kwargs}
    data = stage.dataset
    patches = RandomPatches(
        train,
        data.patch_size,
        data.patches_per_epoch,
        seed=stage.trainer.seed,
        cache_dir=out.parent / "cache",
    )
    run = {"device": str(device), "out_dir": str(out), "progress": not folder.quiet}
    train_config = stage.trainer.train_config(scale, data.batch_size, data.steps_per_epoch, **run)
    with registered_trainer(model, patches, val, train_config, kwargs) as trainer:
        result = trainer.fit()
    psnr = "-" if result.best_psnr is None else f"{result.best_psnr:.3f} dB at step {result.best_step}"
    folder.log(
        f"{out.name}: {result.steps} steps in {result.total_seconds:.0f} s, best validation PSNR {psnr}"
    )
    return {
        "train_steps": result.steps,
        "train_seconds": result.total_seconds,
        "best_val_psnr": result.best_psnr,
        "best_step": result.best_step,
    }


def table_stage(
    out: Path, rows: list[dict], search: dict, tests: list[Dataset], scale: int, device: torch.device
) -> dict[str, Any]:
    """Benchmark bicubic and write table.md / table.json."""
    bicubic = create_model("bicubic", scale=scale)
    baseline = {"name": "bicubic", **measure(bicubic, scale)}
    baseline["benchmarks"] = benchmark(bicubic, tests, scale, out / "bicubic", device).summary
    search = {"candidates": search["candidates"], "training_seconds": search["training_seconds"]}
    return write_table(out, rows, baseline, scale, search)
