"""`zoo`: train, evaluate, deploy and export any model of the sr_blocks registry.

    zoo train  --model imdn --scale 2 --data samples --config imdn --out runs/imdn_x2
    zoo eval   --weights runs/imdn_x2/best.pt --sets Set5 Set14 BSD68
    zoo deploy --weights runs/imdn_x2/best.pt --out runs/imdn_x2/deploy
    zoo export --weights runs/imdn_x2/best.pt --out imdn_x2.onnx

Re-running `zoo train` with the same --out resumes from last.pt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_blocks import list_models
from sr_train import NonFiniteLossError
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
    return parser


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
        else:
            if export_checkpoint(args.weights, args.out) is None:
                return 1
    except (ValueError, FileNotFoundError, KeyError, ImportError) as err:
        print(f"zoo {args.command}: error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"zoo {args.command}: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
