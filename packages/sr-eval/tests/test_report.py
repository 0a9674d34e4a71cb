"""Markdown tables, atomic PNG figures and a trained run's results.json."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from sr_eval.report import markdown_table, read_results, save_png, write_results, write_rows  # noqa: E402


def test_markdown_table_aligns_each_column_as_asked():
    text = markdown_table(["model", "params"], [["espcn", f"{25_000:,}"], ["fsrcnn", 12]], align="lr")
    assert text.splitlines() == ["| model | params |", "|---|---:|", "| espcn | 25,000 |", "| fsrcnn | 12 |"]
    assert markdown_table(["a", "b"], []).splitlines()[1] == "|---|---|"
    with pytest.raises(ValueError, match="one of 'l' or 'r' per column"):
        markdown_table(["a", "b"], [], align="l")


def test_save_png_writes_the_figure_it_is_given_and_closes_it(tmp_path):
    figure, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.imshow(np.zeros((2, 2)), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    figure.subplots_adjust(0, 0, 1, 1)
    path = save_png(figure, tmp_path / "sub" / "black.png")
    assert not plt.fignum_exists(figure.number)
    with Image.open(path) as image:
        assert image.size == (100, 50)
        pixels = np.asarray(image.convert("L"))
    assert pixels[:, 25:75].max() == 0  # the black square drawn, centred on a white canvas
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["black.png"]  # no temporary file left


def test_results_round_trip_and_a_file_that_cannot_be_compared_is_named(tmp_path):
    results = {"model": "espcn", "scale": 2, "params": 25_000, "macs_720p": 2.3e10,
               "benchmarks": {"Set5": {"psnr": 33.1, "ssim": 0.91}}}  # fmt: skip
    path = write_results(tmp_path / "espcn", results)
    assert read_results(tmp_path / "espcn") == results == json.loads(path.read_text())
    write_results(tmp_path / "bench", {"benchmarks": {}})
    with pytest.raises(ValueError, match=r"bench/results.json: no 'params'; is it a `zoo train` results"):
        read_results(tmp_path / "bench")
    (tmp_path / "bench" / "results.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_results(tmp_path / "bench")


def test_write_rows_writes_the_columns_as_csv_and_formatted_markdown(tmp_path):
    rows = [{"trial": 1, "penalty": 0.001, "psnr_Set5": 33.456, "extra": "left out"}]
    csv_path, md_path = write_rows(tmp_path, "runs", rows, ["trial", "penalty", "psnr_Set5"],
                                   {"psnr_": "{:.2f}", "penalty": "{:g}"})  # fmt: skip
    assert csv_path.read_text().splitlines() == ["trial,penalty,psnr_Set5", "1,0.001,33.456"]
    assert md_path.read_text().splitlines()[2] == "| 1 | 0.001 | 33.46 |"
