"""Search fronts and fully trained networks of several ESR_EA runs and hand-designed networks, side by side.

This is `esr-ea --compare RUN_DIR...`. A folder to compare is an ESR_EA run (history.jsonl; its
table.json once fully trained), a trained run's folder (results.json, `sr_eval.report.read_results`:
model, params, MACs, PSNR per test set, as `zoo train` writes it), or a folder of such folders (e.g.
runs/sunhays80_x2/ holding espcn/, imdn/, ...). Anything else is an error naming it.

compare_<cost>.png has two panels on the same cost axis, because the two PSNRs are different
quantities: left, each run's search front (validation PSNR after its fast training, only
comparable between runs with the same fast-training budget and data: the plot says when they
differ); right, the fully trained networks -- each run's top-k and the hand-designed ones -- by their
PSNR on one test set that they share. compare.json lists every point drawn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import cycle
from pathlib import Path
from typing import Any

import yaml

from sr_data import write_text_atomic
from sr_eval.report import RESULTS_FILE, read_results, save_png
from sr_search_evo.fronts import COSTS, Cost
from sr_search_evo.history import HISTORY_NAME, History
from sr_search_evo.latency import LatencySettings
from sr_search_evo.plots import SEARCH_PSNR, cost_points, latency_label, plt  # plots chose the backend
from sr_search_evo.result import SearchResult, number

TABLE = "table.json"
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:cyan")


@dataclass
class Trained:
    """A fully trained network: name, PSNR per test set, and its costs (record keys of `COSTS`)."""

    name: str
    benchmarks: dict[str, float]
    costs: dict[str, float]
    source: str


@dataclass
class RunSource:
    """An esr_ea run: its scored search records, its fully trained top-k, what its search trained on."""

    label: str
    path: Path
    scale: int | None
    records: list[dict]
    trained: list[Trained] = field(default_factory=list)
    budget: Any = None
    latency: dict | None = None  # nas.search_algorithm.latency: how its latencies were measured


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from None


def _costs(row: dict, record: dict | None = None) -> dict[str, float]:
    values = {"params": number(row, "params"), "macs": number(row, "macs_720p")}
    if record is not None:
        values["latency_ms"] = number(record, "latency_ms")
    return {key: value for key, value in values.items() if value is not None}


def _psnrs(benchmarks: dict, where: Path) -> dict[str, float]:
    if not isinstance(benchmarks, dict):
        raise ValueError(f"{where}: 'benchmarks' is not a mapping of test set -> {{psnr, ssim}}")
    return {name: float(v["psnr"]) for name, v in benchmarks.items() if number(v, "psnr") is not None}


def load_run(path: Path) -> RunSource:
    """An ESR_EA run folder: history.jsonl (read only: a run still writing it is left alone), and
    table.json and config.yaml where they exist."""
    records = History(path, read_only=True).records
    settings_path = path / "config.yaml"
    settings = yaml.safe_load(settings_path.read_text("utf-8")) if settings_path.is_file() else None
    config = (settings or {}).get("config") or {}
    nas = config.get("nas") or {}
    budget = {
        "data": (settings or {}).get("data"),
        "dataset": nas.get("dataset"),
        "trainer": nas.get("trainer"),
    }
    scale = ((nas.get("search_space") or {}).get("esrbody") or {}).get("scale")
    latency = (nas.get("search_algorithm") or {}).get("latency")
    run = RunSource(path.name, path, scale, records, budget=budget if settings else None, latency=latency)
    if (path / TABLE).is_file():
        table = _read_json(path / TABLE)
        run.scale = table.get("scale", scale)
        by_key = {r.get("key"): r for r in records}
        for row in table.get("candidates", []):
            name = str(row.get("name"))  # top<k>; prefixed with the run's label by _label_runs
            benchmarks = _psnrs(row.get("benchmarks", {}), path / TABLE)
            run.trained.append(Trained(name, benchmarks, _costs(row, by_key.get(row.get("key"))), path.name))
    return run


def load_zoo(path: Path, scale: int | None = None) -> Trained:
    """A trained run's folder (its results.json) as a hand-designed point; a result of another scale
    than `scale` is a ValueError naming the folder."""
    results = read_results(path)
    _check_scale(path, results.get("scale"), scale)
    name = results.get("model") or path.name
    return Trained(name, _psnrs(results["benchmarks"], path / RESULTS_FILE), _costs(results), f"zoo:{name}")


def load_sources(paths: Sequence[Path], scale: int | None) -> tuple[list[RunSource], list[Trained]]:
    """Every folder to compare as ESR_EA runs and hand-designed points; a folder holding neither, or
    a result of another scale than `scale`, is a ValueError naming it."""
    runs: list[RunSource] = []
    zoo: list[Trained] = []
    for path in map(Path, paths):
        if not path.is_dir():
            raise FileNotFoundError(f"--compare {path}: no such folder")
        if (path / HISTORY_NAME).is_file():
            run = load_run(path)
            _check_scale(path, run.scale, scale)
            runs.append(run)
            continue
        single = (path / RESULTS_FILE).is_file()
        folders = [path] if single else sorted(p.parent for p in path.glob(f"*/{RESULTS_FILE}"))
        if not folders:
            hint = " (its benchmark.json has no parameter count: give the `zoo train` folder)"
            hint = hint if (path / "benchmark.json").is_file() else ""
            raise ValueError(
                f"--compare {path}: holds neither an esr_ea run ({HISTORY_NAME}) nor zoo results "
                f"({RESULTS_FILE}, or subfolders holding one){hint}"
            )
        zoo += [load_zoo(folder, scale) for folder in folders]
    return runs, zoo


def _check_scale(path: Path, found: Any, scale: int | None) -> None:
    if scale is not None and isinstance(found, int) and found != scale:
        raise ValueError(f"--compare {path}: an x{found} result, this run is x{scale}")


def _label_runs(runs: list[RunSource]) -> list[RunSource]:
    """Label each run by its folder name, or by more of its path where two names are the same, and
    name its fully trained networks <label>/top<k>."""
    paths = [run.path.resolve().parts for run in runs]
    for depth in range(1, 1 + max(map(len, paths))):
        labels = ["/".join(parts[-depth:]) for parts in paths]
        if len(set(labels)) == len(labels):
            break
    for run, label in zip(runs, labels, strict=True):
        run.label = label
        for network in run.trained:
            network.name, network.source = f"{label}/{network.name}", label
    return runs


def shared_test_set(trained: Sequence[Trained]) -> str | None:
    """The test set held by the most networks (ties: the first seen), None when none has one."""
    counts: dict[str, int] = {}
    for network in trained:
        for name in network.benchmarks:
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else None


def _search_panel(ax: Any, runs: Sequence[RunSource], cost: Cost) -> list[dict]:
    drawn = []
    for colour, run in zip(cycle(COLOURS), runs):
        points, front = cost_points(run.records, cost)
        x = [number(r, cost.key) / cost.divisor for r in points]
        ax.scatter(x, [r["psnr"] for r in points], s=10, color=colour, alpha=0.25)
        fx = [number(r, cost.key) / cost.divisor for r in front]
        ax.plot(
            fx,
            [r["psnr"] for r in front],
            "o-",
            drawstyle="steps-post",
            color=colour,
            markersize=4,
            label=f"{run.label} front",
        )
        drawn += [
            {
                "panel": "search",
                "source": run.label,
                "genes": r.get("decoded"),
                "psnr": r["psnr"],
                cost.key: number(r, cost.key),
            }
            for r in front
        ]
    budgets = {json.dumps(run.budget, sort_keys=True) for run in runs if run.budget is not None}
    notes = ["fast-training budgets or data differ: PSNRs not comparable"] if len(budgets) > 1 else []
    if cost.key == "latency_ms" and len({json.dumps(run.latency, sort_keys=True) for run in runs}) > 1:
        notes.append("latency measured under other conditions")
    ax.set_title("search fronts" + "".join(f"\n({note})" for note in notes), fontsize=9)
    ax.set_ylabel(SEARCH_PSNR)
    return drawn


def _trained_panel(
    ax: Any, runs: Sequence[RunSource], zoo: Sequence[Trained], cost: Cost, test_set: str | None
) -> list[dict]:
    drawn = []
    groups = [(run.label, run.trained, colour, "*") for colour, run in zip(cycle(COLOURS), runs)]
    groups.append(("hand-designed (zoo)", list(zoo), "black", "D"))
    for label, networks, colour, marker in groups:
        shown = [n for n in networks if test_set in n.benchmarks and cost.key in n.costs]
        if not shown:
            continue
        x = [n.costs[cost.key] / cost.divisor for n in shown]
        y = [n.benchmarks[test_set] for n in shown]
        ax.scatter(x, y, s=120 if marker == "*" else 40, marker=marker, color=colour, label=label, zorder=3)
        for network, xi, yi in zip(shown, x, y, strict=True):
            ax.annotate(
                f"{network.name} {yi:.2f}", (xi, yi), textcoords="offset points", xytext=(6, 4), fontsize=7
            )
            drawn.append(
                {
                    "panel": "trained",
                    "source": network.source,
                    "name": network.name,
                    "psnr": yi,
                    cost.key: network.costs[cost.key],
                }
            )
    left_out = [
        n.name
        for n in [*zoo, *(t for r in runs for t in r.trained)]
        if test_set not in n.benchmarks or cost.key not in n.costs
    ]
    title = f"fully trained: PSNR on {test_set} (dB, Y)" if test_set else "fully trained: none yet"
    ax.set_title(
        title + (f"\nnot shown (no {cost.key} or {test_set}): {', '.join(left_out)}" if left_out else ""),
        fontsize=9,
    )
    ax.set_ylabel(f"PSNR on {test_set} (dB, Y)" if test_set else "PSNR (dB, Y)")
    return drawn


def plot_comparison(
    runs: Sequence[RunSource], zoo: Sequence[Trained], cost: Cost, path: Path, scale: int | None
) -> list[dict]:
    """Write compare_<cost>.png (search fronts | fully trained); returns the points drawn."""
    test_set = shared_test_set([*zoo, *(t for r in runs for t in r.trained)])
    fig, (search, trained) = plt.subplots(1, 2, figsize=(13, 5), dpi=120)
    drawn = _search_panel(search, runs, cost) + _trained_panel(trained, runs, zoo, cost, test_set)
    for ax in (search, trained):
        ax.set_xlabel(cost.label)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"ESR_EA runs{f' x{scale}' if scale else ''} compared: PSNR vs {cost.label.split(' (')[0]}")
    fig.tight_layout()
    save_png(fig, path)
    return drawn


def _latency_axis(recorded: dict, default: str) -> str:
    """The latency axis label of a run's recorded latency section (`default` for one of another version)."""
    try:
        return latency_label(LatencySettings(**recorded))
    except (TypeError, ValueError):  # keys or values this version does not read
        return default


