"""`esr-ea`: the ESR_EA pipeline (search -> full training -> benchmark -> deploy -> ONNX) in one command.

    esr-ea --config demo_samples --data samples --out runs/esr_ea          # laptop CPU, minutes
    esr-ea --config esr_ea --data /data/DIV2K --out runs/esr_ea_div2k      # ESR_EA's full config
    esr-ea --config esr_ea --data /data/DIV2K --out runs/esr_ea_div2k      # after a kill: continues
    esr-ea --out runs/esr_ea_div2k --resume                                # the same, shorter
    esr-ea --out runs/esr_ea --compare runs/esr_ea_b runs/zoo_x2           # plots next to other runs

`--set KEY=VALUE` overrides one config key (e.g. --set nas.search_algorithm.policy.num_generation=4).
A rerun into the same folder continues it, does nothing when it is finished, and refuses other
settings (listing them). Exit statuses: 0 done, 1 OS error (the message names the path), 2 bad
input (config key or value, flag, device, data), 3 the run failed (every candidate failed, the
device failed or ran out of memory), 130 interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sr_esr_ea.config import CONFIG_DIRS
from sr_esr_ea.pipeline import run
from sr_esr_ea.version import __version__
from sr_eval.runtime import add_version_argument, run_cli
from sr_search_evo import EVALUATORS
from sr_train import shipped_configs


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="esr-ea",
        description=__doc__.split("\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n", 1)[1],
    )
    add_version_argument(parser, __version__)
    shipped = ", ".join(shipped_configs(CONFIG_DIRS))
    parser.add_argument("--config", help=f"config YAML or shipped config name; shipped: {shipped}")
    parser.add_argument("--data", help="'samples' (bundled photos), a DIV2K root, or a folder of HR images")
    parser.add_argument("--out", type=Path, required=True, help="results folder")
    parser.add_argument(
        "--evaluator",
        choices=EVALUATORS,
        default="inprocess",
        help="how search candidates are trained: in this process, a local process pool (one worker "
        "per GPU, or --workers CPU processes), or Ray tasks",
    )
    parser.add_argument("--workers", type=int, help="CPU worker processes of --evaluator pool")
    parser.add_argument(
        "--threads-per-worker",
        type=int,
        metavar="N",
        help="CPU threads of each pool worker (torch and OpenMP; default: the CPUs shared among the "
        "workers): small candidates train faster side by side with few threads each",
    )
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in --out with its recorded config and data"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key (repeatable)"
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="also write compare_<cost>.png: this run's fronts and fully trained networks next to other "
        "esr-ea runs and `zoo train` results (a zoo run folder, or a folder of them); with --out alone "
        "(no --config, no --resume) only the comparison of the run in --out is made",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output (run.log is still written)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli("esr-ea", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
