"""`zoo`: train, evaluate, deploy and export any model of the sr_blocks registry.

    zoo train  --model imdn --scale 2 --data samples --config imdn --out runs/imdn_x2
    zoo eval   --weights runs/imdn_x2/best.pt --sets Set5 Set14 BSD68
    zoo deploy --weights runs/imdn_x2/best.pt --out runs/imdn_x2/deploy
    zoo export --weights runs/imdn_x2/best.pt --out imdn_x2.onnx
    zoo upscale photos/ --weights runs/imdn_x2/best.pt --out photos_x2/
    zoo compare --models bicubic runs/imdn_x2/best.pt --image butterfly.png --scale 2 --out grid.png
    zoo quantize --weights runs/imdn_x2/best.pt --bits w8a8 --data samples --out runs/imdn_x2/int8
    zoo upscale photos/ --weights IMDN_x4.pth --out photos_x4/      # an official checkpoint

--weights also takes the authors' checkpoints (IMDN, RFDN, EDSR-PyTorch, BasicSR, ECBSR layouts;
`sr_blocks.official`), read with weights_only=True; --model / --scale say what the file holds where
its tensors do not tell, and are checked against it where they do.

Re-running `zoo train` with the same --out resumes from last.pt; a finished run is not redone.
Exit status: 0 done, 1 an OS error (naming the path), 2 bad input (naming the file, key or value),
3 the run failed, 130 interrupted (rerun the same command to resume); `zoo upscale`: the number of
files that failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from sr_blocks import create_model, list_models, model_entry
from sr_data import check_output_folder, open_test_sets
from sr_deploy import (
    check_out_of_official_folder,
    deploy_and_export,
    engine_from_spec,
    export_onnx_checked,
    load_trained,
    onnx_available,
    onnx_missing_reason,
    open_engine,
    plan_jobs,
    upscale_files,
)
from sr_deploy.grid import Crop, compare_grid
from sr_eval import evaluate
from sr_eval.runtime import add_version_argument, resolve_device, run_cli
from sr_zoo.pipeline import train
from sr_zoo.recipe import shipped_recipes
from sr_zoo.version import __version__

DEFAULT_SETS = ["Set5?", "Set14?", "BSD68?"]  # where found; a set named with --sets must be found
DATA_HELP = "'samples', a DIV2K root or a folder of HR images"
WEIGHTS_HELP = "checkpoint (last.pt, best.pt, deployed.pt), run folder, or official weights file"
MODEL_HELP = "the registered model --weights holds (needed where an official file does not tell; checked)"
SCALE_HELP = "the scale --weights upscales by (needed where an official file does not tell; checked)"
SETS_HELP = "test sets: benchmark names, folders or 'samples' (default: Set5 Set14 BSD68 where found)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_version_argument(parser, __version__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, run: Callable, device: bool = True) -> argparse.ArgumentParser:
        p = commands.add_parser(name, help=help)
        p.set_defaults(run=run)
        if device:
            p.add_argument("--device", help="auto (default: CUDA when present), cpu, cuda, cuda:N")
        return p

    p = command("train", "train a registered model, then test, deploy and export it", _train)
    p.add_argument("--model", help=f"registered model (default: the recipe's): {', '.join(list_models())}")
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--data", default="samples", help=DATA_HELP)
    shipped = ", ".join(shipped_recipes())
    p.add_argument("--config", help=f"recipe YAML or shipped recipe name (default: the model's); {shipped}")
    p.add_argument("--out", type=Path, help="results folder (default runs/<model>_x<scale>)")
    p.add_argument("--steps", type=int, help="override the recipe's budget in steps")
    p.add_argument("--epochs", type=int, help="override the recipe's budget in epochs")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--amp", choices=["none", "bf16", "fp16"])
    p.add_argument("--quiet", action="store_true", help="no progress output (logs still written)")

    p = command("eval", "benchmark table of trained weights (or of a model by name)", _eval)
    p.add_argument("--weights", help=WEIGHTS_HELP)
    p.add_argument("--model", help="a weight-free model alone (bicubic), or what --weights holds")
    p.add_argument(
        "--scale", type=int, help="2 unless given, for --model alone; with --weights: " + SCALE_HELP
    )
    p.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help=SETS_HELP)
    p.add_argument("--per-image", action="store_true", help="also print one row per image")
    p.add_argument("--out", type=Path, help="folder for benchmark.{md,json,csv}")

    p = command("deploy", "re-parameterise trained weights: deployed.pt + model.onnx", _deploy, device=False)
    add_weights_arguments(p)
    p.add_argument("--out", type=Path, required=True, help="results folder (not an official file's folder)")

    p = command("export", "ONNX of the deployed form of trained weights", _export, device=False)
    add_weights_arguments(p)
    p.add_argument("--out", type=Path, required=True, help="the .onnx file to write")

    p = command(
        "upscale", "upscale image files and folders (exit status: failed files, at most 100)", _upscale
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and folders")
    p.add_argument("--weights", help=WEIGHTS_HELP)
    p.add_argument("--onnx", help="an ONNX file instead (fp32, or int8 from `zoo quantize`)")
    p.add_argument("--model", help="a weight-free model alone (bicubic), or what --weights holds")
    p.add_argument("--scale", type=int, help="needed with --model alone; with --weights: " + SCALE_HELP)
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--tile", type=int, help="LR tile size for large images (default: whole images)")
    p.add_argument("--overlap", type=int, default=32, help="LR pixels shared by tiles (default 32)")
    p.add_argument("--half", action="store_true", help="float16 on CUDA")
    p.add_argument("--format", choices=["png", "same"], default="png", help="output format (16-bit: PNG)")
    p.add_argument("--recursive", action="store_true", help="also the images in sub-folders")
    p.add_argument("--overwrite", action="store_true", help="redo outputs that already exist")
    p.add_argument("--workers", type=int, default=2, help="threads decoding and encoding files")
    p.add_argument("--png-level", type=int, choices=range(10), default=1, metavar="0-9", help="zlib level")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("compare", "PNG grid of crops: bicubic, each model, HR, with PSNR", _compare)
    p.add_argument(
        "--models", nargs="+", required=True, help="checkpoints, official weights, .onnx files or model names"
    )
    p.add_argument("--labels", nargs="+", help="panel titles, one per --models entry (default: model names)")
    p.add_argument(
        "--image",
        nargs="+",
        required=True,
        help="HR images, one block of panels each (bicubic-downscaled input)",
    )
    p.add_argument("--scale", type=int, help="default: the first model's (needed where no model tells)")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument(
        "--crop",
        nargs="+",
        type=Crop.parse,
        help="x,y,w,h in HR pixels: one, or one per image (default: centred)",
    )
    p.add_argument("--zoom", type=int, default=2, help="enlargement of the crops (nearest neighbour)")
    p.add_argument("--columns", type=int, help="panels per row (default: all in one row)")

    p = command("quantize", "int8 (or w4) PTQ/QAT of trained weights: tables + QCDQ ONNX", _quantize)
    add_weights_arguments(p)
    p.add_argument("--method", choices=["percentile", "mse", "minmax"], default="percentile")
    p.add_argument("--bits", default="w8a8", help="weight and activation bits: w8a8, w4a8, w4a4, ...")
    p.add_argument("--qat-steps", type=int, default=0, help="quantisation-aware fine-tuning steps (0: PTQ)")
    p.add_argument("--qat-lr", type=float, default=2e-5)
    target_help = "QAT towards the HR patches or the float model's outputs"
    p.add_argument("--qat-target", choices=["hr", "teacher"], default="hr", help=target_help)
    plan = p.add_mutually_exclusive_group()
    plan.add_argument("--keep-float", nargs="+", metavar="CONV", help="convs (names or patterns) left float")
    plan.add_argument("--all-int8", action="store_true", help="quantise every conv (no automatic plan)")
    drop_help = "the automatic plan's budget: dB lost on the held-out quarter of the calibration patches"
    p.add_argument("--max-drop", type=float, default=0.1, help=drop_help)
    between_help = "quantise the tensors between the convs too, so onnxruntime runs those ops as integers"
    p.add_argument("--quantize-between", action="store_true", help=between_help)
    p.add_argument("--batch-size", type=int, default=16, help="QAT batch size")
    calibration_help = "calibration patches, 48 LR pixels square (a quarter held out for the automatic plan)"
    p.add_argument("--calibration", type=int, default=128, help=calibration_help)
    p.add_argument("--calibration-size", type=int, help="HR side of the calibration patches (48 x scale)")
    p.add_argument("--patch-size", type=int, default=64, help="HR side of the QAT patches")
    p.add_argument("--data", default="samples", help=DATA_HELP)
    p.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help=SETS_HELP)
    p.add_argument("--out", type=Path, required=True, help="results folder")
    return parser


def add_weights_arguments(parser: argparse.ArgumentParser) -> None:
    """--weights (required), and --model / --scale for an official file that does not tell them."""
    parser.add_argument("--weights", required=True, help=WEIGHTS_HELP)
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--scale", type=int, help=SCALE_HELP)


def _train(args: argparse.Namespace) -> None:
    config = args.config or args.model
    if config is None:
        raise ValueError("give --model or --config")
    if args.config is None:
        model_entry(args.model)  # an unknown model is named (with the known ones) before its recipe is sought
    out = args.out or Path("runs") / f"{args.model or Path(config).stem}_x{args.scale}"
    options = {key: getattr(args, key) for key in ("steps", "epochs", "batch_size", "lr", "device", "amp")}
    train(config, out, model=args.model, scale=args.scale, data=args.data, quiet=args.quiet, **options)


def _eval(args: argparse.Namespace) -> None:
    """Table of trained weights (or of a weight-free model by name, e.g. bicubic)."""
    device = resolve_device(args.device)
    if args.weights:
        model, ckpt = load_trained(args.weights, model=args.model, scale=args.scale)
        scale = ckpt["scale"]
    elif args.model:
        scale = 2 if args.scale is None else args.scale
        model = create_model(args.model, scale=scale)
    else:
        raise ValueError("give --weights CHECKPOINT or --model NAME")
    notes: list[str] = []
    table = evaluate(model, open_test_sets(args.sets, scale, notes), scale, device=device)
    if args.out is not None:
        table.save(args.out, "benchmark")
    print("\n".join([*notes, table.to_markdown(per_image=args.per_image)]))


def _deploy(args: argparse.Namespace) -> None:
    model, ckpt = load_trained(args.weights, model=args.model, scale=args.scale)
    check_out_of_official_folder(ckpt, args.out)
    deploy_and_export(model, ckpt, args.out)


def _export(args: argparse.Namespace) -> None:
    if not onnx_available():
        raise ImportError(onnx_missing_reason())
    model, ckpt = load_trained(args.weights, deployed=True, model=args.model, scale=args.scale)
    check_out_of_official_folder(ckpt, args.out)
    export_onnx_checked(model, args.out)


def _upscale(args: argparse.Namespace) -> int:
    names = ("weights", "onnx", "model", "scale", "device", "half", "tile", "overlap")
    engine = open_engine(**{key: getattr(args, key) for key in names})
    check_output_folder(args.out)
    jobs = plan_jobs(args.inputs, args.out, args.format, args.recursive)
    options = {"workers": args.workers, "progress": not args.quiet, "png_level": args.png_level}
    report = upscale_files(jobs, engine, overwrite=args.overwrite, **options)
    print(report.summary(), file=sys.stderr if report.failed else sys.stdout)
    return report.exit_status


def _compare(args: argparse.Namespace) -> None:
    if args.labels is not None and len(args.labels) != len(args.models):
        raise ValueError(
            f"--labels: give one per --models entry ({len(args.models)}), not {len(args.labels)}"
        )
    device = resolve_device(args.device)
    first = engine_from_spec(args.models[0], args.scale, device)
    engines = [first] + [engine_from_spec(spec, first.scale, device) for spec in args.models[1:]]
    names = [engine.name for engine in engines]
    for engine, spec in zip(engines, args.models, strict=True):
        if names.count(engine.name) > 1:  # two checkpoints of one model: tell them apart by file
            engine.name = f"{engine.name} ({Path(spec).parent.name}/{Path(spec).name})"
    for engine, label in zip(engines, args.labels or [], strict=False):
        engine.name = label
    blocks = compare_grid(args.image, engines, first.scale, args.out, args.crop, args.zoom, args.columns)
    for image, panels in zip(args.image, blocks, strict=True):
        for panel in panels[:-1]:
            print(f"{Path(image).name}: {panel.title}: PSNR {panel.psnr:.2f} dB (Y, crop {first.scale})")
    print(f"grid written to {args.out}")


def _quantize(args: argparse.Namespace) -> None:
    from sr_deploy.quant import QuantizeRequest, quantize_checkpoint  # the quant extra

    names = ("model", "scale", "data", "method", "bits", "qat_steps", "patch_size", "qat_lr", "batch_size")
    names += ("sets", "device", "qat_target", "keep_float", "max_drop", "quantize_between")
    options = {key: getattr(args, key) for key in names}
    if args.all_int8:
        options["keep_float"] = []
    quantize_checkpoint(
        QuantizeRequest(
            Path(args.weights),
            args.out,
            calibration_patches=args.calibration,
            calibration_patch_size=args.calibration_size,
            **options,
        )
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(f"zoo {args.command}", lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())
