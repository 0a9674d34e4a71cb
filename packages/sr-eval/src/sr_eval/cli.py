"""``sr-eval``: evaluate a model on benchmark sets and print the PSNR/SSIM table.

sr-eval --model imdn --weights imdn_x2.pt --scale 2 --data Set5 Set14 B100 --out results/
sr-eval --model runs/best.pt --scale 4 --data Set5 --tile 128 --self-ensemble
sr-eval --model bicubic --scale 3 --data samples
sr-eval --model ecbsr_m4c16 --in-channels 1 --weights ecbsr_y_x2.pt --scale 2 --data Set5
"""

from __future__ import annotations

import argparse
import sys

from sr_data import check_output_folder
from sr_eval.evaluate import evaluate
from sr_eval.models import load_model
from sr_eval.profiling import declared_in_channels, profile
from sr_eval.runtime import add_version_argument, resolve_device, run_cli
from sr_eval.version import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sr-eval", description="PSNR/SSIM (Y, crop = scale) on SR benchmarks."
    )
    add_version_argument(parser, __version__)
    parser.add_argument("--model", required=True, help="registered model name, or a checkpoint .pt file")
    parser.add_argument("--scale", type=int, required=True, help="upscaling factor (2, 3, 4 ...)")
    parser.add_argument(
        "--data",
        nargs="+",
        required=True,
        help="benchmark names (Set5 Set14 B100 BSD68 Urban100 ...), image folders, or 'samples'",
    )
    parser.add_argument("--data-root", default=None, help="folder holding the benchmark folders")
    parser.add_argument("--weights", default=None, help="weights for a model given by name")
    parser.add_argument(
        "--in-channels",
        type=int,
        choices=(1, 3),
        default=None,
        help="1: a Y-only model (fed the LR's Y, scored on Y); 3: RGB. A model given by name is built "
        "with in_channels=out_channels=N; default: read from the model (3 for names)",
    )
    parser.add_argument("--tile", type=int, default=None, help="LR tile size for tiled inference")
    parser.add_argument("--overlap", type=int, default=16, help="LR overlap between tiles")
    parser.add_argument("--self-ensemble", action="store_true", help="average over the 8 flips/rotations")
    parser.add_argument("--device", default=None, help="auto (default: CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--out", default=None, help="folder for results.json / .csv / .md")
    parser.add_argument("--per-image", action="store_true", help="also print the per-image rows")
    return parser


def _benchmarks(names: list[str], scale: int) -> list:
    from sr_data import SampleImages

    return [SampleImages("test", scale=scale) if name == "samples" else name for name in names]


def _channel_kwargs(in_channels: int | None) -> dict[str, int]:
    """Factory arguments for ``--in-channels`` (models output as many channels as they take)."""
    return {} if in_channels is None else {"in_channels": in_channels, "out_channels": in_channels}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli("sr-eval", lambda: _evaluate(args))


def _evaluate(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    if args.out:
        check_output_folder(args.out)
    model, name = load_model(args.model, args.scale, args.weights, **_channel_kwargs(args.in_channels))
    taken = declared_in_channels(model)  # None: channel-agnostic (bicubic)
    if args.in_channels is not None and taken not in (None, args.in_channels):
        raise ValueError(f"--in-channels {args.in_channels}, but {args.model} takes {taken} channels")
    cost = profile(model, scale=args.scale, in_channels=args.in_channels)
    table = evaluate(
        model,
        _benchmarks(args.data, args.scale),
        args.scale,
        tile=args.tile,
        self_ensemble=args.self_ensemble,
        device=device,
        overlap=args.overlap,
        data_root=args.data_root,
        progress=True,
        in_channels=args.in_channels,
    )
    table.settings.update(model=name, params=cost.params, macs_720p=cost.macs)
    print(f"{name} x{args.scale}: {cost.params:,} parameters, {cost.gmacs:.2f} GMACs for a 1280x720 output")
    if table.settings["model_input"] == "Y":
        print("Y-only model: fed the LR's Y, its output scored against the HR's Y")
    print(table.to_markdown(per_image=args.per_image), end="")
    if args.out:
        for path in table.save(args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
