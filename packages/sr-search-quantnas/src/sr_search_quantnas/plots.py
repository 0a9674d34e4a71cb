"""QuantNAS's two figures: the alphas of a search over its epochs (its alpha_history.jsonl, as
`sr_search_quantnas.search.run_search` returns it), and PSNR against BitOps over several runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first: no display needed)

from sr_eval.report import save_png  # noqa: E402

SAVE = {"dpi": 120, "bbox_inches": "tight"}


def plot_alpha_history(history: list[dict[str, Any]], path: Path) -> Path:
    """One panel per alpha vector (each layer's (op, bits) and, when searched, its activation bits
    "act@b"): softmax of each alpha against the epoch (dashed: the lowest bit width)."""
    layers = history[-1]["layers"]
    cols = min(4, len(layers))
    rows = -(-len(layers) // cols)
    figure, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    epochs = [row["epoch"] for row in history]
    for index, (ax, labels) in enumerate(zip(axes.flat, history[-1]["candidates"], strict=False)):
        lowest = min(int(label.rsplit("@", 1)[-1]) for label in labels)
        series = zip(*[row["alpha_probs"][index] for row in history], strict=True)
        for values, label in zip(series, labels, strict=True):
            style = "--" if label.endswith(f"@{lowest}") else "-"
            ax.plot(epochs, values, marker="o", markersize=2, linewidth=1, label=label, linestyle=style)
        ax.set_title(layers[index], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=5, ncol=2)
    for ax in axes.flat[len(layers) :]:
        ax.axis("off")
    figure.suptitle("softmax(alpha) per (op, bits) over search epochs (dashed: lowest bit width)", fontsize=9)
    return save_png(figure, path, **SAVE)


def plot_psnr_vs_bitops(rows: list[dict[str, Any]], path: Path, bitops_key: str) -> Path:
    """PSNR of every run on each test set against its BitOps (log x), points labelled by penalty."""
    figure, ax = plt.subplots(figsize=(6.4, 4.4))
    for name in rows[0]["psnr"]:
        ax.scatter([r[bitops_key] for r in rows], [r["psnr"][name] for r in rows], label=name)
        for r in rows:
            xy = (r[bitops_key], r["psnr"][name])
            ax.annotate(f"{r['penalty']:g}", xy, textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set(
        xscale="log", xlabel=f"BitOps ({bitops_key.removeprefix('bitops_')} LR input)", ylabel="PSNR (dB, Y)"
    )
    ax.set_title("QuantNAS runs: PSNR vs BitOps (labels: penalty)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_png(figure, path, **SAVE)
