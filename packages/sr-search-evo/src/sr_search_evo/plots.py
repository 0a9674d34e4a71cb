"""pareto_<cost>.png: search PSNR against each cost of the run (params, MACs, measured latency).

Every evaluated candidate is a grey dot; the Pareto front of that pair (no other candidate is both
cheaper and better) is joined by a line, each point labelled with its PSNR and, when it is on the
run's own front, its id in front.json (F1, F2, ...); the fully trained top-k are red stars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from sr_eval.report import save_png  # noqa: E402
from sr_search_evo.fronts import COSTS, Cost  # noqa: E402
from sr_search_evo.latency import LatencySettings  # noqa: E402
from sr_search_evo.result import SearchResult, number  # noqa: E402

SEARCH_PSNR = "validation PSNR after fast training (dB, Y)"


def cost_points(records: Sequence[dict], cost: Cost) -> tuple[list[dict], list[dict]]:
    """(the scored records that carry `cost`, their front over PSNR and `cost`): what a plot of
    PSNR against `cost` draws as dots and as the front line."""
    result = SearchResult(list(records))
    points = [r for r in result.scored() if number(r, cost.key) is not None]
    return points, result.pareto([cost.key], skip_missing=True)


def plot_cost_front(
    records: Sequence[dict], cost: Cost, top: Sequence[dict], ids: dict[str, str], path: Path, title: str
) -> Path:
    """Write pareto_<cost>.png: `records` (history lines), their front over PSNR and `cost`, the `top`;
    `ids` maps a record's key to its front.json id."""
    points, front = cost_points(records, cost)
    x = lambda r: number(r, cost.key) / cost.divisor  # noqa: E731
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    ax.scatter([x(r) for r in points], [r["psnr"] for r in points], s=18, color="0.65", label="evaluated")
    ax.plot(
        [x(r) for r in front],
        [r["psnr"] for r in front],
        "o-",
        drawstyle="steps-post",  # what the front attains: its PSNR holds until the next, costlier point
        color="tab:blue",
        markersize=5,
        label=f"Pareto front ({len(front)})",
    )
    for index, record in enumerate(front):
        name = ids.get(record.get("key"), "")
        ax.annotate(
            f"{name} {record['psnr']:.2f} dB".strip(),
            (x(record), record["psnr"]),
            textcoords="offset points",
            xytext=(6, -12 if index % 2 else 5),
            fontsize=7,
            color="tab:blue",
        )
    for rank, record in enumerate(top, 1):
        if number(record, cost.key) is None:
            continue
        ax.scatter(
            x(record), record["psnr"], s=260, marker="*", facecolors="none", edgecolors="tab:red", zorder=3
        )
        ax.annotate(f"top{rank}", (x(record), record["psnr"]), textcoords="offset points", xytext=(-34, 6))
    if top:  # a search-only run (fully_train.top_k 0) trains none
        ax.scatter([], [], s=160, marker="*", facecolors="none", edgecolors="tab:red", label="fully trained")
    ax.set_xlabel(cost.label)
    ax.set_ylabel(SEARCH_PSNR)
    ax.set_title(f"{title}: {len(points)} candidates, PSNR vs {cost.label.split(' (')[0]}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return save_png(fig, path)


def latency_label(settings: LatencySettings) -> str:
    """The latency axis with what was timed, e.g. "latency (ms; torch, cpu, 1 thread, LR 360x640)"."""
    height, width = settings.lr_size
    threads = f", {settings.threads} thread{'s' if settings.threads > 1 else ''}"
    where = f"{settings.engine}, {settings.device}{threads if settings.device == 'cpu' else ''}"
    source = ", per-block table" if settings.use_table else ""
    return f"latency (ms; {where}, LR {height}x{width}{source})"


def plot_fronts(
    records: Sequence[dict],
    costs: Sequence[str],
    top: Sequence[dict],
    front: Sequence[dict],
    out: Path,
    title: str,
    latency: str | None = None,
) -> list[Path]:
    """pareto_<suffix>.png in `out` for every cost in `costs`; `front` is front.json's entries and
    `latency` the latency axis's label (see `latency_label`)."""
    ids = {entry["key"]: entry["id"] for entry in front}
    paths = []
    for key in costs:
        cost = COSTS[key]
        if key == "latency_ms" and latency:
            cost = replace(cost, label=latency)
        paths.append(plot_cost_front(records, cost, top, ids, out / f"pareto_{cost.suffix}.png", title))
    return paths
