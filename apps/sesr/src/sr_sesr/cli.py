"""`sesr`: train SESR with the official code's flags, then collapse, evaluate, export and quantise it.

    sesr                                             # SESR-M5 x2, collapsed training (seed 002)
    sesr --linear_block_type expanded
    sesr --m 11 --feature_size 64                    # SESR-M11
    sesr --m 11 --int_features 32 --feature_size 64  # SESR-XL
    sesr --scale 4                                   # x4, starts from the x2 model of the same flags
    sesr --quant_W 8 --quant_A 8                     # adds int8 QAT (PTQ always runs)

The seed's flags keep their names and defaults; `--data`, `--out` and the rest are this app's.
Re-running a command resumes it and skips the stages already done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_deploy.quant import check_bits
from sr_sesr.int8 import Int8Settings
from sr_sesr.pipeline import RunRequest, comparison_markdown, run
from sr_sesr.settings import MODEL_NAMES, SCALES, Network, Recipe
from sr_train import NonFiniteLossError


def quant_bits(text: str) -> int:
    """A --quant_W/--quant_A value: bits 2..8, or a boolean as the official flag takes (true = 8)."""
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return 8
    if lowered in ("false", "0", "no"):
        return 0
    try:
        bits = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a bit width or true/false, got {text!r}") from None
    try:
        return check_bits(bits, "bit width")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sesr",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[2:]),
    )
    seed = parser.add_argument_group("flags of the official SESR code (seed 002)")
    seed.add_argument("--epochs", type=int, default=300, help="number of epochs to train (300)")
    seed.add_argument("--batch_size", type=int, default=32, help="batch size during training (32)")
    seed.add_argument("--learning_rate", type=float, default=2e-4, help="learning rate for Adam (2e-4)")
    seed.add_argument("--model_name", default="SESR", help="name of the model ('SESR')")
    seed.add_argument("--scale", type=int, default=2, choices=SCALES, help="x2 or x4 SISR (2)")
    seed.add_argument("--feature_size", type=int, default=256, help="features inside linear blocks (256)")
    seed.add_argument(
        "--int_features", type=int, default=16, help="features between blocks, the paper's f (16)"
    )
    seed.add_argument("--m", type=int, default=5, help="number of 3x3 layers, the paper's m (5)")
    seed.add_argument(
        "--linear_block_type",
        default="collapsed",
        choices=["collapsed", "expanded"],
        help="collapse the linear blocks at every training step, or train them expanded (collapsed)",
    )
    seed.add_argument(
        "--quant_W",
        type=quant_bits,
        nargs="?",
        const=8,
        default=0,
        help="QAT weight bits (alone: 8); needs --quant_A too",
    )
    seed.add_argument(
        "--quant_A",
        type=quant_bits,
        nargs="?",
        const=8,
        default=0,
        help="QAT activation bits (alone: 8); needs --quant_W too",
    )

    app = parser.add_argument_group("data, results and stages")
    app.add_argument(
        "--data",
        default="samples",
        help="'samples' (bundled photos), a DIV2K root or a folder of HR images (samples)",
    )
    app.add_argument(
        "--out",
        type=Path,
        default=Path("logs"),
        help="results root: runs go to <out>/x<scale>_models/<name>/ (logs)",
    )
    app.add_argument(
        "--x2_model",
        type=Path,
        help="x4 only: the x2 checkpoint or run folder to start from "
        "(default: the x2 run of the same flags under --out)",
    )
    app.add_argument(
        "--val",
        default="auto",
        help="auto (DIV2K valid split, else held-out training images), holdout:N, none, or a set",
    )
    app.add_argument(
        "--test_sets",
        nargs="+",
        default=["Set5", "Set14", "BSD68"],
        help="benchmarks after training ('samples' = bundled test photos)",
    )
    app.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    app.add_argument("--seed", type=int, default=0)
    app.add_argument("--num_workers", type=int, default=0, help="DataLoader workers")
    app.add_argument("--quiet", action="store_true", help="no progress output (logs still written)")

    small = parser.add_argument_group("shrinking a run (tests, laptops)")
    small.add_argument(
        "--steps_per_epoch", type=int, help="batches per epoch instead of 64 patches per training image"
    )
    small.add_argument("--patch_size", type=int, help="HR patch side instead of 128 (x2) / 200 (x4)")

    quant = parser.add_argument_group("int8")
    quant.add_argument(
        "--ptq_method",
        default="percentile",
        choices=["percentile", "mse", "minmax"],
        help="activation observer for calibration (percentile)",
    )
    quant.add_argument(
        "--calibration_patches", type=int, default=256, help="training patches to calibrate on"
    )
    quant.add_argument("--qat_epochs", type=int, help="QAT fine-tuning epochs (default: a tenth of --epochs)")
    quant.add_argument(
        "--qat_learning_rate", type=float, help="QAT learning rate (default: a tenth of --learning_rate)"
    )
    return parser


def request_from_args(args: argparse.Namespace) -> RunRequest:
    """The run the parsed flags ask for; a ValueError names a bad flag."""
    if args.model_name.upper() not in MODEL_NAMES:
        raise ValueError(f"--model_name {args.model_name!r}: this app trains {', '.join(MODEL_NAMES)}")
    if bool(args.quant_W) != bool(args.quant_A):
        raise ValueError(
            f"--quant_W {args.quant_W} --quant_A {args.quant_A}: QAT quantises both weights and activations; "
            "give both (e.g. --quant_W 8 --quant_A 8)"
        )
    for flag in ("epochs", "batch_size", "steps_per_epoch", "patch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag} must be >= 1, got {value}")
    if args.scale == 2 and args.x2_model is not None:
        raise ValueError("--x2_model is for --scale 4 (x4 starts from an x2 model)")
    network = Network(args.scale, args.m, args.int_features, args.feature_size, args.linear_block_type)
    recipe = Recipe(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        steps_per_epoch=args.steps_per_epoch,
        patch_size=args.patch_size,
        seed=args.seed,
        device=args.device,
        num_workers=args.num_workers,
    )
    int8 = Int8Settings(
        method=args.ptq_method,
        calibration_patches=args.calibration_patches,
        qat_bits=(args.quant_W, args.quant_A) if args.quant_W else None,
        qat_epochs=args.qat_epochs or max(1, args.epochs // 10),
        qat_learning_rate=args.qat_learning_rate or args.learning_rate / 10,
    )
    return RunRequest(
        network, recipe, args.data, args.out, args.val, args.test_sets, args.x2_model, int8, args.quiet
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        results = run(request_from_args(args))
    except (ValueError, FileNotFoundError, ImportError) as err:
        print(f"sesr: error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"sesr: {err}", file=sys.stderr)
        return 3
    if args.quiet:  # otherwise the run's log has just printed it
        print(comparison_markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
