"""The tiny-x2 experiment's report: table.md / table.json and psnr_vs_params.png.

Rank correlation: does the search's fast-training PSNR order the fully trained candidates as full
training does? Spearman's rho and Kendall's tau (ties averaged / tau-b) over the chosen candidates.
The verdict: the best searched network (by held-out validation PSNR, never by a test set) against
every baseline with as many parameters or fewer, on each test set.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sr_data import write_text_atomic  # noqa: E402
from sr_eval.report import markdown_table, save_png  # noqa: E402
from sr_search_evo.history import History  # noqa: E402
from sr_search_evo.rank_correlation import kendall, spearman  # noqa: E402
from sr_search_evo.result import pareto  # noqa: E402

MARKERS = {"baseline": "s", "searched": "o", "official": "^"}


def build_rows(chosen: list[dict], trained: dict[str, dict], latency: dict[str, dict]) -> list[dict]:
    """One row per network: kind, costs, search and validation PSNR, test PSNR/SSIM."""
    search = {c["name"]: c for c in chosen}
    rows = []
    for name, row in trained.items():
        costs = latency.get(name, {})
        rows.append(
            {
                "name": name,
                "kind": row["kind"],
                "params": costs.get("params"),
                "macs_720p": costs.get("macs_720p"),
                "latency_ms": costs.get("latency_ms"),
                "search_psnr": search.get(name, {}).get("search_psnr"),
                "val_psnr": row.get("best_val_psnr"),
                "train_seconds": row.get("train_seconds"),
                "genes": search.get(name, {}).get("genes"),
                "benchmarks": row["benchmarks"],
            }
        )
    order = {"reference": 0, "baseline": 1, "searched": 2, "official": 3}
    return sorted(rows, key=lambda r: (order[r["kind"]], r["params"] or 0, r["name"]))


def correlations(rows: list[dict], sets: list[str]) -> dict[str, dict[str, float]]:
    """Search PSNR against each fully trained score, over the chosen candidates."""
    searched = [r for r in rows if r["kind"] == "searched"]
    fast = [r["search_psnr"] for r in searched]
    targets = {"held-out validation": [r["val_psnr"] for r in searched]}
    targets.update({s: [r["benchmarks"][s]["psnr"] for r in searched] for s in sets})
    return {
        k: {"spearman": spearman(fast, v), "kendall": kendall(fast, v), "n": len(v)}
        for k, v in targets.items()
    }


def verdict(rows: list[dict], sets: list[str]) -> dict[str, Any]:
    """The best searched network (by held-out validation PSNR) against the baselines no larger than it."""
    searched = [r for r in rows if r["kind"] == "searched" and r["name"].startswith("search_top")]
    best = max(searched, key=lambda r: r["val_psnr"])
    rivals = [r for r in rows if r["kind"] == "baseline" and r["params"] <= best["params"]]
    beaten = {
        s: [r["name"] for r in rivals if best["benchmarks"][s]["psnr"] > r["benchmarks"][s]["psnr"]]
        for s in sets
    }
    wins = all(len(beaten[s]) == len(rivals) for s in sets)
    return {
        "network": best["name"],
        "rivals": [r["name"] for r in rivals],
        "beaten": beaten,
        "beats_all": wins,
    }


def number(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown(rows: list[dict], sets: list[str], corr: dict, result: dict, seconds: float, setup: dict) -> str:
    head = [
        "network",
        "kind",
        "params",
        "MACs (720p)",
        f"CPU ms ({setup['lr_size'][0]}x{setup['lr_size'][1]} LR)",
    ]
    head += ["search PSNR", "val PSNR", *[f"{s} PSNR / SSIM" for s in sets]]
    cells_of_rows = []
    for r in rows:
        cells = [
            r["name"],
            r["kind"],
            number(r["params"], ","),
            number(r["macs_720p"] and r["macs_720p"] / 1e9, ".2f") + ("G" if r["macs_720p"] else ""),
        ]
        cells += [
            number(r["latency_ms"], ".1f"),
            number(r["search_psnr"], ".2f"),
            number(r["val_psnr"], ".2f"),
        ]
        cells += [f"{r['benchmarks'][s]['psnr']:.2f} / {r['benchmarks'][s]['ssim']:.4f}" for s in sets]
        cells_of_rows.append(cells)
    lines = [markdown_table(head, cells_of_rows)]
    top = sum(r["name"].startswith("search_top") for r in rows)
    n = corr["held-out validation"]["n"]
    lines += [
        "",
        "Rank correlation of the search's fast-training PSNR with the fully trained PSNR "
        f"({n} candidates: the top {top} and {n - top} drawn at random):",
        "",
    ]
    scores = [[k, f"{v['spearman']:.2f}", f"{v['kendall']:.2f}"] for k, v in corr.items()]
    lines.append(markdown_table(["fully trained score", "Spearman rho", "Kendall tau"], scores))
    rivals = ", ".join(result["rivals"]) or "none"
    lines += [
        "",
        f"Best searched network (held-out validation): **{result['network']}**; baselines with as many "
        f"parameters or fewer: {rivals}.",
    ]
    for s in sets:
        lost = [n for n in result["rivals"] if n not in result["beaten"][s]]
        lines.append(
            f"- {s}: beats {len(result['beaten'][s])} of {len(result['rivals'])}"
            + (f" (not {', '.join(lost)})" if lost else "")
        )
    goal = "met" if result["beats_all"] else "not met"
    lines += [
        "",
        f"Goal (beats every such baseline on all three sets): **{goal}**.",
        f"Wall time, search start to the last network evaluated: {seconds / 60:.1f} min. Latency: "
        f"{setup['threads']} thread, median of {setup['rounds']} interleaved rounds.",
    ]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict], sets: list[str], path: Path) -> None:
    """PSNR vs deployed parameters per test set: baselines, searched candidates (front joined), official."""
    figure, axes = plt.subplots(1, len(sets), figsize=(5.2 * len(sets), 4.4), squeeze=False)
    for axis, s in zip(axes[0], sets, strict=True):
        for r in rows:
            psnr = r["benchmarks"][s]["psnr"]
            if r["kind"] == "reference":
                axis.axhline(psnr, color="grey", linestyle=":", label="bicubic")
                continue
            top = r["name"].startswith("search_top")
            color = {"baseline": "tab:blue", "official": "tab:green"}.get(
                r["kind"], "tab:red" if top else "tab:orange"
            )
            axis.scatter(r["params"], psnr, marker=MARKERS[r["kind"]], color=color, s=46, zorder=3)
            axis.annotate(
                r["name"].replace("search_", ""),
                (r["params"], psnr),
                fontsize=7,
                xytext=(4, 3),
                textcoords="offset points",
            )
        searched = [r for r in rows if r["kind"] == "searched"]
        front = pareto(searched, ["params"], score=lambda r, s=s: r["benchmarks"][s]["psnr"])
        axis.plot(
            [r["params"] for r in front],
            [r["benchmarks"][s]["psnr"] for r in front],
            color="tab:red",
            lw=1,
            label="searched front",
        )
        axis.set_xlabel("parameters (deployed)")
        axis.set_ylabel(f"{s} PSNR (dB, Y)")
        axis.set_title(f"{s} x2")
        axis.grid(alpha=0.3)
    handles = [
        plt.Line2D([], [], marker=m, color=c, linestyle="", label=label)
        for m, c, label in (
            ("s", "tab:blue", "hand-designed (one recipe)"),
            ("o", "tab:red", "searched: top by search PSNR"),
            ("o", "tab:orange", "searched: random"),
            ("^", "tab:green", "official IMDN-RTC (DIV2K, long)"),
        )
    ]
    handles += axes[0][0].get_legend_handles_labels()[0]
    figure.legend(handles=handles, fontsize=8, loc="lower center", ncol=len(handles), frameon=False)
    figure.tight_layout(rect=(0, 0.07, 1, 1))
    save_png(figure, path, dpi=110)


def wall_seconds(out: Path) -> float:
    """From the search's first log line (the run's start) to the last network trained or evaluated,
    across every resume; the latency stage (under a minute) is left out, so re-timing it on a quiet
    machine (delete latency.json, run again) does not change the figure."""
    first = (out / "search" / "run.log").read_text("utf-8").split("\n", 1)[0]
    started = datetime.strptime(first[:19], "%Y-%m-%d %H:%M:%S").timestamp()
    finished = [*(out / "train").glob("*/results.json"), *(out / "eval").glob("*/benchmark.json")]
    return max(path.stat().st_mtime for path in finished) - started


def write_report(
    folder: Path, out: Path, chosen: list[dict], trained: dict[str, dict], latency: dict
) -> None:
    """table.md, table.json and psnr_vs_params.png of the run in `out`, into `folder`."""
    rows = build_rows(chosen, trained, latency)
    sets = list(next(iter(trained.values()))["benchmarks"])
    corr = correlations(rows, sets)
    result = verdict(rows, sets)
    history = History(out / "search", read_only=True).records
    search = {
        "candidates": len({r["key"] for r in history}),
        "trained": len({r["key"] for r in history if r.get("psnr") is not None}),
    }
    seconds = wall_seconds(out)
    text = markdown(rows, sets, corr, result, seconds, latency["_setup"])
    rejected = search["candidates"] - search["trained"]
    outside = f" ({rejected} refused by the latency window or failed)" if rejected else ""
    text += f"Search: {search['candidates']} candidates, {search['trained']} trained{outside}.\n"
    write_text_atomic(folder / "table.md", text)
    payload = {
        "rows": rows,
        "correlations": corr,
        "verdict": result,
        "search": search,
        "wall_seconds": seconds,
    }
    write_text_atomic(folder / "table.json", json.dumps(payload, indent=2) + "\n")
    plot(rows, sets, folder / "psnr_vs_params.png")
