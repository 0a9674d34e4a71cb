"""Benchmark re-parameterisation: deployed vs training form, deployed vs a plain conv stack, and
SESR's collapsed vs expanded training step; plus the MACs of one SESR-M5 forward.

    python benchmarks/bench_reparam.py                   # CPU, and CUDA when available
    python benchmarks/bench_reparam.py --batch 32 --size 64 --devices cuda
    python benchmarks/bench_reparam.py --threads 1 --repeats 21   # steadier on a busy CPU

Targets: deployed >= 5x faster than the training form; deployed within 1.05x of an
equally shaped plain conv stack; collapsed training >= 5x faster than expanded on GPU.
Models run on one channel (Y), as in the ECBSR and SESR papers.
"""

from __future__ import annotations

import argparse

import torch
from bench_timing import inference_times, median_times, verdict
from reparam_workloads import deploy_cases, sesr_train_step
from torch.utils.flop_counter import FlopCounterMode

from sr_blocks import create_model


def bench_inference(device: torch.device, args: argparse.Namespace) -> None:
    h, w = args.lr_size or ((360, 640) if device.type == "cuda" else (128, 128))
    x = torch.rand(1, args.channels, h, w, device=device)
    print(
        f"\n[{device}] inference, LR input 1x{args.channels}x{h}x{w}, x{args.scale}, median of {args.repeats}"
    )
    for case in deploy_cases(args.scale, args.channels):
        models = {"deployed": case.deployed, "plain": case.plain, **case.training_forms}
        models = {name: model.to(device) for name, model in models.items()}
        times = inference_times(models, x, args.warmup, args.repeats, train_mode=case.training_forms)
        deployed_time, plain_time = times["deployed"], times["plain"]
        print(f"  {case.name}: deployed {deployed_time * 1e3:8.2f} ms")
        for label in case.training_forms:
            t = times[label]
            ratio = t / deployed_time
            note = (
                verdict(ratio, 5)
                if label == case.targeted
                else "train mode: collapses its kernels at every call"
            )
            print(f"    {label:26s} {t * 1e3:8.2f} ms   speed-up {ratio:6.2f}x ({note})")
        ratio = deployed_time / plain_time
        print(
            f"    {'plain conv stack':26s} {plain_time * 1e3:8.2f} ms   deployed/plain {ratio:5.2f}x "
            f"({verdict(ratio, 1.05, higher_is_better=False)})"
        )


def bench_training(device: torch.device, args: argparse.Namespace) -> None:
    batch = args.batch or (32 if device.type == "cuda" else 8)
    lr = torch.rand(batch, args.channels, args.size, args.size, device=device)
    hr = torch.rand(batch, args.channels, args.size * args.scale, args.size * args.scale, device=device)
    print(f"\n[{device}] SESR-M5 training step (forward + L1 backward + Adam), batch {tuple(lr.shape)}")
    steps = {mode: sesr_train_step(mode, lr, hr, args.scale) for mode in ("expanded", "collapsed")}
    times = median_times(steps, device, warmup=2, repeats=args.train_repeats)
    for mode, seconds in times.items():
        print(f"  {mode:9s} {seconds * 1e3:9.1f} ms / step")
    ratio = times["expanded"] / times["collapsed"]
    target = verdict(ratio, 5) if device.type == "cuda" else "the >= 5x target is for GPU"
    print(f"  collapsed speed-up {ratio:.2f}x  ({target})")


def sesr_macs(args: argparse.Namespace) -> None:
    x = torch.rand(32, 1, 64, 64)
    print("\nMACs of one SESR-M5 x2 forward (Y channel) on a 32x1x64x64 batch (SESR paper: 41.77B vs 1.84B)")
    for mode in ("expanded", "collapsed"):
        model = create_model("sesr_m5", scale=2, in_channels=1, out_channels=1, training_mode=mode)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            model(x)
        print(f"  {mode:9s} {counter.get_total_flops() / 2 / 1e9:6.2f}B")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when available")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--channels", type=int, default=1, help="image channels (1 = Y, as in the papers)")
    parser.add_argument("--lr-size", type=int, nargs=2, metavar=("H", "W"), help="inference LR size")
    parser.add_argument("--size", type=int, default=64, help="training LR patch side")
    parser.add_argument(
        "--batch", type=int, default=None, help="training batch (default 32 on GPU, 8 on CPU)"
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--train-repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for name in devices:
        device = torch.device(name)
        bench_inference(device, args)
        bench_training(device, args)
    sesr_macs(args)


if __name__ == "__main__":
    main()
