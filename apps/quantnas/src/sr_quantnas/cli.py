"""`quantnas`: quantisation-aware architecture search for super-resolution (QuantNAS on Brevitas).

    quantnas search   -c quant_config.yaml --data samples --out runs/search
    quantnas augment  -c quant_config.yaml --genotype runs/search/best_arch.gen --out runs/train
    quantnas validate --weights runs/train/best.pt --sets Set5 Set14
    quantnas batch    -v 0 1e-4 1e-3 -d experiment -r 1 -g 0 -c quant_config.yaml -n batch_experiment

Every command resumes when re-run with the same output folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_quantnas.batch import BatchRequest, run_batch
from sr_quantnas.config import QuantNASConfig, load_config, shipped_configs
from sr_quantnas.pipeline import augment_stage, search_stage, validate_stage
from sr_search_quantnas.genotype import parse_genotype
from sr_train import ConfigError, NonFiniteLossError

DEFAULT_SETS = ["Set5", "Set14"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-c",
        "--conf",
        "--config",
        dest="config",
        default="quant_config.yaml",
        help=f"config YAML or shipped name ({', '.join(shipped_configs())})",
    )
    p.add_argument(
        "--data", help="training images: 'samples', a DIV2K root or a folder (default dataset.files_list)"
    )
    p.add_argument("--device", help="cpu, cuda, cuda:1 (default: from env.gpu)")
    p.add_argument("--no-cache", action="store_true", help="decode images per patch instead of caching them")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quantnas",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("search", help="search a genotype (writes best_arch.gen every epoch)")
    _common(p)
    p.add_argument("--out", type=Path, help="search folder (default <env.log_dir>/SEARCH_<env.run_name>)")
    p.add_argument("--penalty", type=float, help="override search.penalty")

    p = commands.add_parser("augment", help="train a genotype from scratch (train.warm_up epochs in float)")
    _common(p)
    p.add_argument("--genotype", type=Path, help="genotype file (default train.genotype_path)")
    p.add_argument("--out", type=Path, help="training folder (default <env.log_dir>/TUNE_<env.run_name>)")

    p = commands.add_parser("validate", help="PSNR/SSIM and BitOps of a trained genotype")
    p.add_argument("--weights", type=Path, required=True, help="best.pt of an augment run")
    p.add_argument(
        "--sets", nargs="+", default=DEFAULT_SETS, help="benchmark names or folders ('samples' too)"
    )
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--out", type=Path, help="folder for validation.json/.md (default: beside the weights)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--quiet", action="store_true")

    p = commands.add_parser("batch", help="search -> augment -> validate for every penalty and repeat")
    _common(p)
    p.add_argument("-v", "--values", nargs="+", required=True, help="hardware penalties, e.g. 0 1e-4 1e-3")
    p.add_argument("-d", "--dir", default="batch", help="experiment folder under env.log_dir")
    p.add_argument("-r", "--repeat", type=int, default=1, help="runs per penalty")
    p.add_argument("-g", "--gpu", help="GPU index (overrides env.gpu); 'cpu' for the CPU")
    p.add_argument("-n", "--name", default="batch_experiment", help="experiment name (run folder prefix)")
    p.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help="test sets of the validation stage")
    return parser


def _device(config: QuantNASConfig, override: str | None) -> str:
    return override or config.env.device()


def _genotype_path(args: argparse.Namespace, config: QuantNASConfig) -> Path:
    path = args.genotype or (Path(config.train.genotype_path) if config.train.genotype_path else None)
    if path is None:
        raise ValueError("give --genotype or set train.genotype_path in the config")
    return path


def _penalties(values: list[str]) -> list[float]:
    try:
        return [float(v) for v in values]
    except ValueError:
        raise ValueError(f"-v takes numbers (penalties), got {' '.join(values)}") from None


def run(args: argparse.Namespace) -> None:
    if args.command == "validate":
        out = args.out or args.weights.parent / "validation"
        validate_stage(args.weights, args.sets, args.scale, out, args.device, args.quiet)
        return
    config = load_config(args.config)
    log_dir = Path(config.env.log_dir)
    cache = None if args.no_cache else log_dir / ".cache"
    if args.command == "search":
        if args.penalty is not None:
            config = config.replace("search", penalty=args.penalty)
        out = args.out or log_dir / f"SEARCH_{config.env.run_name}"
        search_stage(config, out, args.data, _device(config, args.device), cache, args.quiet)
    elif args.command == "augment":
        path = _genotype_path(args, config)
        genotype = parse_genotype(path.read_text(encoding="utf-8"))
        out = args.out or log_dir / f"TUNE_{config.env.run_name}"
        augment_stage(config, genotype, out, args.data, _device(config, args.device), cache, args.quiet)
    else:
        if args.gpu is not None:
            config = config.replace("env", gpu=args.gpu if args.gpu == "cpu" else int(args.gpu))
        if args.repeat < 1:
            raise ValueError(f"-r must be >= 1, got {args.repeat}")
        request = BatchRequest(
            config=config,
            penalties=_penalties(args.values),
            directory=args.dir,
            repeat=args.repeat,
            name=args.name,
            data=args.data,
            sets=args.sets,
            device=_device(config, args.device),
            cache=not args.no_cache,
            quiet=args.quiet,
        )
        rows = run_batch(request)
        root = log_dir / args.dir
        print(
            f"{len(rows)} runs; table {root / 'batch_results.md'}, plot {root / 'batch_psnr_vs_bitops.png'}"
        )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (ConfigError, ValueError, FileNotFoundError, KeyError, ImportError) as err:
        print(f"quantnas {args.command}: error: {err}", file=sys.stderr)
        return 2
    except NonFiniteLossError as err:
        print(f"quantnas {args.command}: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
