"""Every GPU figure of the toolkit from one command: a table on stdout and gpu_suite.json.

    python benchmarks/gpu_suite.py --out results/gpu_suite   # on a CUDA machine: <= 8 minutes
    python benchmarks/gpu_suite.py --smoke --out /tmp/gs     # every item, tiny sizes, CPU (CI)
    python benchmarks/gpu_suite.py --only 2a 2b              # some items
    python benchmarks/gpu_suite.py --prepare-carry           # build the offline bundle .device/gpu_suite
    python benchmarks/gpu_suite.py --carry-list              # what to copy to an offline GPU machine

Items (ids for --only; each runs in a time box of at most 60 s: a slow item is cut, marked
"timed out" with what it measured so far, and the rest go on):
  1   deployed ECBSR-M16C64 and SESR-M5 vs plain conv stacks (<= 1.05x) and training forms (>= 5x)
  2a  SESR-M5 x2 1080p -> 4K: fp32 vs fp16 channels-last, deployed vs plain stack
  2b  the same compiled (torch.compile): frames/s (target >= 800)
  3   SESR-M5 collapsed vs expanded training step (>= 5x)
  4a  ESRN x2 (ESR_EA's 17-gene example) training steps/s, fp32 / bf16 / channels-last (>= 1.5x vega's)
  4b  ESR_EA mini search, sequential: candidates of 1000 steps per hour (target >= 200)
  4c  the same with worker processes sharing the GPU, and the ratio to 4b
  5   QuantNAS search steps/s on the reference's supernet, QN and shared modes, GPU vs CPU
  6   zoo upscale --half of 1080p frames to 4K, images/s vs the bare forward (>= 80%)
  7   IMDN x2 (official weights) at 720p output, fp32 vs fp16 ms and Set5 PSNR fp16 - fp32

Every item reports ratios measured in the same run, and absolutes (which mean something on a GPU;
in the smoke run they are CPU times of tiny inputs, and no target is judged). The JSON, the table
(gpu_suite.md) and a log of failed items' tracebacks (gpu_suite.log) go to --out, rewritten after
every item. On a machine where the toolkit is not installed (an offline GPU machine), the repository's
packages/*/src are put on the path, and .device/gpu_suite's datasets and weights are used.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import gpu_suite_carry
import torch
from gpu_suite_items import ITEMS, Item, ItemRecord, SuiteEnv

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
TOTAL_SECONDS = 480  # the whole suite, on a GPU
ITEM_SECONDS_MAX = 60


def use_repository_sources() -> None:
    """Import the toolkit from this checkout when it is not installed (an offline GPU machine): its
    packages/*/src go on sys.path and on PYTHONPATH (for the processes the suite starts)."""
    try:
        import sr_blocks  # noqa: F401
    except ImportError:
        sources = [str(path) for path in sorted(REPO.glob("packages/*/src"))]
        sys.path[:0] = sources
        os.environ["PYTHONPATH"] = os.pathsep.join(sources + [os.environ.get("PYTHONPATH", "")]).strip(
            os.pathsep
        )


def use_carried_files(carry_dir: Path) -> None:
    """Point $SR_DATASETS / $SR_WEIGHTS at the carry folder's copies when they are not set."""
    for variable, sub in (("SR_DATASETS", "datasets"), ("SR_WEIGHTS", "weights")):
        if not os.environ.get(variable) and (carry_dir / sub).is_dir():
            os.environ[variable] = str(carry_dir / sub)


class ItemTimeout(BaseException):
    """Raised in the main thread when an item's time box ends (a BaseException, so that code
    which catches Exception to report and go on does not swallow it)."""


def _on_alarm(signum: int, frame: object) -> None:
    raise ItemTimeout


def _release(device: torch.device) -> None:
    """Free what a finished (or cut) item left: compiled graphs, cached device memory."""
    try:
        torch._dynamo.reset()
        gc.collect()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            torch.cuda.empty_cache()
    except Exception as err:  # noqa: BLE001 - cleanup must not end the suite
        print(f"  (cleanup after the item failed: {err})", file=sys.stderr)


