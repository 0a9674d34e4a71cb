"""pareto.png: search PSNR against parameters for every evaluated candidate, the Pareto front
(no other candidate is both smaller and better) joined by a line, and the fully trained top-k marked."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def plot_pareto(candidates: list[dict], front: list[dict], top: list[dict], path: Path, title: str) -> Path:
    """Write the plot to `path` (PNG). Records carry "params" (int) and "psnr" (dB)."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.scatter(
        [r["params"] / 1e3 for r in candidates],
        [r["psnr"] for r in candidates],
        s=18,
        color="0.6",
        label=f"evaluated ({len(candidates)})",
    )
    ax.plot(
        [r["params"] / 1e3 for r in front],
        [r["psnr"] for r in front],
        "o-",
        color="tab:blue",
        markersize=5,
        label="Pareto front",
    )
    for rank, record in enumerate(top, 1):
        ax.scatter(
            record["params"] / 1e3,
            record["psnr"],
            s=260,
            marker="*",
            facecolors="none",
            edgecolors="tab:red",
            linewidths=1.5,
            zorder=3,
        )
        ax.annotate(
            f"top{rank}", (record["params"] / 1e3, record["psnr"]), textcoords="offset points", xytext=(6, 4)
        )
    ax.scatter([], [], s=160, marker="*", facecolors="none", edgecolors="tab:red", label="fully trained")
    ax.set_xlabel("parameters (thousands)")
    ax.set_ylabel("validation PSNR after fast training (dB, Y)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    plt.close(fig)
    tmp.replace(path)
    return path
