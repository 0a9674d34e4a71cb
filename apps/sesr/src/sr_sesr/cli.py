"""`sesr`: train SESR with the official code's flags, then collapse, evaluate, export and quantise it.

    sesr                                             # SESR-M5 x2, collapsed training
    sesr --linear_block_type expanded
    sesr --m 11 --feature_size 64                    # SESR-M11
    sesr --m 11 --int_features 32 --feature_size 64  # SESR-XL
    sesr --scale 4                                   # x4, starts from the x2 model of the same flags
    sesr --quant_W 8 --quant_A 8                     # adds int8 QAT (PTQ always runs)

The official SESR code's flags keep their names and defaults; `--data`, `--out` and the rest are this app's.
Rerunning a command resumes it and skips the stages already done; a rerun with other training
settings is refused (with the differences) and the folder is left as it was.
Exit statuses: 0 done, 1 OS error, 2 bad input, 3 the run failed, 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_deploy.quant import METHODS, check_bits
from sr_eval.runtime import add_version_argument, resolve_device, run_cli
from sr_sesr.pipeline import RunRequest, SESRRun, comparison_markdown
from sr_sesr.settings import MODEL_NAMES, SCALES, Int8Settings, Network, Recipe
from sr_sesr.version import __version__

BOOLEANS = {"true": "8", "yes": "8", "1": "8", "false": "0", "no": "0", "0": "0"}  # the official flags'
POSITIVE = ("epochs", "batch_size", "m", "int_features", "feature_size", "steps_per_epoch", "patch_size")


def quant_bits(text: str) -> int:
    """A --quant_W/--quant_A value: bits 2..8, or a boolean as the official flag takes (true = 8)."""
    value = BOOLEANS.get(text.lower(), text)
    try:
        return 0 if value == "0" else check_bits(int(value), "bit width")
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a bit width (2 to 8) or true/false, got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    doc = __doc__.split("\n")
    parser = argparse.ArgumentParser(
        prog="sesr",
        description=doc[0],
        epilog="\n".join(doc[2:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_version_argument(parser, __version__)
    official = parser.add_argument_group("flags of the official SESR code")
    official.add_argument("--epochs", type=int, default=300, help="number of epochs to train (300)")
    official.add_argument("--batch_size", type=int, default=32, help="batch size during training (32)")
    official.add_argument("--learning_rate", type=float, default=2e-4, help="learning rate for Adam (2e-4)")
    official.add_argument("--model_name", default="SESR", help="name of the model ('SESR')")
    official.add_argument("--scale", type=int, default=2, choices=SCALES, help="x2 or x4 SISR (2)")
    official.add_argument("--feature_size", type=int, default=256, help="features inside linear blocks (256)")
    official.add_argument(
        "--int_features", type=int, default=16, help="features between blocks, the paper's f (16)"
    )
    official.add_argument("--m", type=int, default=5, help="number of 3x3 layers, the paper's m (5)")
    types = ["collapsed", "expanded"]
    text = "collapse the linear blocks at every training step, or train them expanded (collapsed)"
    official.add_argument("--linear_block_type", default="collapsed", choices=types, help=text)
    bits = {"type": quant_bits, "nargs": "?", "const": 8, "default": 0}
    official.add_argument("--quant_W", **bits, help="QAT weight bits (alone: 8); needs --quant_A too")
    official.add_argument("--quant_A", **bits, help="QAT activation bits (alone: 8); needs --quant_W too")

    app = parser.add_argument_group("data, results and stages")
    app.add_argument("--data", default="samples", help="'samples', a DIV2K root or a folder of HR images")
    app.add_argument(
        "--out", type=Path, default=Path("logs"), help="runs go to <out>/x<scale>_models/<name>/"
    )
    app.add_argument(
        "--x2_model", type=Path, help="x4: the x2 checkpoint or run (default: same flags, --out)"
    )
    text = "auto (DIV2K valid split, else held-out training images), holdout:N, samples, none, or a set"
    app.add_argument("--val", default="auto", help=text)
    sets = ["Set5", "Set14", "BSD68"]
    app.add_argument("--test_sets", nargs="+", default=sets, help="benchmarks ('samples': bundled photos)")
    app.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    app.add_argument("--seed", type=int, default=0)
    app.add_argument("--num_workers", type=int, default=0, help="DataLoader workers")
    app.add_argument("--quiet", action="store_true", help="no progress output (logs still written)")

    small = parser.add_argument_group("shrinking a run (tests, laptops)")
    small.add_argument(
        "--steps_per_epoch", type=int, help="batches per epoch instead of 64 patches per image"
    )
    small.add_argument("--patch_size", type=int, help="HR patch side instead of 128 (x2) / 200 (x4)")

    quant = parser.add_argument_group("int8")
    quant.add_argument("--ptq_method", default="percentile", choices=METHODS, help="calibration observer")
    quant.add_argument(
        "--calibration_patches", type=int, default=256, help="training patches to calibrate on"
    )
    quant.add_argument("--qat_epochs", type=int, help="QAT fine-tuning epochs (default: a tenth of --epochs)")
    quant.add_argument(
        "--qat_learning_rate", type=float, help="QAT learning rate (default: --learning_rate/10)"
    )
    return parser


def request_from_args(args: argparse.Namespace) -> RunRequest:
    """The run the parsed flags ask for, the device checked first; a ValueError names a bad flag."""
    device = resolve_device(args.device)
    if args.model_name.upper() not in MODEL_NAMES:
        raise ValueError(f"--model_name {args.model_name!r}: this app trains {', '.join(MODEL_NAMES)}")
    if bool(args.quant_W) != bool(args.quant_A):
        raise ValueError(
            f"--quant_W {args.quant_W} --quant_A {args.quant_A}: QAT quantises both weights and activations; "
            "give both (e.g. --quant_W 8 --quant_A 8)"
        )
    for flag in (*POSITIVE, "calibration_patches", "qat_epochs"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            raise ValueError(f"--{flag} must be >= 1, got {value}")
    if args.scale == 2 and args.x2_model is not None:
        raise ValueError("--x2_model is for --scale 4 (x4 starts from an x2 model)")
    network = Network(args.scale, args.m, args.int_features, args.feature_size, args.linear_block_type)
    recipe = Recipe(
        args.epochs, args.batch_size, args.learning_rate, args.steps_per_epoch, args.patch_size, args.seed
    )
    int8 = Int8Settings(
        method=args.ptq_method,
        calibration_patches=args.calibration_patches,
        qat_bits=(args.quant_W, args.quant_A) if args.quant_W else None,
        qat_epochs=args.qat_epochs or max(1, args.epochs // 10),
        qat_learning_rate=args.qat_learning_rate or args.learning_rate / 10,
    )
    data = {"data": args.data, "val": args.val, "test_sets": args.test_sets, "x2_model": args.x2_model}
    run_as = {"out": args.out, "device": device, "num_workers": args.num_workers, "quiet": args.quiet}
    return RunRequest(network, recipe, int8, **data, **run_as)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    def work() -> None:
        results = SESRRun(request_from_args(args)).run()
        if args.quiet:  # otherwise the run's log has just printed it
            print(comparison_markdown(results))

    return run_cli("sesr", work)


if __name__ == "__main__":
    sys.exit(main())
