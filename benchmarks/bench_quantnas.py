"""Search steps/s of the QuantNAS supernet on the reference config, quantisation-noise (QN) and shared modes.

One step is what the search does per batch: an alpha step (L1 + entropy + BitOps penalty, Adam
betas 0.5/0.999) and a weight step (L1, Adam, gradient clipping), `sr_search_quantnas.search.
BilevelStep`. The supernet is the reference's (`arch_pattern` head 2, skip 1, tail 2, body 2, upsample
1; `body_cells` 3; `c_fixed` 36; bits [8, 4]; the reference's primitives; ADM on), fed random 45x45 LR
crops at x4. Runs on the CPU and, when present, on CUDA, and prints the ratio to the reference
implementation's figure on the same CPU class (2 cores, batch 4: 0.34 steps/s QN, 0.40 shared);
`--reference-dir` (a checkout of On-Point-RND/QuantNAS at its 2022 state, commit add0de0) also
times the reference's own step here, interleaved with ours, so both see the same machine load.

    python benchmarks/bench_quantnas.py --batch 4 --threads 2          # the CPU comparison
    python benchmarks/bench_quantnas.py --batch 32 --devices cuda      # the reference's batch on a GPU
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import torch
from bench_timing import steps_per_s
from quantnas_workload import (
    BITS,
    CROP,
    REFERENCE_CPU_STEPS_PER_S,
    REFERENCE_PATTERN,
    REFERENCE_PRIMITIVES,
    SCALE,
    batch_of,
    reference_search_step,
)


def reference(mode: str, batch: int, reference_dir: Path) -> Callable[[], None]:
    """The same step with the reference's SearchCNNController (its search_sr.py train loop body)."""
    sys.path.insert(0, str(reference_dir))
    from sr_models.search_cnn import SearchCNNController  # the reference checkout, not our code

    torch.manual_seed(0)
    model = SearchCNNController(
        3,
        36,
        BITS,
        SCALE,
        REFERENCE_PATTERN,
        3,
        device_ids="cpu",
        alpha_selector="softmax",
        quant_noise=mode == "noise",
        skip_mode=False,
        primitives=REFERENCE_PRIMITIVES,
    )
    w_optim = torch.optim.Adam(model.weights(), 1e-3, weight_decay=3e-8)
    alpha_optim = torch.optim.Adam(model.alphas_weights(), 3e-4, betas=(0.5, 0.999))
    (w_x, w_y), (a_x, a_y) = batch_of(batch, "cpu", 1), batch_of(batch, "cpu", 2)
    model(a_x, stable=True)
    norm = model.fetch_weighted_flops_and_memory()[0].detach()
    spread = 5 / 4

    def step() -> None:
        alpha_optim.zero_grad()
        preds, (flops, _) = model(a_x, 1.0)
        probs = [torch.softmax(t, dim=-1) for t in model.alphas_weights()]
        entropy = -torch.stack([(p * torch.log(p)).sum() for p in probs]).sum()
        penalty = (flops - norm / spread) / (norm * spread - norm / spread)
        (torch.nn.functional.l1_loss(preds, a_y) + 1e-3 * 0.5 * entropy + 1e-3 * penalty).backward()
        alpha_optim.step()
        w_optim.zero_grad()
        preds, _ = model(w_x, 1.0, stable=False)
        torch.nn.functional.l1_loss(preds, w_y).backward()
        torch.nn.utils.clip_grad_norm_(model.weights(), 5)
        w_optim.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32, help="LR crops per batch (4 for the CPU comparison)")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, plus cuda when present")
    parser.add_argument(
        "--modes", nargs="+", default=["noise", "shared"], choices=["noise", "shared", "separate"]
    )
    parser.add_argument("--rounds", type=int, default=1, help="alternate ours/reference this many times")
    parser.add_argument("--reference-dir", type=Path, help="checkout of On-Point-RND/QuantNAS (2022 state)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, batch {args.batch} of "
        f"{CROP}x{CROP} LR, x{SCALE}, bits {BITS}, {args.steps} timed steps after {args.warmup}"
    )
    print("| device | mode | ours steps/s | reference here | ratio here | ratio to 0.34/0.40 figure |")
    print("|---|---|---|---|---|---|")
    for device in devices:
        for mode in args.modes:
            label = "QN" if mode == "noise" else mode
            runs_ours, runs_ref = [], []
            step_ours = reference_search_step(mode, args.batch, device)
            step_ref = None
            if args.reference_dir and device == "cpu" and mode != "separate":
                step_ref = reference(mode, args.batch, args.reference_dir)
            for _ in range(args.rounds):
                runs_ours.append(steps_per_s(step_ours, device, args.warmup, args.steps))
                if step_ref is not None:
                    runs_ref.append(steps_per_s(step_ref, device, args.warmup, args.steps))
            rate = max(runs_ours)
            ref_here = max(runs_ref) if runs_ref else None
            comparable = device == "cpu" and args.batch == 4  # the figure is for batch 4 on the CPU
            figure = REFERENCE_CPU_STEPS_PER_S.get(mode) if comparable else None
            print(
                f"| {device} | {label} | {rate:.3f} | "
                + (f"{ref_here:.3f} | {rate / ref_here:.2f}x" if ref_here else "- | -")
                + (f" | {rate / figure:.2f}x |" if figure else " | - |"),
                flush=True,
            )


if __name__ == "__main__":
    main()
