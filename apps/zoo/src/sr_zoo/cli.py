"""`zoo`: train, evaluate, deploy and export any model of the sr_blocks registry.

    zoo train  --model imdn --scale 2 --data samples --config imdn --out runs/imdn_x2
    zoo eval   --weights runs/imdn_x2/best.pt --sets Set5 Set14 BSD68
    zoo deploy --weights runs/imdn_x2/best.pt --out runs/imdn_x2/deploy
    zoo export --weights runs/imdn_x2/best.pt --out imdn_x2.onnx
    zoo upscale photos/ --weights runs/imdn_x2/best.pt --out photos_x2/
    zoo compare --models bicubic runs/imdn_x2/best.pt --image butterfly.png --scale 2 --out grid.png
    zoo quantize --weights runs/imdn_x2/best.pt --bits w8a8 --data samples --out runs/imdn_x2/int8

Re-running `zoo train` with the same --out resumes from last.pt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_blocks import list_models
from sr_deploy import engine_from_spec, open_engine, plan_jobs, upscale_files
from sr_train import NonFiniteLossError
from sr_zoo.compare import Crop, compare
from sr_zoo.pipeline import TrainRequest, deploy_checkpoint, evaluate_checkpoint, export_checkpoint, train
from sr_zoo.recipe import shipped_recipes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zoo", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("train", help="train a registered model, then test, deploy and export it")
    p.add_argument(
        "--model", help=f"registered model (default: the recipe's); one of {', '.join(list_models())}"
    )
    p.add_argument("--scale", type=int, default=2)
    p.add_argument("--data", default="samples", help="'samples', a DIV2K root or a folder of HR images")
    p.add_argument(
        "--config",
        default=None,
        help=f"recipe YAML or shipped recipe name (default: the model's); shipped: "
        f"{', '.join(shipped_recipes())}",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default runs/<model>_x<scale>)")
    p.add_argument("--steps", type=int, help="override the recipe's budget in steps")
    p.add_argument("--epochs", type=int, help="override the recipe's budget in epochs")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:1, ...")
    p.add_argument("--amp", choices=["none", "bf16", "fp16"])
    p.add_argument("--quiet", action="store_true", help="no progress output (logs still written)")

    p = commands.add_parser("eval", help="benchmark table of trained weights (or of a model by name)")
    p.add_argument("--weights", help="checkpoint (last.pt, best.pt or deployed.pt)")
    p.add_argument("--model", help="a registered model instead of weights (e.g. bicubic)")
    p.add_argument("--scale", type=int, default=2, help="with --model (weights carry their scale)")
    p.add_argument(
        "--sets",
        nargs="+",
        default=["Set5", "Set14", "BSD68"],
        help="benchmark names or folders; 'samples' = the bundled test photos",
    )
    p.add_argument("--per-image", action="store_true", help="also print one row per image")
    p.add_argument("--device")
    p.add_argument("--out", type=Path, help="folder for benchmark.{md,json,csv}")

    p = commands.add_parser("deploy", help="re-parameterise trained weights: deployed.pt + model.onnx")
    p.add_argument("--weights", required=True)
    p.add_argument("--out", type=Path, required=True)

    p = commands.add_parser("export", help="ONNX of the deployed form of trained weights")
    p.add_argument("--weights", required=True)
    p.add_argument("--out", type=Path, required=True, help="the .onnx file to write")

    p = commands.add_parser(
        "upscale",
        help="upscale image files and folders (exit status: number of files that failed, at most 100)",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files and folders")
    p.add_argument("--weights", help="trained checkpoint (last.pt, best.pt or deployed.pt)")
    p.add_argument("--onnx", help="an ONNX file instead (fp32, or int8 from `zoo quantize`)")
    p.add_argument("--model", help="a weight-free model (bicubic), or a check of what --weights holds")
    p.add_argument("--scale", type=int, help="needed with --model alone; otherwise checked")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--tile", type=int, help="LR tile size for large images (default: whole images)")
    p.add_argument("--overlap", type=int, default=32, help="LR pixels shared by tiles (default 32)")
    p.add_argument("--device", help="auto (default: CUDA when available), cpu, cuda, cuda:1, ...")
    p.add_argument("--half", action="store_true", help="float16 on CUDA")
    p.add_argument("--format", choices=["png", "same"], default="png", help="output format (16-bit: PNG)")
    p.add_argument("--recursive", action="store_true", help="also the images in sub-folders")
    p.add_argument("--overwrite", action="store_true", help="redo outputs that already exist")
    p.add_argument("--workers", type=int, default=2, help="threads decoding and encoding files")
    p.add_argument(
        "--png-level",
        type=int,
        choices=range(10),
        default=1,
        metavar="0-9",
        help="PNG zlib level (default 1: fast)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = commands.add_parser("compare", help="PNG grid of crops: bicubic, each model, HR, with PSNR")
    p.add_argument(
        "--models", nargs="+", required=True, help="checkpoints, .onnx files or weight-free model names"
    )
    p.add_argument("--image", required=True, help="the HR image (downscaled with bicubic for the input)")
    p.add_argument("--scale", type=int, help="default: the first model's")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument("--crop", type=Crop.parse, help="x,y,w,h in HR pixels (default: a centred square)")
    p.add_argument("--zoom", type=int, default=2, help="enlargement of the crops (nearest neighbour)")
    p.add_argument("--columns", type=int, help="panels per row (default: all in one row)")
    p.add_argument("--device")

    p = commands.add_parser("quantize", help="int8 (or w4) PTQ/QAT of trained weights: tables + QCDQ ONNX")
    p.add_argument("--weights", required=True, help="trained checkpoint of any registered model")
    p.add_argument("--method", choices=["percentile", "mse", "minmax"], default="percentile")
    p.add_argument("--bits", default="w8a8", help="weight and activation bits: w8a8, w4a8, w4a4, ...")
    p.add_argument("--qat-steps", type=int, default=0, help="quantisation-aware fine-tuning steps (0: PTQ)")
    p.add_argument("--qat-lr", type=float, default=2e-5)
    p.add_argument("--batch-size", type=int, default=16, help="QAT batch size")
    p.add_argument("--calibration", type=int, default=256, help="training patches for calibration")
    p.add_argument("--patch-size", type=int, default=64, help="HR side of the training patches")
    p.add_argument("--data", default="samples", help="'samples', a DIV2K root or a folder of HR images")
    p.add_argument("--sets", nargs="+", default=["Set5", "Set14", "BSD68"], help="test sets (or 'samples')")
    p.add_argument("--out", type=Path, required=True, help="results folder")
    p.add_argument("--device")
    return parser


def _upscale(args: argparse.Namespace) -> int:
    engine = open_engine(
        weights=args.weights,
        onnx=args.onnx,
        model=args.model,
        scale=args.scale,
        device=args.device,
        half=args.half,
        tile=args.tile,
        overlap=args.overlap,
    )
    jobs = plan_jobs(args.inputs, args.out, args.format, args.recursive)
    report = upscale_files(
        jobs,
        engine,
        overwrite=args.overwrite,
        workers=args.workers,
        progress=not args.quiet,
        png_level=args.png_level,
    )
    print(report.summary(), file=sys.stderr if report.failed else sys.stdout)
    return report.exit_status


def _compare(args: argparse.Namespace) -> None:
    first = engine_from_spec(args.models[0], args.scale, args.device)
    engines = [first] + [engine_from_spec(spec, first.scale, args.device) for spec in args.models[1:]]
    names = [engine.name for engine in engines]
    for engine, spec in zip(engines, args.models, strict=True):
        if names.count(engine.name) > 1:  # two checkpoints of one model: tell them apart by file
            engine.name = f"{engine.name} ({Path(spec).parent.name}/{Path(spec).name})"
    panels = compare(args.image, engines, first.scale, args.out, args.crop, args.zoom, args.columns)
    for panel in panels[:-1]:
        print(f"{panel.title}: PSNR {panel.psnr:.2f} dB (Y, crop {first.scale})")
    print(f"grid written to {args.out}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            name = args.model
            config = args.config or name
            if config is None:
                raise ValueError("give --model or --config")
            out = args.out or Path("runs") / f"{name or Path(config).stem}_x{args.scale}"
            train(
                TrainRequest(
                    model=name,
                    scale=args.scale,
                    data=args.data,
                    config=config,
                    out=out,
                    steps=args.steps,
                    epochs=args.epochs,
                    batch_size=args.batch_size,
                    lr=args.lr,
                    device=args.device,
                    amp=args.amp,
                    quiet=args.quiet,
                )
            )
        elif args.command == "eval":
            evaluate_checkpoint(
                args.weights, args.model, args.scale, args.sets, args.out, args.device, args.per_image
            )
        elif args.command == "deploy":
            deploy_checkpoint(args.weights, args.out)
        elif args.command == "export":
            if export_checkpoint(args.weights, args.out) is None:
                return 1
        elif args.command == "upscale":
            return _upscale(args)
        elif args.command == "compare":
            _compare(args)
        elif args.command == "quantize":
            from sr_deploy.quant import QuantizeRequest, quantize_checkpoint  # the quant extra

            quantize_checkpoint(
                QuantizeRequest(
                    weights=Path(args.weights),
                    out=args.out,
                    data=args.data,
                    method=args.method,
                    bits=args.bits,
                    qat_steps=args.qat_steps,
                    calibration_patches=args.calibration,
                    patch_size=args.patch_size,
                    qat_lr=args.qat_lr,
                    batch_size=args.batch_size,
                    sets=args.sets,
                    device=args.device,
                )
            )
    except (ValueError, FileNotFoundError, KeyError, ImportError) as err:
        print(f"zoo {args.command}: error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"zoo {args.command}: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