def run_item(item: Item, env: SuiteEnv, limit: float, log: list[str]) -> ItemRecord:
    """Run one item in a time box of ``limit`` seconds; its record says how it ended (a failure's
    traceback goes to ``log``)."""
    record = ItemRecord(item.id, item.title)
    env.records[item.id] = record
    start = time.perf_counter()
    env.deadline = start + limit
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            item.run(record, env)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        skipped = "; ".join(record.skipped_parts)
        record.status = f"partial: {skipped}" if skipped else "ok"
    except ItemTimeout:
        record.status = f"timed out after {limit:g} s"
    except Exception as err:  # noqa: BLE001 - one broken item must not stop the others
        first_line = (str(err).strip().splitlines() or [""])[0]
        record.status = f"failed: {type(err).__name__}: {first_line}"[:300]
        log.append(f"item {item.id} ({item.title}):\n{traceback.format_exc()}")
    finally:
        signal.signal(signal.SIGALRM, previous)
        record.seconds = time.perf_counter() - start
        _release(env.device)
    if not env.smoke:
        record.judge()
    return record


def _number(value: float) -> str:
    if value == 0 or 0.01 <= abs(value) < 1e5:
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value:.3e}"


def item_rows(record: ItemRecord) -> list[str]:
    """Markdown table rows of one item: a status row, then its figures, ratios and notes."""
    rows = [f"| **{record.id}** {record.title} | {record.status} ({record.seconds:.1f} s) | | |"]
    for figure in record.figures + record.ratios:
        target = ""
        if figure.target:
            judged = {True: "met", False: "NOT met", None: "not judged"}[figure.met]
            target = f"{figure.target}{figure.unit if figure.unit == 'x' else ''}: {judged}"
        rows.append(f"| | {figure.name} | {_number(figure.value)} {figure.unit} | {target} |")
    rows += [f"| | _{note}_ | | |" for note in record.notes]
    return rows


