"""Batch experiments (the reference's `batch_exp.py`): for every repeat and penalty, search -> augment
-> validate, then one table and one PSNR-vs-BitOps plot over all runs.

Layout under `<env.log_dir>/<dir>`: `trail_<r>/<name>_penalty_<v>/{search,train,validation}` (the
reference's names, without its date stamps so that a rerun resumes every stage where it stopped),
and `batch_results.{md,csv,json}` + `batch_psnr_vs_bitops.png` for the whole batch. Repeat r uses
seed `env.seed + r - 1`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sr_data import open_test_sets, write_text_atomic
from sr_eval.report import write_rows
from sr_quantnas.config import QuantNASConfig, with_changes
from sr_quantnas.pipeline import Runtime, augment_stage, search_stage, validate_stage
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.plots import plot_psnr_vs_bitops

PLOT_BITOPS = "bitops_256x256"
COLUMNS = ("trial", "penalty", "params", "bitops_32x32", PLOT_BITOPS)
FORMATS = {"psnr_": "{:.2f}", "bitops_": "{:.3e}", "penalty": "{:g}"}


def run_batch(
    config: QuantNASConfig,
    penalties: list[float],
    root: Path,
    name: str,
    repeat: int,
    sets: list[str],
    runtime: Runtime,
) -> list[dict[str, Any]]:
    """Search, augment and validate every (repeat, penalty) under `root` (finished stages are skipped),
    then the table and the plot; returns the table's rows. A named test set that is not found is an
    error before any work."""
    open_test_sets(sets, config.dataset.scale, [])
    rows = []
    for trial, penalty in ((t, v) for t in range(1, repeat + 1) for v in penalties):
        if not runtime.quiet:
            print(f"== trial {trial}, penalty {penalty:g}", flush=True)
        folder = root / f"trail_{trial}" / f"{name}_penalty_{penalty:g}"
        changes = {"search": {"penalty": penalty}, "env": {"seed": config.env.seed + trial - 1}}
        run = with_changes(config, changes, "-v/-r")
        found = search_stage(run, folder / "search", runtime)
        augment_stage(run, parse_genotype(found["best_genotype"]), folder / "train", runtime)
        result = validate_stage(folder / "train" / "best.pt", sets, None, folder / "validation", runtime)
        rows.append({"trial": trial, "penalty": penalty, "folder": str(folder), **result})
    write_tables(rows, root)
    plot_psnr_vs_bitops(rows, root / "batch_psnr_vs_bitops.png", PLOT_BITOPS)
    return rows


def write_tables(rows: list[dict[str, Any]], root: Path) -> None:
    """batch_results.json (everything), .csv and .md (one line per run)."""
    columns = [*COLUMNS, *[f"psnr_{s}" for s in rows[0]["psnr"]], "genotype"]
    flat = [{**row, **{f"psnr_{k}": v for k, v in row["psnr"].items()}} for row in rows]
    write_text_atomic(root / "batch_results.json", json.dumps(rows, indent=2) + "\n")
    write_rows(root, "batch_results", flat, columns, FORMATS)
