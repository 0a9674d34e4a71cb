"""The QuantNAS-vs-uniform experiment (experiments/quantnas_x2) at a tiny budget: its config parses and
runs a few steps end to end on the bundled sample photos in two worker processes, the table holds
every penalty, uniform width and the float ceiling with BitOps in the ratios the widths imply, the
8-bit-activation networks are scored in onnxruntime, the goals are judged, the plot draws the table,
and a rerun skips every finished piece."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from sr_data import decode_image_with_alpha

DRIVER = Path(__file__).resolve().parents[3] / "experiments" / "quantnas_x2" / "run.py"
PENALTY_ROWS = ("QuantNAS penalty 0", "QuantNAS penalty 0.0002", "QuantNAS penalty 0.001")
UNIFORM_ROWS = {"w8a8": 64, "w4a8": 32, "w4a4": 16}  # weight bits x activation bits


def run_quick(out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, str(DRIVER), "--quick", "--out", str(out), "--jobs", "2"]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def table_rows(markdown: str) -> dict[str, list[str]]:
    """{network: its cells} of the results table."""
    rows = [line.strip("|").split(" | ") for line in markdown.splitlines() if line.startswith("| ")]
    cells_of = {cells[0].strip(): [c.strip() for c in cells] for cells in rows[1:]}
    return {name: cells for name, cells in cells_of.items() if name != "bicubic"}


def assert_plot_draws_the_table(out: Path, rows: dict[str, list[str]], header: list[str], drawn) -> None:
    """psnr_vs_bitops.png is, pixel for pixel, the driver's plot of the run's files, and each panel
    puts one point per row of results.md at its BitOps and PSNR on the panel's test set."""
    driver = runpy.run_path(str(DRIVER), run_name="quantnas_x2_run")
    with tempfile.TemporaryDirectory() as folder:
        driver["plot"](driver["collect"](out), Path(folder) / "psnr_vs_bitops.png")
        expected = decode_image_with_alpha(Path(folder) / "psnr_vs_bitops.png").pixels
    pixels = decode_image_with_alpha(out / "psnr_vs_bitops.png").pixels
    assert pixels.shape == expected.shape and (pixels == expected).all(), "the plot draws other data"
    for ax in drawn[-1]:
        column = header.index(f"{ax.get_title()} PSNR / SSIM")
        points_of = [cells for cells in rows.values() if cells[1] != "float"]  # the ceiling is a line
        table = sorted((float(cells[3]), float(cells[column].split(" / ")[0])) for cells in points_of)
        points = sorted(tuple(point) for c in ax.collections for point in c.get_offsets().tolist())
        assert len(points) == len(table), ax.get_title()
        for (x, y), (bitops, psnr) in zip(points, table, strict=True):
            assert x == pytest.approx(bitops, rel=1e-3) and y == pytest.approx(psnr, abs=0.006)


def first_table(markdown: str) -> str:
    """The results table (the first markdown table of results.md)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    return "\n".join(lines[start:end])


def header_cells(markdown: str) -> list[str]:
    """The cells of the results table's header."""
    line = next(line for line in markdown.splitlines() if line.startswith("| "))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


@pytest.mark.skipif(not DRIVER.is_file(), reason="experiments/quantnas_x2 is only in a source checkout")
def test_quick_run_writes_table_and_plot_and_resumes(tmp_path: Path, drawn: list[list[Any]]) -> None:
    first = run_quick(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    results = (tmp_path / "results.md").read_text()
    rows = table_rows(first_table(results))
    assert all(name in rows for name in PENALTY_ROWS), rows.keys()
    assert rows["penalty-0 genotype, float"][1] == "float"
    assert "bicubic" in first_table(results)
    assert results.count("- Dominates uniform") == len(UNIFORM_ROWS) and "float ceiling:" in results
    onnx = table_rows(results.split("QCDQ ONNX in onnxruntime")[1])
    assert {"penalty-0 genotype, uniform w8a8", "penalty-0 genotype, uniform w4a8"} <= onnx.keys()
    assert "penalty-0 genotype, uniform w4a4" not in onnx  # 4-bit activations: no integer kernels
    for cells in onnx.values():  # onnxruntime within 0.05 dB of the Brevitas model
        for cell in cells[1:]:
            ours, brevitas = (float(x) for x in re.fullmatch(r"(\d+\.\d\d) \((\d+\.\d\d)\)", cell).groups())
            assert abs(ours - brevitas) <= 0.05, cells
    uniform = {label: rows[f"penalty-0 genotype, uniform {label}"] for label in UNIFORM_ROWS}
    # the same operations at other widths: BitOps scale exactly with weight bits x activation bits
    bitops = {label: float(cells[3]) for label, cells in uniform.items()}
    for label, product in UNIFORM_ROWS.items():
        assert bitops[label] / bitops["w4a4"] == pytest.approx(product / 16, rel=1e-3)
    header = header_cells(results)
    assert "samples-test PSNR / SSIM" in header and "samples-holdout1 PSNR / SSIM" in header
    for cells in rows.values():
        assert all(re.fullmatch(r"\d+\.\d\d / 0\.\d{4}", cell) for cell in cells[4:6]), cells
    assert_plot_draws_the_table(tmp_path, rows, header, drawn)

    again = run_quick(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "== penalty" not in again.stdout and "== baseline" not in again.stdout
    assert table_rows(first_table((tmp_path / "results.md").read_text())) == rows
    weights = sorted(p.name for p in (tmp_path / "weights").glob("*.pt"))
    assert len(weights) == len(PENALTY_ROWS) + len(UNIFORM_ROWS) + 1
