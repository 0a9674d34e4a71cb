"""table.md / table.json: the fully trained candidates next to bicubic, per test set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic
from sr_eval.report import markdown_table


def write_table(out: Path, rows: list[dict], baseline: dict, scale: int, search: dict) -> dict[str, Any]:
    """Write table.md and table.json into `out`; returns the JSON data."""
    sets = list(baseline["benchmarks"])
    data = {
        "scale": scale,
        "protocol": "PSNR/SSIM on Y, `scale` border pixels cropped; MACs of a 1280x720 output",
        "test_sets": sets,
        "search": search,
        "baseline": baseline,
        "candidates": rows,
    }
    write_text_atomic(out / "table.json", json.dumps(data, indent=2) + "\n")
    write_text_atomic(out / "table.md", to_markdown(rows, baseline, sets, scale))
    return data


def to_markdown(rows: list[dict], baseline: dict, sets: list[str], scale: int) -> str:
    """One line per model: deployed params and MACs (what ships: a re-parameterisable candidate's
    training-time branches collapsed), fast-training PSNR of the search, then PSNR / SSIM per set."""
    header = ["model", "params (deployed)", "MACs (720p)", "search PSNR"] + [f"{s} PSNR / SSIM" for s in sets]
    cells = [_cells("bicubic", baseline, sets, "-")]
    cells += [_cells(row["name"], row, sets, f"{row['search_psnr']:.2f}") for row in rows]
    lines = [markdown_table(header, cells, "l" + "r" * (len(header) - 1)), ""]
    lines += [f"- {row['name']}: `{row['genes']}`" for row in rows]
    return f"x{scale}\n\n" + "\n".join(lines) + "\n"


def _cells(name: str, row: dict, sets: list[str], search: str) -> list[str]:
    params, macs = row.get("deployed_params", row["params"]), row.get("deployed_macs_720p", row["macs_720p"])
    cells = [name, f"{params:,}", f"{macs / 1e9:.2f} G", search]
    for name_of_set in sets:
        result = row["benchmarks"].get(name_of_set)
        cells.append("-" if result is None else f"{result['psnr']:.2f} / {result['ssim']:.4f}")
    return cells
