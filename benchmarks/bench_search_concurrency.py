"""Search candidates per CPU-hour: one candidate at a time with every thread vs several side by side.

The same candidates (sampled once, with a seed, from the ESR_EA CPU demo's search space: G0 16, at
most 6 blocks, 20k-45k parameters) get the same fast training (`ESRFitness`, the demo's 160 steps
of 16 patches of 32x32 HR px by default) from `sr_search_evo.ProcessPoolEvaluator` in each
layout WORKERSxTHREADS: `1x2` is one worker holding both cores' threads (sequential), `2x1` two
workers of one thread each (concurrent). The layouts take turns in rotating order over the rounds
(`sr_eval.interleaved_times_ms`; ABBA for two) so that a load that changes during the run (a shared
machine) hits each alike. The wall time of a layout runs from its started workers
(`ProcessPoolEvaluator.start`: a search starts them once, and so does this benchmark, before the
first round) to its last result, so it holds every candidate's network building, MACs count,
training and validation. Printed:
wall time, candidates per hour (all cores) and per core-hour, and each layout's speed relative to
the first; also the largest PSNR difference between layouts for the same candidate (threads change
float summation order, not the work).

    OMP_NUM_THREADS=1 python benchmarks/bench_search_concurrency.py                  # ~4 min on 2 cores
    python benchmarks/bench_search_concurrency.py --layouts 1x2 2x1 --candidates 8 --rounds 2
    python benchmarks/bench_search_concurrency.py --smoke                             # seconds
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics

import torch
from esr_mini_search import patches

from sr_eval import interleaved_times_ms
from sr_search_evo import ESRFitness, ESRSpace, ProcessPoolEvaluator
from sr_search_evo.devices import available_cpus


def parse_layout(text: str) -> tuple[int, int]:
    """'2x1' -> (2 workers, 1 thread each)."""
    try:
        workers, threads = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a layout is WORKERSxTHREADS such as 2x1, got {text!r}") from None
    if workers < 1 or threads < 1:
        raise argparse.ArgumentTypeError(f"a layout needs >= 1 worker and thread, got {text!r}")
    return workers, threads


def demo_space() -> ESRSpace:
    """The search space of apps/esr_ea/configs/demo_esrn.yaml (the ESRN demo)."""
    return ESRSpace(
        scale=2,
        G0=16,
        conv_num=(2, 4),
        conv_prob=(1, 1),
        growth_rate=(8, 16),
        growth_prob=(1, 1),
        node_num=6,
        min_active=2,
        max_params=45_000,
        min_params=20_000,
    )


def sample_candidates(space: ESRSpace, count: int, seed: int) -> list[list[str]]:
    """`count` distinct feasible gene lists."""
    rng, found = random.Random(seed), {}
    while len(found) < count:
        individual = space.repair(space.sample(rng), rng)
        found.setdefault(space.key(individual), space.decode(individual))
    return list(found.values())


def psnrs_of(pool: ProcessPoolEvaluator, candidates: list[list[str]]) -> dict[int, float]:
    """{candidate index: PSNR} of every candidate through `pool` (any failure stops the benchmark)."""
    results = dict(pool.imap_unordered(candidates))
    failed = [i for i, r in results.items() if r["psnr"] is None]
    if failed:
        raise SystemExit(f"candidates {failed} failed: {results[failed[0]].get('error')}")
    return {i: r["psnr"] for i, r in results.items()}


def time_layouts(
    fitness: ESRFitness, candidates: list[list[str]], layouts: list[tuple[int, int]], rounds: int
) -> tuple[dict[tuple[int, int], list[float]], dict[tuple[int, int], dict[int, float]]]:
    """Per layout: its wall seconds in each round (from started workers to the last result) and its
    {candidate index: PSNR}. Each layout's workers start once, untimed, before the first round."""
    psnrs: dict[tuple[int, int], dict[int, float]] = {}
    with contextlib.ExitStack() as stack:
        calls = {}
        for workers, threads in layouts:
            pool = ProcessPoolEvaluator(fitness, workers=workers, threads_per_worker=threads)
            stack.enter_context(pool).start()

            def call(layout=(workers, threads), pool=pool) -> None:
                psnrs[layout] = psnrs_of(pool, candidates)

            calls[f"{workers}x{threads}"] = call
        times_ms = interleaved_times_ms(calls, rounds)
    walls = {
        layout: [ms / 1e3 for ms in times] for layout, times in zip(layouts, times_ms.values(), strict=True)
    }
    return walls, psnrs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--layouts", nargs="+", type=parse_layout, default=[(1, 2), (2, 1)], metavar="WxT")
    parser.add_argument("--candidates", type=int, default=8, help="candidates per layout and round")
    parser.add_argument("--rounds", type=int, default=2, help="ABBA rounds (each layout runs once per round)")
    parser.add_argument("--steps", type=int, default=160, help="fast-training steps per candidate")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr-patch", type=int, default=16, help="LR patch side (HR = 2x)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="2 candidates of 4 steps, one round")
    args = parser.parse_args()
    if args.smoke:
        args.candidates, args.steps, args.rounds = 2, 4, 1

    space = demo_space()
    candidates = sample_candidates(space, args.candidates, args.seed)
    fitness = ESRFitness(
        patches(512, args.lr_patch, 2, 0),  # the demo's 512 patches (time does not depend on pixels)
        patches(4, 64, 2, 1),  # 4 validation crops of 128 HR px, as the demo's val_crop
        args.steps,
        scale=2,
        G0=space.G0,
        train_overrides={"batch_size": args.batch},
        device="cpu",
    )
    load_before = os.getloadavg()
    hr_px = 2 * args.lr_patch
    print(
        f"torch {torch.__version__}, {available_cpus()} CPUs, load average {load_before[0]:.2f}; "
        f"{len(candidates)} candidates of {args.steps} steps (batch {args.batch} of {hr_px} px HR)"
    )
    walls, psnrs = time_layouts(fitness, candidates, args.layouts, args.rounds)
    for round_ in range(args.rounds):
        for (workers, threads), values in walls.items():
            print(f"  round {round_ + 1}: {workers}x{threads}: {values[round_]:.1f} s")
    load_after = os.getloadavg()
    base = statistics.median(walls[args.layouts[0]])
    first = "x".join(map(str, args.layouts[0]))
    print(f"\n| layout | wall (median of {args.rounds}) | candidates / hour | per core-hour | vs {first} |")
    print("|---|---:|---:|---:|---:|")
    for (workers, threads), values in walls.items():
        wall = statistics.median(values)
        per_hour = len(candidates) / wall * 3600
        cores = workers * threads
        print(
            f"| {workers} worker(s) x {threads} thread(s) | {wall:.1f} s | {per_hour:.0f} | "
            f"{per_hour / cores:.0f} | {base / wall:.2f}x |"
        )
    reference = psnrs[args.layouts[0]]
    spread = max(abs(p[i] - reference[i]) for p in psnrs.values() for i in reference)
    print(
        f"\nlargest PSNR difference between layouts for one candidate: {spread:.4f} dB; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (1 min)"
    )


if __name__ == "__main__":
    main()