def device_info(device: torch.device) -> dict:
    """The machine the figures come from: device name, torch/CUDA/cuDNN versions, CPU threads."""
    info = {
        "type": device.type,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info |= {
            "name": torch.cuda.get_device_name(device),
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
        }
    else:
        info["name"] = platform.processor() or platform.machine()
    return info


def header(info: dict, smoke: bool) -> list[str]:
    """The table's title lines and column header."""
    what = f"{info['name']} ({info['type']}), torch {info['torch']}"
    lines = [f"GPU suite on {what}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"]
    if smoke:
        lines.append("SMOKE RUN: tiny sizes; absolute times mean nothing and no target is judged")
    return lines + ["", "| item | status, figure | value | target |", "|---|---|---|---|"]


def write_results(out: Path, document: dict, table: list[str], log: list[str]) -> None:
    """gpu_suite.json, gpu_suite.md and gpu_suite.log in ``out``, each replaced atomically."""
    from sr_data import write_text_atomic

    write_text_atomic(out / "gpu_suite.json", json.dumps(document, indent=2) + "\n")
    write_text_atomic(out / "gpu_suite.md", "\n".join(table) + "\n")
    write_text_atomic(out / "gpu_suite.log", "\n".join(log) + "\n" if log else "no item failed\n")


def resolve_device(name: str, smoke: bool) -> torch.device:
    """``auto``: the CPU for the smoke run, else CUDA (the full suite on a CPU only when asked for)."""
    if name == "auto":
        if smoke:
            return torch.device("cpu")
        if not torch.cuda.is_available():
            raise SystemExit(
                "no CUDA device here: the full suite is for a GPU; --smoke runs every item at tiny sizes "
                "on the CPU (--device cpu runs the full sizes on the CPU)"
            )
        return torch.device("cuda", torch.cuda.current_device())
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SystemExit(f"--device {name!r}: not a device (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: no CUDA device here")
    if device.type == "cuda" and device.index is None:  # an index, as the search's workers need one
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def run_suite(args: argparse.Namespace) -> int:
    if not hasattr(signal, "setitimer"):
        raise SystemExit("the suite's time boxes need signal.setitimer (Linux or macOS)")
    known = [item.id for item in ITEMS]
    unknown = sorted(set(args.only or []) - set(known))
    if unknown:
        raise SystemExit(f"--only: unknown item(s) {', '.join(unknown)}; items: {', '.join(known)}")
    device = resolve_device(args.device, args.smoke)
    threads = args.threads or (1 if args.smoke else None)
    if threads:  # also for the processes the suite starts (the mini searches and their workers)
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SystemExit(f"--out {args.out}: cannot make the results folder ({err.strerror})") from None
    info = device_info(device)
    table, log = header(info, args.smoke), []
    print("\n".join(table), flush=True)
    document = {
        "suite": "benchmarks/gpu_suite.py",
        "command": sys.argv,
        "smoke": args.smoke,
        "device": info,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": 0.0,
        "items": [],
    }
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gpu_suite_") as scratch:
        env = SuiteEnv(device, args.smoke, Path(scratch))
        for item in ITEMS:
            if args.only and item.id not in args.only:
                continue
            left = args.total_seconds - (time.perf_counter() - start)
            limit = min(item.limit_s, args.item_seconds, left)
            print(f"[{item.id}] {item.title} (time box {limit:.0f} s)", file=sys.stderr, flush=True)
            if limit < 5:
                record = ItemRecord(item.id, item.title, status="skipped: the suite's time budget is spent")
            else:
                record = run_item(item, env, limit, log)
            rows = item_rows(record)
            print("\n".join(rows), flush=True)
            table += rows
            document["items"].append(asdict(record))
            document["seconds"] = round(time.perf_counter() - start, 1)
            write_results(args.out, document, table, log)
    failed = [r["id"] for r in document["items"] if r["status"].startswith("failed")]
    print(
        f"\n{len(document['items'])} items in {document['seconds']:.0f} s"
        + (f"; failed: {', '.join(failed)} (tracebacks in {args.out / 'gpu_suite.log'})" if failed else "")
        + f"; results in {args.out / 'gpu_suite.json'}"
    )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "results" / "gpu_suite", help="results folder")
    parser.add_argument("--smoke", action="store_true", help="every item at tiny sizes, on the CPU")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these items (1, 2a, ... 7)")
    parser.add_argument("--item-seconds", type=float, default=ITEM_SECONDS_MAX, help="cap on any item's box")
    parser.add_argument("--total-seconds", type=float, default=TOTAL_SECONDS, help="the whole suite's budget")
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads (default: 1 with --smoke, else torch's default)"
    )
    parser.add_argument(
        "--carry-list", action="store_true", help="print what an offline GPU machine needs, and exit"
    )
    parser.add_argument("--prepare-carry", action="store_true", help="build .device/gpu_suite, then list it")
    parser.add_argument(
        "--device-python", default="3.12", help="the GPU machine's Python, for --prepare-carry"
    )
    args = parser.parse_args()
    if args.prepare_carry or args.carry_list:
        if args.prepare_carry:
            use_repository_sources()
            from sr_data import find_datasets_root

            weights = Path(os.environ.get("SR_WEIGHTS") or REPO.parent / "shared" / "weights")
            gpu_suite_carry.prepare(
                find_datasets_root(), weights if weights.is_dir() else None, args.device_python
            )
        return gpu_suite_carry.describe()
    if args.item_seconds <= 0 or args.total_seconds <= 0:
        raise SystemExit("--item-seconds and --total-seconds must be > 0")
    use_repository_sources()
    use_carried_files(gpu_suite_carry.CARRY_DIR)
    return run_suite(args)


if __name__ == "__main__":
    sys.exit(main())
