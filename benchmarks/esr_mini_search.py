"""ESR_EA's search run for a while, to count candidates per hour (the GPU suite's items 4b and 4c).

Builds random training patches (batch 16 of 64x64 LR at x2 by default; the time of a training step
does not depend on the pixels), ESR_EA's search space (20 nodes, at least 16 active, 315k-325k
parameters) and `ESRFitness` with 1000 fast-training steps per candidate, then writes OUT/ready and
runs `sr_search_evo.run_search`: OUT/history.jsonl gets a line as each candidate finishes. It runs
until it is killed (that is how the suite ends it, at the end of its window), or, with
--candidates N, until one generation of N candidates is done.

    python benchmarks/esr_mini_search.py --out /tmp/ms --device cuda                   # sequential
    python benchmarks/esr_mini_search.py --out /tmp/ms --device cuda --evaluator pool --workers 4
    python benchmarks/esr_mini_search.py --out /tmp/ms --smoke                         # tiny, on the CPU
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from sr_data import write_text_atomic
from sr_search_evo import ESRFitness, ESRSpace, EvoSettings, make_evaluator, run_search

FOREVER = 10**6  # generations: the suite ends the search by killing it


def search_space(smoke: bool) -> ESRSpace:
    """ESR_EA's space (its `search_space` and `range` keys), or a tiny one for the smoke run."""
    if smoke:
        return ESRSpace(
            scale=2, G0=8, conv_num=(4,), conv_prob=(1,), growth_rate=(8, 16), growth_prob=(1, 1), node_num=3
        )
    return ESRSpace(scale=2, G0=32, node_num=20, min_active=16, max_params=325_000, min_params=315_000)


def patches(count: int, lr_side: int, scale: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(count, 3, lr_side * scale, lr_side * scale, generator=g)
    return torch.nn.functional.avg_pool2d(hr, scale), hr


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="search folder (history.jsonl, ready)")
    parser.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--evaluator", choices=["inprocess", "pool"], default="inprocess")
    parser.add_argument("--workers", type=int, default=1, help="pool workers (all on --device)")
    parser.add_argument("--steps", type=int, default=1000, help="fast-training steps per candidate")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr-patch", type=int, default=64, help="LR patch side")
    parser.add_argument("--patches", type=int, default=256, help="training patches held on the device")
    parser.add_argument("--candidates", type=int, help="stop after one generation of this many")
    parser.add_argument("--smoke", action="store_true", help="tiny space, 2 steps, 8x8 patches, 2 candidates")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.batch, args.lr_patch, args.patches = 2, 2, 8, 8
        args.candidates = args.candidates or 2
    if args.out.exists() and any(args.out.iterdir()):
        raise SystemExit(f"{args.out} is not empty: a mini search starts in a new folder")
    args.out.mkdir(parents=True, exist_ok=True)

    space = search_space(args.smoke)
    cuda = torch.device(args.device).type == "cuda"
    if cuda and torch.device(args.device).index is None:  # sr_search_evo selects devices by index
        args.device = f"cuda:{torch.cuda.current_device()}"
    overrides = {"batch_size": args.batch, "amp": "bf16" if cuda else "none", "channels_last": cuda}
    fitness = ESRFitness(
        patches(args.patches, args.lr_patch, 2, 0),
        patches(max(2, args.patches // 8), args.lr_patch, 2, 1),
        args.steps,
        scale=2,
        G0=space.G0,
        train_overrides=overrides,
        hr_size=(64, 64) if args.smoke else (720, 1280),
        device=args.device,
    )
    individuals = args.candidates or 8  # ESR_EA's num_individual
    settings = EvoSettings(
        num_generation=1 if args.candidates else FOREVER,
        num_individual=individuals,
        num_elitism=min(4, individuals),
    )
    if args.evaluator == "pool":
        placement = {"devices": [args.device] * args.workers} if cuda else {"workers": args.workers}
        evaluator = make_evaluator("pool", fitness, **placement)
    else:
        evaluator = make_evaluator("inprocess", fitness, device=args.device)
    record = {**vars(args), "out": str(args.out), "train_overrides": overrides, "space": space.config()}
    with evaluator:
        write_text_atomic(args.out / "ready", json.dumps(record) + "\n")
        run_search(space, evaluator, settings, args.out)


if __name__ == "__main__":
    main()
