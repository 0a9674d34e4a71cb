"""Batch experiments (the reference's `batch_exp.py`): for every repeat and penalty, search -> augment
-> validate, then one table and one PSNR-vs-BitOps plot over all runs.

Layout under `<env.log_dir>/<dir>`: `trail_<r>/<name>_penalty_<v>/{search,train,validation}` (the
reference's names, without its date stamps so that a re-run resumes every stage where it stopped),
and `batch_results.{md,csv,json}` + `batch_psnr_vs_bitops.png` for the whole batch. Repeat r uses
seed `env.seed + r - 1`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic
from sr_quantnas.config import QuantNASConfig
from sr_quantnas.pipeline import augment_stage, search_stage, validate_stage
from sr_quantnas.plots import plot_psnr_vs_bitops

PLOT_BITOPS = "bitops_256x256"


@dataclass
class BatchRequest:
    """The flags of `quantnas batch` (-v, -d, -r, -c, -n) plus data, test sets and device."""

    config: QuantNASConfig
    penalties: list[float]
    directory: str
    repeat: int
    name: str
    data: str | None
    sets: list[str]
    device: str
    cache: bool = True
    quiet: bool = False


def run_folder(root: Path, name: str, penalty: float, trial: int) -> Path:
    """`trail_<r>/<name>_penalty_<v>` (the reference's spelling)."""
    return root / f"trail_{trial}" / f"{name}_penalty_{penalty:g}"


def run_one(request: BatchRequest, root: Path, penalty: float, trial: int) -> dict[str, Any]:
    """Search, augment and validate one (penalty, repeat); every stage resumes or is skipped when done."""
    folder = run_folder(root, request.name, penalty, trial)
    config = request.config.replace("search", penalty=penalty)
    config = config.replace("env", seed=config.env.seed + trial - 1, run_name=folder.name)
    cache = root / ".cache" if request.cache else None
    validation = folder / "validation" / "validation.json"
    if not validation.exists():
        found = search_stage(config, folder / "search", request.data, request.device, cache, request.quiet)
        config = config.replace("train", genotype_path=str(folder / "search" / "best_arch.gen"))
        trained = augment_stage(
            config, found.best_genotype, folder / "train", request.data, request.device, cache, request.quiet
        )
        validate_stage(
            trained.checkpoint,
            request.sets,
            config.arch.scale,
            folder / "validation",
            request.device,
            request.quiet,
        )
    result = json.loads(validation.read_text(encoding="utf-8"))
    return {"trial": trial, "penalty": penalty, "folder": str(folder), **result}


def run_batch(request: BatchRequest) -> list[dict[str, Any]]:
    """All runs of the batch, then the table and the plot; returns the table's rows."""
    root = Path(request.config.env.log_dir) / request.directory
    rows = []
    for trial in range(1, request.repeat + 1):
        for penalty in request.penalties:
            if not request.quiet:
                print(f"== trial {trial}, penalty {penalty:g}", flush=True)
            rows.append(run_one(request, root, penalty, trial))
    write_tables(rows, root)
    sets = sorted({name for row in rows for name in row["psnr"]})
    plot_psnr_vs_bitops(rows, root / "batch_psnr_vs_bitops.png", PLOT_BITOPS, sets)
    return rows


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    sets = sorted({name for row in rows for name in row["psnr"]})
    return [
        "trial",
        "penalty",
        "params",
        "bitops_32x32",
        "bitops_256x256",
        *[f"psnr_{s}" for s in sets],
        "genotype",
    ]


def flat_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **{k: v for k, v in row.items() if k not in ("psnr", "ssim")},
        **{f"psnr_{k}": v for k, v in row["psnr"].items()},
    }


def write_tables(rows: list[dict[str, Any]], root: Path) -> None:
    """batch_results.json (everything), .csv and .md (one line per run)."""
    columns = table_columns(rows)
    flat = [flat_row(r) for r in rows]
    write_text_atomic(root / "batch_results.json", json.dumps(rows, indent=2) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(flat)
    write_text_atomic(root / "batch_results.csv", buffer.getvalue())

    def cell(key: str, value: Any) -> str:
        if key.startswith("psnr_"):
            return f"{value:.2f}"
        if key.startswith("bitops_"):
            return f"{value:.3e}"
        if key == "penalty":
            return f"{value:g}"
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c, r.get(c, "")) for c in columns) + " |" for r in flat]
    write_text_atomic(root / "batch_results.md", "\n".join(lines) + "\n")
