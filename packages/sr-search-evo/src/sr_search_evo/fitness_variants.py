"""Ways to spend a search's training budget on its candidates, measured by how well they rank.

A fitness is only useful if it orders candidates as full training does; these are the variants
`benchmarks/bench_fitness_rank.py` compares against a stored set of fully trained networks, each
with the CPU-seconds it costs per candidate:

- `fixed_budget`: every candidate trains `steps` steps (`GeneFitness` as the search calls it);
- `successive_halving`: every candidate trains `min_steps`, the better half continues (same weights)
  until it has trained twice as long, and so on; a candidate's score is its rung, then its PSNR;
- `inherited_budget`: a child starts from its trained parent's weights wherever a tensor of the same
  name and shape exists (`inherit_weights`), then trains `steps` steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from sr_search_evo.devices import current_device
from sr_search_evo.esr_fitness import GeneFitness, candidate_seed
from sr_train import train_and_validate


def inherit_weights(child: nn.Module, parent_state: dict[str, torch.Tensor]) -> int:
    """Copy into `child` every tensor of `parent_state` whose name and shape it has; how many were."""
    own = child.state_dict()
    shared = {k: v for k, v in parent_state.items() if k in own and own[k].shape == v.shape}
    child.load_state_dict(shared, strict=False)
    return len(shared)


def timed_build(fitness: GeneFitness, genes: Sequence[str]) -> tuple[nn.Module, float]:
    """(the candidate's untrained network, the CPU-seconds its building and start took)."""
    start = time.process_time()
    model = fitness.build(genes)
    return model, time.process_time() - start


def train_steps(
    fitness: GeneFitness, model: nn.Module, genes: Sequence[str], steps: int, salt: int
) -> tuple[float, float]:
    """(best validation PSNR, CPU-seconds) of `steps` more training steps of `model`, in place, on the
    fitness's data and settings (`salt` varies the data order between continuations)."""
    device = fitness.device or current_device()
    train, val = fitness.data_on(device)
    seed = candidate_seed(",".join(genes), fitness.seed) + salt
    start = time.process_time()
    psnr = train_and_validate(
        model.to(device),
        train,
        steps,
        val,
        scale=fitness.scale,
        device=device,
        seed=seed,
        **fitness.train_overrides,
    )
    return float(psnr), time.process_time() - start


def fixed_budget(fitness: GeneFitness, candidates: Sequence[Sequence[str]]) -> list[dict[str, Any]]:
    """Each candidate trained `fitness.steps` steps from its own initial weights."""
    results = []
    for genes in candidates:
        model, built = timed_build(fitness, genes)
        psnr, seconds = train_steps(fitness, model, genes, fitness.steps, 0)
        results.append({"score": psnr, "psnr": psnr, "steps": fitness.steps, "cpu_seconds": built + seconds})
    return results


def successive_halving(
    fitness: GeneFitness, candidates: Sequence[Sequence[str]], min_steps: int, keep: float = 0.5
) -> list[dict[str, Any]]:
    """All candidates at `min_steps`; the best `keep` share continues to twice the steps, and so on
    until one is left. Score = rung + PSNR / 1000, so a later rung always ranks above an earlier one."""
    built = [timed_build(fitness, genes) for genes in candidates]
    models = [model for model, _ in built]
    results = [{"rung": 0, "steps": 0, "cpu_seconds": seconds, "psnr": None} for _, seconds in built]
    alive, rung, total = list(range(len(candidates))), 0, min_steps
    while alive:
        for index in alive:
            row = results[index]
            psnr, seconds = train_steps(fitness, models[index], candidates[index], total - row["steps"], rung)
            row.update(rung=rung, psnr=psnr, steps=total, cpu_seconds=row["cpu_seconds"] + seconds)
        if len(alive) == 1:
            break
        alive = sorted(alive, key=lambda i: results[i]["psnr"], reverse=True)[
            : max(1, math.floor(len(alive) * keep))
        ]
        rung, total = rung + 1, total * 2
    for row in results:
        row["score"] = row["rung"] + row["psnr"] / 1000.0
    return results


def inherited_budget(
    fitness: GeneFitness,
    candidates: Sequence[Sequence[str]],
    parents: Sequence[Sequence[str]],
    steps: int,
    parent_state: Callable[[Sequence[str]], dict[str, torch.Tensor]],
) -> list[dict[str, Any]]:
    """Each candidate starts from its parent's trained weights where they fit, then trains `steps`.

    `parent_state(genes)` gives a parent's trained state dict (in a search: kept from its own
    evaluation, so it costs the child nothing)."""
    results = []
    for genes, parent in zip(candidates, parents, strict=True):
        model, built = timed_build(fitness, genes)
        copied = inherit_weights(model, parent_state(parent))
        psnr, seconds = train_steps(fitness, model, genes, steps, 0)
        results.append(
            {"score": psnr, "psnr": psnr, "steps": steps, "cpu_seconds": built + seconds, "inherited": copied}
        )
    return results