def write_comparison(out: Path, others: Sequence[Path], log: Callable[[str], Any]) -> list[Path]:
    """compare_<cost>.png for every cost this run has, and compare.json, in `out` (an ESR_EA run),
    with the runs and trained networks in the folders `others` (see `load_sources`)."""
    if not (out / HISTORY_NAME).is_file():
        raise FileNotFoundError(f"--out {out}: no esr_ea run to compare ({HISTORY_NAME} not found)")
    own = load_run(out)
    runs, zoo = load_sources(others, own.scale)
    runs = _label_runs([own, *runs])
    scored = SearchResult(own.records).scored()
    costs = [key for key in COSTS if any(number(r, key) is not None for r in scored)]
    written, points = [], {}
    for key in costs:
        cost = COSTS[key]
        if key == "latency_ms" and own.latency:  # the axis says how this run measured it
            cost = replace(cost, label=_latency_axis(own.latency, cost.label))
        path = out / f"compare_{cost.suffix}.png"
        points[key] = plot_comparison(runs, zoo, cost, path, own.scale)
        written.append(path)
    data = {
        "runs": [{"label": r.label, "path": str(r.path)} for r in runs],
        "zoo": [z.name for z in zoo],
        "points": points,
    }
    write_text_atomic(out / "compare.json", json.dumps(data, indent=2) + "\n")
    names = ", ".join(p.name for p in written)
    log(f"compare: {len(runs) - 1} other run(s), {len(zoo)} zoo model(s): {names}")
    return [*written, out / "compare.json"]
