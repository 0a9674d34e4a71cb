"""What a run reports besides its benchmark tables: Markdown tables, PNG figures, results.json.

- `markdown_table`: one way to lay out a Markdown table, so that every report aligns its columns alike;
  `write_rows`: rows of results as <stem>.csv (full precision) and <stem>.md (formatted).
- `save_png`: a matplotlib figure written atomically (a killed run never leaves half a PNG) and closed.
- `write_results` / `read_results`: a trained run's results.json (model, scale, params, MACs for a
  1280x720 output and PSNR/SSIM per test set), written by `zoo train` and read by whatever compares
  runs (`esr-ea --compare`, the experiments).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sr_data import atomic_write, write_text_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

RESULTS_FILE = "results.json"
RESULTS_KEYS = ("params", "macs_720p", "benchmarks")  # what a results.json must hold to be compared


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A Markdown table (no final newline): `header`, then one line per row, each cell as `str` gives it.

    `align` has one letter per column, "l" (left, Markdown's default) or "r" (right); None: all left.
    """
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align needs one of 'l' or 'r' per column ({len(header)}), got {align!r}")
    rule = "".join("---:|" if side == "r" else "---|" for side in align)
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + rule]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines)


def write_rows(
    folder: str | Path,
    stem: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    formats: dict[str, str] | None = None,
) -> list[Path]:
    """Write the `columns` of `rows` as folder/<stem>.csv (values as given) and folder/<stem>.md,
    atomically. `formats` maps a column-name prefix to the format of its Markdown cells (e.g.
    {"psnr_": "{:.2f}"}); other cells are `str` of the value."""
    folder, formats = Path(folder), formats or {}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)

    def cell(key: str, value: Any) -> str:
        return next((f.format(value) for p, f in formats.items() if key.startswith(p)), str(value))

    table = markdown_table(columns, ([cell(c, row[c]) for c in columns] for row in rows))
    written = [folder / f"{stem}.csv", folder / f"{stem}.md"]
    write_text_atomic(written[0], buffer.getvalue())
    write_text_atomic(written[1], table + "\n")
    return written


def save_png(figure: Figure, path: str | Path, **savefig: Any) -> Path:
    """Write `figure` to `path` as PNG atomically (a temporary file renamed), then close it.

    `savefig`: matplotlib's `Figure.savefig` options (dpi, bbox_inches, ...)."""
    import matplotlib.pyplot as plt  # the caller has imported it (and chosen its backend) to draw

    path = Path(path)
    with atomic_write(path) as stream:
        figure.savefig(stream, format="png", **savefig)
    plt.close(figure)
    return path


def write_results(folder: str | Path, results: dict[str, Any]) -> Path:
    """Write `results` as folder/results.json (atomically; values JSON cannot hold as their str)."""
    path = Path(folder) / RESULTS_FILE
    write_text_atomic(path, json.dumps(results, indent=2, default=str) + "\n")
    return path


def read_results(folder: str | Path) -> dict[str, Any]:
    """The results.json of a trained run in `folder`; ValueError naming the file when it is not JSON
    or lacks params, macs_720p or benchmarks (the figures a comparison needs)."""
    path = Path(folder) / RESULTS_FILE
    try:
        results = json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None
    for key in RESULTS_KEYS:
        if not isinstance(results, dict) or key not in results:
            raise ValueError(f"{path}: no {key!r}; is it a `zoo train` results file?")
    return results
