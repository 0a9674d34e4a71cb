"""`esr-ea`: the ESR_EA pipeline (search -> full training -> benchmark -> deploy -> ONNX) in one command.

    esr-ea --config demo_samples --data samples --out runs/esr_ea          # laptop CPU, minutes
    esr-ea --config esr_ea --data /data/DIV2K --out runs/esr_ea_div2k      # the seed's full config
    esr-ea --config esr_ea --data /data/DIV2K --out runs/esr_ea_div2k      # after a kill: continues
    esr-ea --out runs/esr_ea_div2k --resume                                # the same, shorter

`--set KEY=VALUE` overrides one config key (e.g. --set nas.search_algorithm.policy.num_generation=4).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_esr_ea.config import parse_assignment, shipped_configs
from sr_esr_ea.pipeline import Request, SearchFailed, run
from sr_train import NonFiniteLossError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="esr-ea",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 1)[1],
    )
    parser.add_argument(
        "--config", help=f"config YAML or shipped config name; shipped: {', '.join(shipped_configs())}"
    )
    parser.add_argument("--data", help="'samples' (bundled photos), a DIV2K root, or a folder of HR images")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument(
        "--evaluator",
        choices=["inprocess", "pool", "ray"],
        default="inprocess",
        help="how search candidates are trained: in this process, a local process pool (one worker "
        "per GPU, or --workers CPU processes), or Ray tasks",
    )
    parser.add_argument("--workers", type=int, help="CPU worker processes of --evaluator pool")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out with its recorded config and data"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (repeatable); the value is read as YAML",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress output (esr_ea.log is still written)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        run(
            Request(
                out=args.out,
                config=args.config,
                data=args.data,
                evaluator=args.evaluator,
                workers=args.workers,
                device=args.device,
                resume=args.resume,
                overrides=[parse_assignment(text) for text in args.overrides],
                quiet=args.quiet,
            )
        )
    except (ValueError, FileNotFoundError, KeyError, ImportError) as err:
        print(f"esr-ea: error: {err}", file=sys.stderr)
        return 2
    except (NonFiniteLossError, SearchFailed) as err:
        print(f"esr-ea: {err}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
