"""PSNR+SSIM on BSD68: sr_eval's batched torch path against the plain per-image numpy reference.

Both paths get the same bicubic-upscaled SR images (made before timing) and compute the paper
protocol (uint8 quantisation, Y channel, crop = scale, Wang et al.'s SSIM) from float images.
The two paths take turns in each of `--repeats` rounds (the median time counts). Prints both sets'
mean PSNR/SSIM, the largest per-image difference, the times and the speed ratio.

    python benchmarks/bench_metrics.py [--data BSD68] [--scale 2] [--repeats 3] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict

import torch

from sr_data import Benchmark, find_datasets_root, imresize
from sr_eval import interleaved_times_ms, psnr_reference, psnr_ssim, ssim_reference


def load_pairs(name: str, scale: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(sr, hr) float32 (3, H, W) tensors: bicubic upscaling of the benchmark's LR images."""
    root = find_datasets_root()
    if root is None:
        raise SystemExit("real images not found: set SR_DATASETS or clone beside ../shared/datasets")
    dataset = Benchmark(name, scale, root=root)
    pairs = []
    for index in range(len(dataset)):
        item = dataset[index]
        pairs.append((imresize(item["lr"], scale).clamp(0, 1), item["hr"]))
    return pairs


def run_reference(pairs, scale: int) -> list[tuple[float, float]]:
    """Per image, numpy (H, W, 3) arrays through the plain reference."""
    results = []
    for sr, hr in pairs:
        sr_np, hr_np = sr.permute(1, 2, 0).numpy(), hr.permute(1, 2, 0).numpy()
        results.append((psnr_reference(sr_np, hr_np, scale), ssim_reference(sr_np, hr_np, scale)))
    return results


def group_by_shape(pairs) -> list[tuple[list[int], torch.Tensor, torch.Tensor]]:
    """Indices and stacked (N, 3, H, W) batches of the images that share a shape."""
    groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for index, (sr, _) in enumerate(pairs):
        groups[tuple(sr.shape)].append(index)
    return [
        (idx, torch.stack([pairs[i][0] for i in idx]), torch.stack([pairs[i][1] for i in idx]))
        for idx in groups.values()
    ]


def run_batched(batches, count: int, scale: int) -> list[tuple[float, float]]:
    results: list[tuple[float, float]] = [(0.0, 0.0)] * count
    for indices, sr, hr in batches:
        values_psnr, values_ssim = psnr_ssim(sr, hr, scale)
        for i, p, s in zip(indices, values_psnr.tolist(), values_ssim.tolist(), strict=True):
            results[i] = (p, s)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="BSD68")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    pairs = load_pairs(args.data, args.scale)
    batches = group_by_shape(pairs)
    run_batched(batches[:1], len(pairs), args.scale)  # warm-up (first-call allocations)
    results = {}
    calls = {
        "reference": lambda: results.update(reference=run_reference(pairs, args.scale)),
        "batched": lambda: results.update(batched=run_batched(batches, len(pairs), args.scale)),
    }
    times_ms = interleaved_times_ms(calls, args.repeats)
    reference, batched = results["reference"], results["batched"]
    t_reference, t_batched = (statistics.median(times_ms[name]) / 1e3 for name in calls)

    def means(rows):
        return statistics.fmean(r[0] for r in rows), statistics.fmean(r[1] for r in rows)

    max_psnr_diff = max(abs(a[0] - b[0]) for a, b in zip(reference, batched, strict=True))
    max_ssim_diff = max(abs(a[1] - b[1]) for a, b in zip(reference, batched, strict=True))
    print(f"{args.data} x{args.scale}, bicubic SR, {len(pairs)} images, Y channel, crop {args.scale}")
    print(f"torch threads: {torch.get_num_threads()}, repeats: {args.repeats} (median time)")
    print(f"numpy reference (per image): PSNR {means(reference)[0]:.10f}  SSIM {means(reference)[1]:.10f}")
    print(f"torch batched (float64)    : PSNR {means(batched)[0]:.10f}  SSIM {means(batched)[1]:.10f}")
    print(f"max per-image |diff|: PSNR {max_psnr_diff:.3e} dB, SSIM {max_ssim_diff:.3e}")
    print(f"time: numpy reference {t_reference:.3f} s, torch batched {t_batched:.3f} s")
    print(f"speed ratio: {t_reference / t_batched:.1f}x")
    if max(max_psnr_diff, max_ssim_diff) > 1e-10:
        raise SystemExit("the two implementations disagree by more than 1e-10")


if __name__ == "__main__":
    main()
