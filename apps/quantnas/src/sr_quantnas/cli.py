"""`quantnas`: quantisation-aware architecture search for super-resolution (QuantNAS on Brevitas).

    quantnas search   -c quant_config.yaml --data samples --out runs/search
    quantnas augment  -c quant_config.yaml --genotype runs/search/best_arch.gen --out runs/train
    quantnas validate --weights runs/train/best.pt --sets Set5 Set14
    quantnas batch    -v 0 1e-4 1e-3 -d experiment -r 1 -g 0 -c quant_config.yaml -n batch_experiment

A rerun into the same folder resumes, refuses other settings, or does nothing when the run is done.
Exit statuses: 0 done, 1 OS error, 2 bad input, 3 the run failed, 130 interrupted (rerun to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import torch

from sr_eval.runtime import DeviceError, add_version_argument, resolve_device, run_cli
from sr_quantnas.batch import run_batch
from sr_quantnas.config import CONFIG_DIRS, QuantNASConfig, load_config
from sr_quantnas.pipeline import Runtime, augment_stage, search_stage, validate_stage
from sr_quantnas.version import __version__
from sr_search_quantnas.genotype import Genotype_SR, parse_genotype
from sr_train import shipped_configs, with_assignments

# "?": optional, skipped when not in the datasets folder; when none is found, the sample photos
DEFAULT_SETS = ["Set5?", "Set14?"]
SETS = "test sets: benchmark names, folders or 'samples' ('Set5?': skipped when not found)"
DATA = "training images: 'samples', a DIV2K root or a folder (default dataset.files_list)"


def _common(p: argparse.ArgumentParser, out: str | None = None) -> None:
    configs = f"config YAML or shipped name ({', '.join(shipped_configs(CONFIG_DIRS))})"
    p.add_argument("-c", "--conf", "--config", dest="config", default="quant_config.yaml", help=configs)
    p.add_argument("--data", help=DATA)
    if out:
        p.add_argument("--out", type=Path, help=f"run folder (default <env.log_dir>/{out}_<env.run_name>)")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N (default: env.gpu)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    p.add_argument("--no-cache", action="store_true", help="decode images per patch instead of caching them")
    p.add_argument("--quiet", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantnas", description=__doc__.split("\n")[0])
    add_version_argument(parser, __version__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("search", help="search a genotype (writes best_arch.gen every epoch)")
    _common(p, "SEARCH")
    p.add_argument("--penalty", type=float, help="override search.penalty")
    p = commands.add_parser("augment", help="train a genotype from scratch (train.warm_up epochs in float)")
    _common(p, "TUNE")
    p.add_argument("--genotype", type=Path, help="genotype file (default train.genotype_path)")
    p = commands.add_parser("validate", help="PSNR/SSIM and BitOps of a trained genotype")
    p.add_argument("--weights", type=Path, required=True, help="best.pt of an augment run")
    p.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help=SETS)
    p.add_argument("--scale", type=int, help="check the network's scale (default: the checkpoint's)")
    p.add_argument("--out", type=Path, help="folder for validation.json/.md (default: beside the weights)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--quiet", action="store_true")
    p = commands.add_parser("batch", help="search -> augment -> validate for every penalty and repeat")
    _common(p)
    p.add_argument("-v", "--values", nargs="+", type=float, required=True, help="penalties, e.g. 0 1e-4")
    p.add_argument("-d", "--dir", default="batch", help="experiment folder under env.log_dir")
    p.add_argument("-r", "--repeat", type=int, default=1, help="runs per penalty")
    p.add_argument("-g", "--gpu", help="GPU index (overrides env.gpu); 'cpu' for the CPU")
    p.add_argument("-n", "--name", default="batch_experiment", help="experiment name (run folder prefix)")
    p.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help=SETS)
    return parser


def device_of(config: QuantNASConfig, override: str | None) -> torch.device:
    """`--device`, else `env.gpu`, resolved (and checked to exist) before any work."""
    try:
        return resolve_device(override or config.env.device_name())
    except DeviceError as err:
        if override:
            raise
        raise DeviceError(f"env.gpu {config.env.gpu!r}: {err}") from None


def read_genotype(path: str | Path | None) -> Genotype_SR:
    """The genotype in file `path` (--genotype, else train.genotype_path)."""
    if path is None:
        raise ValueError("give --genotype or set train.genotype_path in the config")
    try:
        return parse_genotype(Path(path).read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(f"genotype file {path}: {err}") from None


def config_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the command line sets: --data, --penalty, -g, then every --set."""
    changes: dict[str, Any] = {"dataset": {"files_list": args.data}} if args.data else {}
    if getattr(args, "penalty", None) is not None:
        changes["search"] = {"penalty": args.penalty}
    if getattr(args, "gpu", None) is not None:
        changes["env"] = {"gpu": int(args.gpu) if args.gpu.isdigit() else args.gpu}
    return with_assignments(changes, args.set)


def run(args: argparse.Namespace) -> None:
    if args.command == "validate":
        runtime = Runtime(resolve_device(args.device), quiet=args.quiet)
        validate_stage(
            args.weights, args.sets, args.scale, args.out or args.weights.parent / "validation", runtime
        )
        return
    config = load_config(args.config, config_changes(args))
    if args.command == "batch" and args.repeat < 1:
        raise ValueError(f"-r must be >= 1, got {args.repeat}")
    genotype = (
        read_genotype(args.genotype or config.train.genotype_path) if args.command == "augment" else None
    )
    log_dir, name = Path(config.env.log_dir), config.env.run_name
    runtime = Runtime(
        device_of(config, args.device), None if args.no_cache else log_dir / ".cache", args.quiet
    )
    if args.command == "search":
        search_stage(config, args.out or log_dir / f"SEARCH_{name}", runtime)
    elif args.command == "augment":
        augment_stage(config, genotype, args.out or log_dir / f"TUNE_{name}", runtime)
    else:
        rows = run_batch(config, args.values, log_dir / args.dir, args.name, args.repeat, args.sets, runtime)
        print(f"{len(rows)} runs; table and plot in {log_dir / args.dir}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli("quantnas", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
