"""The two figures draw the data they are given: each alpha's softmax per epoch, each run's PSNR per
test set at its BitOps."""

from __future__ import annotations

import numpy as np

from sr_search_quantnas.plots import plot_alpha_history, plot_psnr_vs_bitops


def test_alpha_history_draws_each_candidate_per_epoch_dashing_the_lowest_bits(tmp_path, drawn):
    candidates = [["conv@8", "conv@4", "skip@4"], ["conv@8", "conv@2"]]
    history = [
        {
            "epoch": epoch,
            "layers": ["head", "body"],
            "candidates": candidates,
            "alpha_probs": [[0.5 - 0.1 * epoch, 0.3, 0.2 + 0.1 * epoch], [0.6, 0.4]],
        }  # fmt: skip
        for epoch in range(3)
    ]
    assert plot_alpha_history(history, tmp_path / "alphas.png").is_file()
    head, body, *rest = drawn[0]
    assert [ax.get_title() for ax in (head, body)] == ["head", "body"]
    assert all(not ax.axison for ax in rest)  # unused panels of the grid are blank
    lines = {line.get_label(): line for line in head.get_lines()}
    assert np.allclose(lines["conv@8"].get_xydata(), [(0, 0.5), (1, 0.4), (2, 0.3)])
    assert np.allclose(lines["skip@4"].get_ydata(), [0.2, 0.3, 0.4])
    assert [lines[name].get_linestyle() for name in candidates[0]] == ["-", "--", "--"]
    assert [line.get_linestyle() for line in body.get_lines()] == ["-", "--"]  # 2 bits is the lowest there


def test_psnr_vs_bitops_puts_each_run_at_its_bitops_for_every_test_set(tmp_path, drawn):
    rows = [
        {"penalty": 0.0, "bitops_256x256": 4e9, "psnr": {"Set5": 33.0, "Set14": 30.0}},
        {"penalty": 1e-3, "bitops_256x256": 1e9, "psnr": {"Set5": 32.5, "Set14": 29.6}},
    ]
    plot_psnr_vs_bitops(rows, tmp_path / "plot.png", "bitops_256x256")
    (ax,) = drawn[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "BitOps (256x256 LR input)"
    sets = [c.get_label() for c in ax.collections]
    assert sets == ["Set5", "Set14"]
    for collection, name in zip(ax.collections, sets, strict=True):
        assert np.allclose(collection.get_offsets(), [(r["bitops_256x256"], r["psnr"][name]) for r in rows])
    assert [t.get_text() for t in ax.texts] == ["0", "0.001"] * 2
