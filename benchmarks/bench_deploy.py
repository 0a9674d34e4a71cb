"""Deployment benchmark, in one run:

1. SESR-M5 collapsed vs expanded training step, and the MACs of the SESR paper (41.77B vs 1.84B for a
   32x1x64x64 forward) -- measured by ``bench_reparam.py``'s functions, reused here;
2. onnxruntime int8 (QCDQ from ``zoo quantize``'s path: ``quant.ptq`` defaults, conv outputs
   quantised so onnxruntime fuses QLinearConv) vs fp32 latency on CPU, SESR-M5 (Y, as the SESR app
   deploys it) and EDSR-baseline (RGB), x2, LR input 640x360, with the QLinearConv/Conv counts of
   onnxruntime's optimised int8 graph and onnxruntime's own ``quantize_static`` as a reference. The
   int8 export writes PReLU as min/mul/add (onnxruntime's PRelu kernel is slow); "fp32*" is the fp32
   graph with the same rewrite, so the int8/fp32* ratio is what integer kernels alone give;
3. ``zoo upscale`` images/s over a folder of 1080p frames (SESR-M5 x2, RGB, PNG in and out) vs the
   bare model forward on a preloaded tensor (the share of the network's speed left after decoding,
   colour handling and encoding).

    python benchmarks/bench_deploy.py                        # CPU (and CUDA for 1 and 3 when available)
    python benchmarks/bench_deploy.py --frames 8 --ort-repeats 10
    python benchmarks/bench_deploy.py --parts upscale --devices cuda
    OMP_NUM_THREADS=2 python benchmarks/bench_deploy.py --parts onnx --ort-repeats 10

Targets: collapsed >= 5x faster than expanded on GPU; int8 >= 1.5x faster than fp32 in onnxruntime
on CPU; upscale >= 80% of the bare forward's images/s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reparam import bench_training, sesr_macs  # noqa: E402
from bench_timing import verdict  # noqa: E402
from upscale_workload import upscale_rates, write_frames  # noqa: E402

from sr_blocks import create_model  # noqa: E402
from sr_deploy import TorchEngine  # noqa: E402
from sr_eval import interleaved_times_ms  # noqa: E402
from sr_reparam import deploy, export_onnx, onnxruntime_session  # noqa: E402

PARTS = ("training", "onnx", "upscale")


def part_training(devices: list[torch.device], args: argparse.Namespace) -> None:
    reparam_args = argparse.Namespace(
        batch=None, channels=1, size=64, scale=2, train_repeats=args.train_repeats
    )
    for device in devices:
        bench_training(device, reparam_args)
    sesr_macs(reparam_args)


def conv_kernels(path: Path, work: Path) -> Counter:
    """How many QLinearConv (integer) and Conv (float) nodes onnxruntime runs for ``path``."""
    import onnx

    optimised = work / f"{path.stem}_optimised.onnx"
    onnxruntime_session(path, torch.get_num_threads(), optimized_path=optimised)
    ops = Counter(node.op_type for node in onnx.load(str(optimised)).graph.node)
    return Counter({op: ops[op] for op in ("QLinearConv", "Conv")})


def ort_latencies(paths: list[Path], x: np.ndarray, repeats: int) -> list[float]:
    """Median seconds of one onnxruntime CPU run (torch's thread count) of each of ``paths`` on ``x``
    after a warm-up round; the models take turns within each round (`sr_eval.interleaved_times_ms`),
    so a change in machine load hits them all alike."""
    sessions = {str(path): onnxruntime_session(path, torch.get_num_threads()) for path in paths}
    calls = {
        name: (lambda session=session: session.run(None, {session.get_inputs()[0].name: x}))
        for name, session in sessions.items()
    }
    return [statistics.median(ms) / 1e3 for ms in interleaved_times_ms(calls, repeats, warmup=1).values()]


def ort_static_int8(fp32: Path, path: Path, calibration: torch.Tensor) -> Path:
    """onnxruntime's own static quantisation of ``fp32`` (QDQ, per-channel s8 weights, u8 activations
    around every conv): a reference for what int8 kernels give when each conv output is quantised."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter([{"lr": batch[None].numpy()} for batch in calibration])

        def get_next(self) -> dict | None:
            return next(self.items, None)

    logging.disable(logging.WARNING)  # its advice to pre-process the model
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the model's inputs
            quantize_static(
                str(fp32),
                str(path),
                Batches(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
            )
    finally:
        logging.disable(logging.NOTSET)
    return path


def fp32_with_fast_prelu(fp32: Path, path: Path) -> Path:
    """``fp32`` with PRelu rewritten as the int8 export writes it (the same function, faster kernels)."""
    import onnx

    from sr_deploy.quant.onnx_rewrites import prelu_as_min_mul_add

    model = onnx.load(str(fp32))
    prelu_as_min_mul_add(model)
    onnx.save(model, str(path))
    return path


def part_onnx(args: argparse.Namespace, work: Path) -> None:
    from sr_deploy.quant import export_onnx_int8, ptq

    h, w = args.lr_size
    print(
        f"\n[cpu, onnxruntime {_ort_version()}, {torch.get_num_threads()} threads] w8a8 int8 vs fp32, x2, "
        f"LR {w}x{h}, median of {args.ort_repeats}; int8 = quant.ptq defaults -> export_onnx_int8 "
        "(zoo quantize); fp32* = fp32 with PRelu as min/mul/add like the int8 export; ort-static = "
        "onnxruntime's quantize_static of fp32 (reference)"
    )
    for name, channels in (("sesr_m5", 1), ("edsr_baseline", 3)):
        torch.manual_seed(0)
        model = deploy(create_model(name, scale=2, in_channels=channels, out_channels=channels)).eval()
        calibration = torch.rand(16, channels, 48, 48)
        fp32 = export_onnx(model, work / f"{name}_fp32.onnx")
        fast32 = fp32_with_fast_prelu(fp32, work / f"{name}_fp32_fast_prelu.onnx")
        int8 = export_onnx_int8(
            ptq(model, calibration, keep_float=()), work / f"{name}_int8.onnx", calibration[:1]
        )
        static = ort_static_int8(fp32, work / f"{name}_ort_static.onnx", calibration)
        x = np.random.default_rng(0).random((1, channels, h, w), dtype=np.float32)
        t32, tf, t8, ts = ort_latencies([fp32, fast32, int8, static], x, args.ort_repeats)
        kernels, static_kernels = conv_kernels(int8, work), conv_kernels(static, work)
        print(
            f"  {name:14s} fp32 {t32 * 1e3:7.1f} ms | fp32* {tf * 1e3:7.1f} ms | int8 {t8 * 1e3:7.1f} ms: "
            f"{t32 / t8:4.2f}x fp32 ({verdict(t32 / t8, 1.5)}), {tf / t8:4.2f}x fp32* | "
            f"ort-static {ts * 1e3:7.1f} ms: {t32 / ts:4.2f}x fp32"
        )
        print(
            f"  {'':14s} onnxruntime kernels: int8 {kernels['QLinearConv']} QLinearConv + {kernels['Conv']} "
            f"Conv; ort-static {static_kernels['QLinearConv']} QLinearConv + {static_kernels['Conv']} Conv"
        )


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__


def part_upscale(devices: list[torch.device], args: argparse.Namespace, work: Path) -> None:
    frames = work / "frames"
    source = write_frames(frames, args.frames, tuple(args.frame_size))
    h, w = args.frame_size
    for device in devices:
        torch.manual_seed(0)
        engine = TorchEngine(deploy(create_model("sesr_m5", scale=2)), 2, "sesr_m5", device)
        rates = upscale_rates(
            engine,
            frames,
            work / f"out_{device.type}",
            (h, w),
            args.workers,
            args.png_level,
            args.forward_repeats,
        )
        print(
            f"\n[{device}] zoo upscale, SESR-M5 x2 RGB, {rates.frames} {w}x{h} PNG frames ({source}) -> "
            f"{2 * w}x{2 * h} PNG (zlib level {args.png_level}), {args.workers} I/O threads, "
            f"{torch.get_num_threads()} torch threads"
        )
        print(f"  bare forward  {1e3 / rates.bare_per_s:9.1f} ms  = {rates.bare_per_s:6.3f} images/s")
        print(f"  zoo upscale   {1e3 / rates.upscale_per_s:9.1f} ms  = {rates.upscale_per_s:6.3f} images/s")
        met = "met" if rates.share >= 0.8 else "NOT met"
        print(f"  upscale / bare {rates.share:6.1%}  (target >= 80%: {met})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--devices", nargs="+", help="default: cpu, and cuda when available (parts 1 and 3)")
    parser.add_argument("--train-repeats", type=int, default=5)
    parser.add_argument("--lr-size", type=int, nargs=2, default=(360, 640), metavar=("H", "W"))
    parser.add_argument("--ort-repeats", type=int, default=5)
    parser.add_argument("--frames", type=int, default=4, help="1080p frames in the upscale folder")
    parser.add_argument("--frame-size", type=int, nargs=2, default=(1080, 1920), metavar=("H", "W"))
    parser.add_argument("--forward-repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="zoo upscale's I/O threads")
    parser.add_argument("--png-level", type=int, default=1, help="zoo upscale's PNG zlib level")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    devices = [torch.device(name) for name in names]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, devices {', '.join(names)}")
    with tempfile.TemporaryDirectory(prefix="bench_deploy_") as scratch:
        work = Path(scratch)
        if "training" in args.parts:
            part_training(devices, args)
        if "onnx" in args.parts:
            part_onnx(args, work)
        if "upscale" in args.parts:
            part_upscale(devices, args, work)


if __name__ == "__main__":
    main()
