"""Training throughput of sr_train's loop: steps/s and patches/s, fp32 vs AMP, eager vs torch.compile.

Runs every configuration on the CPU (bf16 autocast as the CPU's AMP) and, when present, on CUDA
(bf16 and fp16 AMP), with random in-memory patches so no data loading is measured. Throughput leaves
out the first logging window (warm-up and compilation). Prints one table with ratios to fp32 eager,
then the searches' view: the fixed cost of one `train_and_validate` call and the process's peak
memory over many calls (it must not grow).

    python benchmarks/bench_train.py --quick            # a few seconds per configuration
    python benchmarks/bench_train.py --models espcn imdn --steps 200
"""

from __future__ import annotations

import argparse
import resource
from functools import partial

import torch
from train_workload import measure

from sr_blocks import create_model
from sr_eval import time_calls_ms
from sr_train import PatchTensors, train_and_validate


def configurations(device: str, with_compile: bool) -> list[tuple[str, str, bool]]:
    """(label, amp, compile) to run on `device`."""
    amps = ["none", "bf16"] + (["fp16"] if device == "cuda" else [])
    modes = [(f"{'fp32' if amp == 'none' else amp}", amp, False) for amp in amps]
    if with_compile:
        modes += [(f"{label}+compile", amp, True) for label, amp, _ in modes]
    return modes


def search_calls(calls: int, device: str) -> None:
    """Median wall time of a 1-step `train_and_validate` call (ESPCN, 32 val patches), peak RSS and,
    on CUDA, the GPU memory still allocated after the calls (it must not grow)."""
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(256, 3, 32, 32, generator=g)
    data = PatchTensors(torch.nn.functional.avg_pool2d(hr, 2), hr).to(device)
    val = PatchTensors(data.lr[:32], data.hr[:32])
    times, peak, held = [], [], []
    for _ in range(calls):
        model = create_model("espcn", scale=2).to(device)
        call = partial(train_and_validate, model, data, 1, val, batch_size=16, device=device)
        times += time_calls_ms(call, 0, 1)
        peak.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        del call, model
        held.append(torch.cuda.memory_allocated() / 2**20 if device == "cuda" else 0.0)
    later = sorted(times[calls // 2 :])
    median_ms = later[len(later) // 2]
    gpu = (
        f"; GPU memory allocated {held[calls // 10]:.1f} MB after {calls // 10} calls, "
        f"{held[-1]:.1f} MB after {calls}"
        if device == "cuda"
        else ""
    )
    print(
        f"{device}: train_and_validate fixed cost {median_ms:.1f} ms per call (median of the last "
        f"{len(later)}); peak RSS {peak[calls // 10]:.0f} MB after {calls // 10} calls, "
        f"{peak[-1]:.0f} MB after {calls}" + gpu
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["espcn", "imdn"])
    parser.add_argument("--quick", action="store_true", help="espcn only, few steps, no compile on CPU")
    parser.add_argument("--steps", type=int, default=None, help="measured steps per configuration")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--calls", type=int, default=200, help="train_and_validate calls to time")
    args = parser.parse_args()
    models = ["espcn"] if args.quick else args.models
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    header = (
        f"{'device':6} {'model':10} {'mode':18} {'batch':>5} {'patch':>5} {'steps/s':>9} "
        f"{'patches/s':>10} {'vs fp32':>8}"
    )
    print(header)
    print("-" * len(header))
    for device in devices:
        cpu = device == "cpu"
        batch, patch = (16, 64) if cpu else (32, 128)
        steps = args.steps or ((5 if args.quick else 20) if cpu else 200)
        warmup = 2 if cpu else 20
        for name in models:
            base = None
            for label, amp, compile_ in configurations(device, with_compile=not (cpu and args.quick)):
                try:
                    r = measure(name, device, amp, compile_, batch, patch, args.scale, warmup, steps)
                except Exception as err:  # e.g. no C++ compiler for inductor: report and go on
                    reason = f"{type(err).__name__}: {str(err)[:60]}"
                    print(f"{device:6} {name:10} {label:18} unavailable: {reason}")
                    continue
                base = base or r["patches_per_s"]
                print(
                    f"{device:6} {name:10} {label:18} {batch:5d} {patch:5d} {r['steps_per_s']:9.2f} "
                    f"{r['patches_per_s']:10.1f} {r['patches_per_s'] / base:7.2f}x",
                    flush=True,
                )
    for device in devices:
        search_calls(50 if args.quick else args.calls, device)


if __name__ == "__main__":
    main()
