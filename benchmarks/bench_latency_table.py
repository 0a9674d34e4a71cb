"""How well the per-block latency table predicts a whole ESRN's measured latency.

    OMP_NUM_THREADS=1 python benchmarks/bench_latency_table.py [--networks 50] [--lr-size 90 160]
        [--threads 1] [--warmup 3] [--repeats 10] [--engine torch] [--space esr_ea|demo] [--device cpu]

Samples `--networks` random feasible networks of an ESR_EA space (`esr_ea`: ESR_EA's own, 20 nodes,
>= 16 active, 315k-325k parameters, G0 32; `demo`: apps/esr_ea's demo_esrn space, G0 16, 2-6
blocks, 20k-45k parameters), times each whole (`sr_search_evo.measure_latency_ms`: the deployed
network, median of `--repeats` runs after `--warmup`) and estimates it as the sum of
`ESRLatencyTable` entries (head, each block at its input width, fusion, tail; every entry timed
once, the first time a network needs it). Prints Spearman's rank correlation between estimate and
measurement, the mean relative error |estimate - measured| / measured and the mean signed one.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from sr_blocks import create_model
from sr_search_evo import ESRLatencyTable, ESRSpace, LatencySettings, measure_latency_ms
from sr_search_evo.rank_correlation import spearman

SPACES = {
    "esr_ea": dict(G0=32, node_num=20, min_active=16, min_params=315_000, max_params=325_000),
    "demo": dict(
        G0=16,
        conv_num=[2, 4],
        growth_rate=[8, 16],
        conv_prob=[1, 1],
        growth_prob=[1, 1],
        node_num=6,
        min_active=2,
        min_params=20_000,
        max_params=45_000,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--lr-size", type=int, nargs=2, default=[360, 640], metavar=("H", "W"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--engine", choices=["torch", "onnxruntime"], default="torch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--space", choices=sorted(SPACES), default="esr_ea")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    settings = LatencySettings(
        device=args.device,
        threads=args.threads,
        lr_size=list(args.lr_size),
        warmup=args.warmup,
        repeats=args.repeats,
        engine=args.engine,
    )
    knobs = SPACES[args.space]
    space, rng = ESRSpace(scale=2, **knobs), random.Random(args.seed)
    networks = [space.decode(space.repair(space.sample(rng), rng)) for _ in range(args.networks)]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        table = ESRLatencyTable(Path(folder) / "table.json", knobs["G0"], 2, settings)
        measured, estimated = [], []
        for index, genes in enumerate(networks, 1):
            torch.manual_seed(0)
            model = create_model("esrn", scale=2, genes=genes, G0=knobs["G0"])
            measured.append(measure_latency_ms(model, 3, settings))
            estimated.append(table.estimate(genes))
            print(
                f"[{index}/{len(networks)}] {len(genes)} blocks: measured {measured[-1]:.2f} ms, "
                f"table {estimated[-1]:.2f} ms",
                flush=True,
            )
        entries = len(table.entries)
    relative = [(e - m) / m for e, m in zip(estimated, measured, strict=True)]
    print(
        f"\nspace {args.space}, {len(networks)} networks, LR {args.lr_size[0]}x{args.lr_size[1]}, "
        f"{args.engine} on {args.device} with {args.threads} thread(s), median of {args.repeats} after "
        f"{args.warmup} warm-up; {entries} table entries; {time.perf_counter() - start:.0f} s in all"
    )
    low, high, middle = min(measured), max(measured), statistics.median(measured)
    print(f"measured latency: {low:.2f} .. {high:.2f} ms (median {middle:.2f})")
    print(f"Spearman rank correlation (table sum vs measured): {spearman(estimated, measured):.3f}")
    print(
        f"mean relative error |table - measured| / measured: {statistics.fmean(abs(r) for r in relative):.1%}"
    )
    print(f"mean signed relative error (table - measured) / measured: {statistics.fmean(relative):+.1%}")


if __name__ == "__main__":
    main()
