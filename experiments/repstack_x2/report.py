"""The repstack-x2 experiment's report (table.md, table.json, psnr_vs_latency.png, weights/) and the
re-scoring of its table from the committed weights.

The verdict: for each of ECBSR-M4C16 and SESR-M5, its winner (the searched network with the best
held-out validation PSNR among those no slower than it, chosen before any test set is read) against
it on Set5, Set14 and BSD68, each as the mean of two training seeds, and their measured latencies.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sr_data import open_test_sets, write_text_atomic  # noqa: E402
from sr_deploy import load_trained  # noqa: E402
from sr_eval import evaluate  # noqa: E402
from sr_eval.report import markdown_table, save_png  # noqa: E402

SETS = ["Set5", "Set14", "BSD68"]
GOAL_DB = 0.10
TOLERANCE_DB = 0.01
MARKERS = {"baseline": "s", "searched": "o", "official": "^"}


def base_name(label: str) -> str:
    return label.split("_seed")[0]


def kind_of(name: str, searched: set[str]) -> str:
    if name == "bicubic":
        return "reference"
    if name.endswith("_official"):
        return "official"
    return "searched" if name in searched else "baseline"


def build_rows(
    publish: Path, chosen: list[dict], table: dict[str, dict], references: dict[str, dict], latency: dict
) -> list[dict[str, Any]]:
    """One row per trained run and reference, its deployed weights copied into publish/weights."""
    search = {c["name"]: c for c in chosen}
    weights = publish / "weights"
    weights.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, report in {**table, **references}.items():
        name = base_name(label)
        row: dict[str, Any] = {
            "name": label,
            "kind": kind_of(name, set(search)),
            "seed": int(label.split("_seed")[1]) if "_seed" in label else 0,
            **{k: latency.get(label, {}).get(k) for k in ("params", "macs_720p", "latency_ms")},
            "search_psnr": search.get(name, {}).get("search_psnr"),
            "val_psnr": report.get("best_val_psnr"),
            "genes": search.get(name, {}).get("genes"),
            "tests": {s: report["benchmarks"][s] for s in SETS if s in report["benchmarks"]},
        }
        if label in table:
            target = weights / f"{label}.pt"
            shutil.copyfile(report["deployed"], target)
            row["weights"] = str(target.relative_to(publish))
        rows.append(row)
    order = {"reference": 0, "baseline": 1, "searched": 2, "official": 3}
    return sorted(rows, key=lambda r: (order[r["kind"]], r["latency_ms"] or 0, r["name"]))


def two_seed_means(rows: list[dict], name: str) -> dict[str, float] | None:
    """Mean test PSNR of `name` over its seeds (None unless it was trained at two seeds)."""
    runs = [r for r in rows if base_name(r["name"]) == name and r["kind"] in ("baseline", "searched")]
    if len(runs) < 2:
        return None
    return {s: statistics.mean(r["tests"][s]["psnr"] for r in runs) for s in SETS if s in runs[0]["tests"]}


def verdict(rows: list[dict], winners: dict[str, str]) -> list[dict[str, Any]]:
    """Per hand-designed network: its winner, the two-seed deltas per set, the latencies, met or not."""
    latency = {r["name"]: r["latency_ms"] for r in rows}
    found = []
    for baseline in ("ecbsr_m4c16", "sesr_m5"):
        winner = winners.get(baseline)
        entry: dict[str, Any] = {"baseline": baseline, "winner": winner, "met": False}
        ours, theirs = (two_seed_means(rows, n) if n else None for n in (winner, baseline))
        if winner and ours and theirs:
            deltas = {s: ours[s] - theirs[s] for s in theirs}
            faster = latency[winner] <= latency[baseline]
            entry.update(
                deltas=deltas,
                winner_ms=latency[winner],
                baseline_ms=latency[baseline],
                met=faster and all(d >= GOAL_DB for d in deltas.values()),
            )
        found.append(entry)
    return found


def cell(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}f}"


def markdown(rows: list[dict], verdicts: list[dict]) -> str:
    header = [
        "network",
        "kind",
        "seed",
        "params",
        "MACs (720p)",
        "CPU ms (360x640 LR)",
        "search PSNR",
        "val PSNR",
    ]
    lines = []
    for r in rows:
        macs = f"{r['macs_720p'] / 1e9:.2f}G" if r["macs_720p"] else "-"
        tests = [
            f"{r['tests'][s]['psnr']:.2f} / {r['tests'][s]['ssim']:.4f}" if s in r["tests"] else "-"
            for s in SETS
        ]
        lines.append(
            [r["name"], r["kind"], r["seed"], cell(r["params"]), macs, cell(r["latency_ms"], 1)]
            + [cell(r["search_psnr"]), cell(r["val_psnr"]), *tests]
        )
    text = markdown_table(header + [f"{s} PSNR / SSIM" for s in SETS], lines)
    means = []
    for v in verdicts:
        for name in (v["baseline"], v["winner"]):
            m = two_seed_means(rows, name) if name else None
            if m:
                means.append(
                    [f"{name} ({'winner vs ' + v['baseline'] if name == v['winner'] else 'baseline'})"]
                    + [f"{m[s]:.2f}" for s in SETS if s in m]
                )
    text += "\n\nTwo training seeds (0 and 1), mean test PSNR:\n\n"
    sets = [s for s in SETS if all(s in r["tests"] for r in rows if r["kind"] != "reference")]
    text += markdown_table(["network", *sets], means) if means else "(not trained at two seeds)"
    text += (
        "\n\nGoal: a searched network no slower on the CPU and at least +0.10 dB on each test set "
        "(mean of two seeds):\n"
    )
    for v in verdicts:
        if "deltas" not in v:
            why = (
                f"its winner {v['winner']} has no second seed yet"
                if v["winner"]
                else "no searched network no slower than it was chosen"
            )
            text += f"- {v['baseline']}: {why}: **not met**\n"
            continue
        deltas = ", ".join(f"{s} {d:+.2f}" for s, d in v["deltas"].items())
        status = "met" if v["met"] else "not met"
        text += (
            f"- {v['baseline']} ({v['baseline_ms']:.1f} ms) vs {v['winner']} ({v['winner_ms']:.1f} ms): "
            f"{deltas} dB: **{status}**\n"
        )
    return text


def plot(rows: list[dict], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for kind, marker in MARKERS.items():
        points = [
            r
            for r in rows
            if r["kind"] == kind and r["seed"] == 0 and r["latency_ms"] and "Set5" in r["tests"]
        ]
        axis.scatter(
            [r["latency_ms"] for r in points],
            [r["tests"]["Set5"]["psnr"] for r in points],
            marker=marker,
            label=kind,
        )
        for r in points:
            axis.annotate(r["name"], (r["latency_ms"], r["tests"]["Set5"]["psnr"]), fontsize=7)
    bicubic = next((r for r in rows if r["kind"] == "reference" and "Set5" in r["tests"]), None)
    if bicubic:
        axis.axhline(bicubic["tests"]["Set5"]["psnr"], color="grey", linestyle="--", label="bicubic")
    axis.set_xlabel("CPU latency, ms (1 thread, 360x640 LR)")
    axis.set_ylabel("Set5 PSNR (dB, Y, seed 0)")
    axis.set_title("x2 networks trained with one recipe on SunHays80")
    axis.legend(fontsize=8)
    save_png(figure, path, dpi=110, bbox_inches="tight")


def write_report(
    publish: Path, chosen: list[dict], winners: dict[str, str], table: dict, references: dict, latency: dict
) -> None:
    """table.json, table.md, psnr_vs_latency.png and weights/ in `publish`."""
    rows = build_rows(publish, chosen, table, references, latency)
    verdicts = verdict(rows, winners)
    record = {"rows": rows, "winners": winners, "verdict": verdicts, "latency_setup": latency.get("_setup")}
    write_text_atomic(publish / "table.json", json.dumps(record, indent=2) + "\n")
    write_text_atomic(publish / "table.md", markdown(rows, verdicts))
    plot(rows, publish / "psnr_vs_latency.png")


def rescore(folder: Path) -> None:
    """Evaluate every network of folder/table.json from its committed weights; exit 1 on a difference
    above 0.01 dB."""
    record = json.loads((folder / "table.json").read_text("utf-8"))
    tests = dict(zip(SETS, open_test_sets(SETS, 2), strict=True))
    worst = 0.0
    for row in record["rows"]:
        if not row.get("weights"):
            continue
        model, _ = load_trained(folder / row["weights"], deployed=True)
        summary = evaluate(model, [tests[s] for s in row["tests"]], scale=2).summary
        diffs = {s: summary[s]["psnr"] - row["tests"][s]["psnr"] for s in row["tests"]}
        worst = max(worst, *(abs(d) for d in diffs.values()))
        print(
            row["name"],
            " ".join(f"{s} {summary[s]['psnr']:.2f} ({d:+.4f})" for s, d in diffs.items()),
            flush=True,
        )
    print(f"largest difference from table.json: {worst:.4f} dB")
    if worst > TOLERANCE_DB:
        sys.exit(1)
