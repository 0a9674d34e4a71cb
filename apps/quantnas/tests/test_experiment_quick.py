"""The QuantNAS-vs-uniform experiment (experiments/quantnas_x2) at a tiny budget: its config parses and
runs a few steps end to end on the bundled sample photos, the table holds every penalty and uniform
width with BitOps in the ratios the widths imply, and a rerun skips every finished piece."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).resolve().parents[3] / "experiments" / "quantnas_x2" / "run.py"
PENALTY_ROWS = ("QuantNAS penalty 0", "QuantNAS penalty 0.001", "QuantNAS penalty 0.01")
UNIFORM_ROWS = {"w8a8": 64, "w4a8": 32, "w4a4": 16}  # weight bits x activation bits


def run_quick(out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, str(DRIVER), "--quick", "--out", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def table_rows(markdown: str) -> dict[str, list[str]]:
    """{network: its cells} of the results table."""
    rows = [line.strip("|").split(" | ") for line in markdown.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells] for cells in rows[1:]}


@pytest.mark.skipif(not DRIVER.is_file(), reason="experiments/quantnas_x2 is only in a source checkout")
def test_quick_run_writes_table_and_plot_and_resumes(tmp_path: Path) -> None:
    first = run_quick(tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    results = (tmp_path / "results.md").read_text()
    plot = tmp_path / "psnr_vs_bitops.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = table_rows(results)
    assert all(name in rows for name in PENALTY_ROWS), rows.keys()
    uniform = {label: rows[f"penalty-0 genotype, uniform {label}"] for label in UNIFORM_ROWS}
    # the same operations at other widths: BitOps scale exactly with weight bits x activation bits
    bitops = {label: float(cells[3]) for label, cells in uniform.items()}
    for label, product in UNIFORM_ROWS.items():
        assert bitops[label] / bitops["w4a4"] == pytest.approx(product / 16, rel=1e-3)
    header = results.splitlines()[
        next(i for i, line in enumerate(results.splitlines()) if line.startswith("| "))
    ]
    assert "samples-test PSNR / SSIM" in header and "samples-holdout1 PSNR / SSIM" in header
    for cells in rows.values():
        assert all(re.fullmatch(r"\d+\.\d\d / 0\.\d{4}", cell) for cell in cells[4:6]), cells

    again = run_quick(tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.count("done, skipped") == 1 + len(UNIFORM_ROWS)
    assert table_rows((tmp_path / "results.md").read_text()) == rows
