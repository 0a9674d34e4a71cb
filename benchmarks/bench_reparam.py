"""Benchmark re-parameterisation: deployed vs training form, deployed vs a plain conv stack, and
SESR's collapsed vs expanded training step; plus the MACs of one SESR-M5 forward.

    python benchmarks/bench_reparam.py                   # CPU, and CUDA when available
    python benchmarks/bench_reparam.py --batch 32 --size 64 --devices cuda
    python benchmarks/bench_reparam.py --threads 1 --repeats 21   # steadier on a busy CPU

Targets (issue 2): deployed >= 5x faster than the training form; deployed within 1.05x of an
equally shaped plain conv stack; collapsed training >= 5x faster than expanded on GPU.
Models run on one channel (Y), as in the ECBSR and SESR papers.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from sr_blocks import create_model
from sr_reparam import deploy


class PlainECBSR(nn.Module):
    """ECBSR's inference topology from plain layers: 3x3 convs + PReLU, residual, pixel shuffle."""

    def __init__(self, m: int, c: int, scale: int, channels: int):
        super().__init__()
        widths = [channels] + [c] * (m + 1)
        layers: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.PReLU(cout)]
        layers.append(nn.Conv2d(c, channels * scale * scale, 3, padding=1))
        self.body = nn.Sequential(*layers)
        self.upsample = nn.PixelShuffle(scale)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(self.body(x) + x.repeat_interleave(self.scale**2, dim=1))


class PlainSESR(nn.Module):
    """SESR's inference topology from plain bias-free convs: 5x5, m x (3x3 + PReLU), 5x5, residuals."""

    def __init__(self, m: int, f: int, scale: int, channels: int):
        super().__init__()
        self.first = nn.Conv2d(channels, f, 5, padding=2, bias=False)
        self.body = nn.Sequential(
            *(nn.Sequential(nn.Conv2d(f, f, 3, padding=1, bias=False), nn.PReLU(f)) for _ in range(m))
        )
        self.last = nn.Conv2d(f, channels * scale * scale, 5, padding=2, bias=False)
        self.upsample = nn.PixelShuffle(scale)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = self.first(x - 0.5)
        y = self.last(self.body(first) + first) + x.repeat_interleave(self.scale**2, dim=1)
        return self.upsample(y).clamp(0.0, 1.0)


def median_times(
    fns: dict[str, Callable[[], object]], device: torch.device, warmup: int, repeats: int
) -> dict:
    """Median wall time of each function over ``repeats`` rounds, after ``warmup`` rounds.

    Each round runs every function once, in rotating order, so drifts in machine load hit all of
    them alike (a fairer comparison on a shared machine than timing one after the other).
    """

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            sync()
            start = time.perf_counter()
            fns[name]()
            sync()
            if round_index >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def inference_times(models: dict[str, nn.Module], x: torch.Tensor, args: argparse.Namespace) -> dict:
    models = {name: model.to(x.device).eval() for name, model in models.items()}
    with torch.inference_mode():
        calls = {name: (lambda model=model: model(x)) for name, model in models.items()}
        return median_times(calls, x.device, args.warmup, args.repeats)


def verdict(ratio: float, target: float, higher_is_better: bool = True) -> str:
    ok = ratio >= target if higher_is_better else ratio <= target
    return f"target {'>=' if higher_is_better else '<='} {target:g}x: {'met' if ok else 'NOT met'}"


def bench_inference(device: torch.device, args: argparse.Namespace) -> None:
    h, w = args.lr_size or ((360, 640) if device.type == "cuda" else (128, 128))
    x = torch.rand(1, args.channels, h, w, device=device)
    print(
        f"\n[{device}] inference, LR input 1x{args.channels}x{h}x{w}, x{args.scale}, median of {args.repeats}"
    )
    kwargs = {"in_channels": args.channels, "out_channels": args.channels}
    ecbsr = create_model("ecbsr_m16c64", scale=args.scale, **kwargs)
    sesr_expanded = create_model("sesr_m5", scale=args.scale, training_mode="expanded", **kwargs)
    sesr_collapsed = create_model("sesr_m5", scale=args.scale, training_mode="collapsed", **kwargs)
    shape = (args.scale, args.channels)
    cases = [
        ("ECBSR-M16C64", ecbsr, [("training form", ecbsr, True)], PlainECBSR(16, 64, *shape)),
        (
            "SESR-M5",
            sesr_collapsed,
            [  # the target is for the expanded form; the collapsed one is SESR's cheap training form
                ("training form, expanded", sesr_expanded, True),
                ("training form, collapsed", sesr_collapsed, False),
            ],
            PlainSESR(5, 16, *shape),
        ),
    ]
    for name, source, training_forms, plain in cases:
        forms = {label: model for label, model, _ in training_forms}
        times = inference_times({"deployed": deploy(source), "plain": plain, **forms}, x, args)
        deployed_time, plain_time = times["deployed"], times["plain"]
        print(f"  {name}: deployed {deployed_time * 1e3:8.2f} ms")
        for label, _, has_target in training_forms:
            t = times[label]
            ratio = t / deployed_time
            note = verdict(ratio, 5) if has_target else "collapses its kernels at every call"
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
    steps = {}
    for mode in ("expanded", "collapsed"):
        model = create_model(
            "sesr_m5",
            scale=args.scale,
            in_channels=args.channels,
            out_channels=args.channels,
            training_mode=mode,
        ).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

        def step(model: nn.Module = model, optimizer: torch.optim.Optimizer = optimizer) -> None:
            optimizer.zero_grad(set_to_none=True)
            nn.functional.l1_loss(model(lr), hr).backward()
            optimizer.step()

        steps[mode] = step
    times = median_times(steps, device, warmup=2, repeats=args.train_repeats)
    for mode, seconds in times.items():
        print(f"  {mode:9s} {seconds * 1e3:9.1f} ms / step")
    ratio = times["expanded"] / times["collapsed"]
    target = verdict(ratio, 5) if device.type == "cuda" else "the >= 5x target is for GPU"
    print(f"  collapsed speed-up {ratio:.2f}x  ({target})")


def sesr_macs(args: argparse.Namespace) -> None:
    x = torch.rand(32, 1, 64, 64)
    print("\nMACs of one SESR-M5 x2 forward (Y channel) on a 32x1x64x64 batch (seed 002: 41.77B vs 1.84B)")
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
