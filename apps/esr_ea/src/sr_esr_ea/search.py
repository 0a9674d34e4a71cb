"""The search stage: the config's ESR space, fast-training fitness and evolution, on sr_search_evo.

`run_search` writes history.jsonl and population.json into the results folder and resumes from
them, so a killed search continues where it stopped without training anything twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sr_esr_ea.config import EsrConfig
from sr_esr_ea.data import open_stage_images, search_tensors
from sr_search_evo import ESRFitness, ESRSpace, EvoSettings, SearchResult, make_evaluator, run_search
from sr_train import ConfigError, TrainConfig


def build_space(config: EsrConfig) -> ESRSpace:
    """The ESR search space of `nas.search_space.esrbody` and `nas.search_algorithm.range`."""
    body, bounds = config.nas.search_space.esrbody, config.nas.search_algorithm.range
    try:
        return ESRSpace(
            scale=body.scale,
            G0=body.G0,
            block_type=body.block_type,
            conv_num=body.conv_num,
            growth_rate=body.growth_rate,
            type_prob=body.type_prob,
            conv_prob=body.conv_prob,
            growth_prob=body.growth_prob,
            node_num=bounds.node_num,
            min_active=bounds.min_active,
            max_params=bounds.max_params,
            min_params=bounds.min_params,
        )
    except ValueError as err:
        raise ConfigError(
            f"nas.search_space / nas.search_algorithm.range in {config.source}: {err}"
        ) from None


def build_settings(config: EsrConfig) -> EvoSettings:
    """The evolution settings of `nas.search_algorithm.policy`."""
    policy = config.nas.search_algorithm.policy
    try:
        return EvoSettings(**dataclasses.asdict(policy))
    except ValueError as err:
        raise ConfigError(f"nas.search_algorithm.policy in {config.source}: {err}") from None


def fast_training_overrides(config: EsrConfig) -> dict[str, Any]:
    """TrainConfig fields of `nas.trainer` that differ from sr_train's defaults, for ESRFitness
    (which sets steps, scale, seed and device itself); milestones in epochs become steps."""
    nas = config.nas
    chosen = nas.trainer.train_config(nas.dataset, config.scale).to_dict()
    defaults = TrainConfig(steps=1).to_dict()
    overrides = {
        k: v
        for k, v in chosen.items()
        if v != defaults[k] and k not in ("steps", "epochs", "scale", "seed", "device", "out_dir", "progress")
    }
    if nas.trainer.epochs is not None and overrides.get("milestones"):
        per_epoch = max(1, nas.dataset.patches_per_epoch // nas.dataset.batch_size)
        overrides["milestones"] = [m * per_epoch for m in overrides["milestones"]]
    return overrides


def evaluator_options(kind: str, workers: int | None, device: str) -> dict[str, Any]:
    """make_evaluator keyword arguments: one pool worker per GPU when there are GPUs to use."""
    gpus = torch.cuda.device_count() if device in ("auto", "cuda") else 0
    if kind == "pool":
        if gpus:
            return {"devices": [f"cuda:{i}" for i in range(gpus)][: workers or gpus]}
        return {"workers": workers}
    if kind == "ray":
        if workers is not None:
            raise ValueError("--workers is for --evaluator pool; Ray runs as many tasks as its cluster holds")
        return {"num_gpus_per_task": 1 if gpus else 0}
    if workers not in (None, 1):
        raise ValueError(f"--workers {workers} needs --evaluator pool or ray (inprocess runs one at a time)")
    return {}


def search(
    config: EsrConfig,
    data: str,
    out: Path,
    evaluator: str,
    workers: int | None,
    device: str,
    log: Callable[[str], None],
) -> SearchResult:
    """Run (or resume, or just reload when finished) the search into `out`."""
    space, settings = build_space(config), build_settings(config)
    nas = config.nas
    images = open_stage_images(data, config.scale, nas.dataset, "nas.dataset")
    for note in images.notes:
        log(note)
    train, val = search_tensors(images, nas.dataset, nas.trainer.seed, cache_dir=out / "cache")
    steps = nas.trainer.steps(nas.dataset)
    overrides = fast_training_overrides(config)
    fitness = ESRFitness(
        train,
        val,
        steps,
        scale=config.scale,
        G0=config.nas.search_space.esrbody.G0,
        train_overrides=overrides,
        # None: the evaluator worker's device (each pool worker has its own GPU)
        device=None if device == "auto" or (evaluator != "inprocess" and device == "cuda") else device,
        seed=nas.trainer.seed,
    )
    budget = settings.num_generation * settings.num_individual
    log(
        f"search: up to {budget} candidates ({settings.num_generation} generations x "
        f"{settings.num_individual}), {steps} fast-training steps each on {len(train)} patches of "
        f"{nas.dataset.patch_size} px, validated on {len(val)} crops of {val.hr.shape[-1]} px; "
        f"evaluator {evaluator}"
    )
    with make_evaluator(evaluator, fitness, **evaluator_options(evaluator, workers, device)) as running:
        return run_search(space, running, settings, out, log=log)
