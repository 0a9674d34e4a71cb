"""QuantNAS vs uniform quantisation on SunHays80, x2.

The claim checked: the mixed precision a QuantNAS search finds (weight and activation bits chosen
per layer) beats uniform bit widths at equal BitOps. The driver, on one config (`config.yaml`: a
small supernet, small search and training budgets), runs through the `quantnas` command line
(`sr_quantnas.cli.main`, one worker process per piece):

1. data: the photos sorted by name, the last 5 held out (symlinks in `<out>/data/train` and
   `<out>/data/SunHays80-holdout5`); the app validates its checkpoints on patches of the training
   photos, so the held-out photos are scored as one more test set, never seen in training;
2. one piece per penalty: `quantnas batch -v <penalty>` (search -> augment -> validate);
3. the baselines, once penalty 0's search is done: its genotype (the most accurate search) with
   every layer at w8a8, w4a8 and w4a4, and in float (the ceiling), each trained by `quantnas
   augment` with the same `train` recipe and seed, then `quantnas validate`;
4. `quantnas batch` over all penalties (every stage done: it writes the batch's own table);
5. scores: every network's weights copied to `<out>/weights/<label>.pt`; every network whose
   activations are all 8-bit exported as QCDQ ONNX (`<out>/onnx/`) and scored in onnxruntime;
   bicubic on every set;
6. `results.md`, `table.json` and `psnr_vs_bitops.png` in `<out>`, copied beside this file (with the
   weights) after a full run.

`<out>` is a run folder (`sr_train.RunFolder`): `config.yaml` records the photos, the hold-out and
the config overrides (a rerun with others is refused), and each piece is a stage whose
`stages/<piece>.json` holds its wall seconds. A finished piece is skipped and an unfinished one
resumes (the app's run folders), so a killed run continues where it stopped when started again.
`--quick` is a smoke run (the bundled sample photos, one held out, a few steps) into its own folder.
`--rescore` scores the committed weights again and compares with the committed table.

    OMP_NUM_THREADS=1 python experiments/quantnas_x2/run.py --jobs 2   # full run (about 50 min, 2 cores)
    OMP_NUM_THREADS=1 python experiments/quantnas_x2/run.py --quick    # smoke run (CI)
    OMP_NUM_THREADS=1 python experiments/quantnas_x2/run.py --rescore  # the table from weights/
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shlex
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first: no display needed)
import torch  # noqa: E402

from sr_data import atomic_write, find_datasets_root, open_test_sets, write_text_atomic  # noqa: E402
from sr_data.paths import list_images  # noqa: E402
from sr_data.samples import SAMPLE_SPLITS, sample_image_folder  # noqa: E402
from sr_data.upsampler import BicubicUpsampler  # noqa: E402
from sr_deploy.quant import export_onnx_int8  # noqa: E402
from sr_deploy.quant.onnx_eval import evaluate_onnx  # noqa: E402
from sr_eval import evaluate  # noqa: E402
from sr_eval.report import markdown_table, save_png  # noqa: E402
from sr_quantnas import cli  # noqa: E402
from sr_search_quantnas.genotype import FIELDS, Genotype_SR, is_nested, layer_bits, parse_genotype  # noqa: E402
from sr_search_quantnas.train_genotype import load_trained_network, validation_report  # noqa: E402
from sr_train import RunFolder, load_checkpoint, save_checkpoint  # noqa: E402

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.yaml"
PENALTIES = (0.0, 2e-4, 1e-3)
# (label, weight bits, activation bits): penalty 0's operations at one width everywhere; float last
BASELINES = (("w8a8", 8, 8), ("w4a8", 4, 8), ("w4a4", 4, 4), ("float", 32, 32))
NAME = "quantnas"  # the batch's run-folder prefix
BITOPS_KEY = "bitops_256x256"
ONNX_ACT_BITS = 8  # onnxruntime has integer kernels for 8-bit activations only
CEILING_MARGIN_DB = 0.15
# --quick: the same config with the budgets shrunk to a few steps
QUICK_SETTINGS = (
    "dataset.patches_per_epoch=16",
    "dataset.batch_size=4",
    "dataset.crop_size=12",
    "search.epochs=1",
    "train.epochs=2",
    "train.warm_up=1",
    "train.print_freq=4",
    "env.print_freq=4",
)


@dataclass(frozen=True)
class Plan:
    """What one run uses: output folder, photos, how many are held out, test sets, config overrides."""

    out: Path
    photos: list[Path]
    holdout: int
    holdout_name: str
    sets: list[str]
    settings: tuple[str, ...]
    publish: bool  # copy results.md, table.json, the plot and the weights beside this file

    def test_sets(self) -> list[str]:
        """The named test sets and the held-out photos' folder."""
        return [*self.sets, str(self.out / "data" / self.holdout_name)]

    def common(self) -> list[str]:
        """The `quantnas` options every piece shares: config, training photos, output root, overrides."""
        args = [
            "-c",
            str(CONFIG),
            "--data",
            str(self.out / "data" / "train"),
            "--set",
            f"env.log_dir={self.out}",
        ]
        return args + [arg for setting in self.settings for arg in ("--set", setting)]


def make_plan(quick: bool, out: Path | None) -> Plan:
    """The full run (SunHays80, 5 held out, Set5/Set14/BSD68) or the smoke run (sample photos)."""
    if quick:
        folder = sample_image_folder()
        photos = [folder / name for name in SAMPLE_SPLITS["train"]]
        return Plan(
            out or HERE / "results" / "quick",
            photos,
            1,
            "samples-holdout1",
            ["samples"],
            QUICK_SETTINGS,
            False,
        )
    root = find_datasets_root()
    if root is None or not (root / "SunHays80" / "HR").is_dir():
        raise FileNotFoundError("SunHays80/HR not found: set SR_DATASETS to the shared datasets folder")
    photos = list_images(root / "SunHays80" / "HR")
    return Plan(
        out or HERE / "results" / "full",
        photos,
        5,
        "SunHays80-holdout5",
        ["Set5", "Set14", "BSD68"],
        (),
        out is None,
    )


def link_photos(photos: list[Path], folder: Path) -> Path:
    """`folder` holding a symlink to each photo (kept when it already points there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        link = folder / photo.name
        if link.is_symlink() and Path(os.readlink(link)) == photo:
            continue
        if link.exists() or link.is_symlink():
            raise FileExistsError(
                f"{link} exists and is not a link to {photo}; delete {folder} to start over"
            )
        link.symlink_to(photo)
    return folder


def penalty_folder(out: Path, penalty: float) -> Path:
    """The batch's folder of one penalty (search, train, validation)."""
    return out / "batch" / "trail_1" / f"{NAME}_penalty_{penalty:g}"


def baseline_folder(out: Path, label: str) -> Path:
    return out / "uniform" / label


def uniform_genotype(genotype: Genotype_SR, weight_bits: int, act_bits: int) -> Genotype_SR:
    """`genotype`'s operations with every layer at `weight_bits` and `act_bits`."""
    if any(is_nested(getattr(genotype, field)) for field in FIELDS):
        raise ValueError(f"per-cell genotypes are not supported here: {genotype}")
    entry = (weight_bits,) if weight_bits == act_bits else (weight_bits, act_bits)
    return Genotype_SR(
        **{field: [(layer_bits(e)[0], *entry) for e in getattr(genotype, field)] for field in FIELDS}
    )


def widths(genotype: Genotype_SR) -> list[tuple[int, int]]:
    """The (weight, activation) bits of every layer."""
    return [layer_bits(e)[1:] for field in FIELDS for e in getattr(genotype, field)]


def bits_label(genotype: Genotype_SR) -> str:
    """'float', 'every layer w8a8' or 'mixed w8a8/w4a8' (widest first)."""
    found = sorted(set(widths(genotype)), reverse=True)
    if found == [(32, 32)]:
        return "float"
    names = "/".join(f"w{w}a{a}" for w, a in found)
    return ("mixed " if len(found) > 1 else "every layer ") + names


# ------------------------------------------------------------------------------------------ pieces
def penalty_piece(plan: Plan, penalty: float) -> list[list[str]]:
    """The `quantnas` command of one penalty."""
    return [batch_command(plan, [penalty])]


def batch_command(plan: Plan, penalties: list[float]) -> list[str]:
    """`quantnas batch` over `penalties` into `<out>/batch`, tested on the plan's sets."""
    values = [f"{p:g}" for p in penalties]
    return [
        "batch",
        *plan.common(),
        "-v",
        *values,
        "-d",
        "batch",
        "-r",
        "1",
        "-n",
        NAME,
        "--sets",
        *plan.test_sets(),
    ]


def baseline_piece(plan: Plan, label: str) -> list[list[str]]:
    """Augment then validate the genotype file of a baseline (written before the piece runs)."""
    folder = baseline_folder(plan.out, label)
    weights = str(folder / "train" / "best.pt")
    return [
        [
            "augment",
            *plan.common(),
            "--genotype",
            str(folder / "genotype.gen"),
            "--out",
            str(folder / "train"),
        ],
        ["validate", "--weights", weights, "--sets", *plan.test_sets(), "--out", str(folder / "validation")],
    ]


def run_piece(out: Path, name: str, commands: list[list[str]]) -> str | None:
    """One piece as a stage of the run folder (in a worker process): its commands in order.
    Returns None, or why it failed."""
    folder = RunFolder(out)

    def work() -> dict[str, float]:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        for argv in commands:
            status = cli.main(list(argv))
            if status:
                raise PieceFailed(f"quantnas {argv[0]} ended with exit status {status}: {shlex.join(argv)}")
        return {"seconds": round(time.perf_counter() - start, 1)}

    try:
        folder.stage(name, work)
    except PieceFailed as err:
        return str(err)
    return None


class PieceFailed(RuntimeError):
    """A `quantnas` command of a piece ended with a non-zero exit status (it printed why)."""


def pieces() -> list[str]:
    """The stage names of the run's pieces."""
    return [*(f"penalty_{p:g}" for p in PENALTIES), *(f"baseline_{label}" for label, _, _ in BASELINES)]


def run_pieces(plan: Plan, jobs: int) -> None:
    """The penalties, then (once penalty 0 is done) the baselines, `jobs` pieces at a time; then the
    batch's own table. Raises PieceFailed naming every piece that failed."""
    link_photos(plan.photos[: -plan.holdout], plan.out / "data" / "train")
    link_photos(plan.photos[-plan.holdout :], plan.out / "data" / plan.holdout_name)
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no torch state is forked
    failures: list[str] = []
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        penalty_runs = [
            pool.submit(run_piece, plan.out, f"penalty_{p:g}", penalty_piece(plan, p)) for p in PENALTIES
        ]
        first = penalty_runs[0].result()
        baseline_runs = []
        if first is None:
            found = penalty_genotype(plan.out, PENALTIES[0])
            for label, weight_bits, act_bits in BASELINES:
                file = baseline_folder(plan.out, label) / "genotype.gen"
                file.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(file, str(uniform_genotype(found, weight_bits, act_bits)) + "\n")
                piece = baseline_piece(plan, label)
                baseline_runs.append(pool.submit(run_piece, plan.out, f"baseline_{label}", piece))
        failures = [error for run in (*penalty_runs, *baseline_runs) if (error := run.result())]
    if failures:
        raise PieceFailed("; ".join(failures))
    status = cli.main(batch_command(plan, list(PENALTIES)))
    if status:
        raise PieceFailed(f"quantnas batch (the table over all penalties) ended with exit status {status}")


def penalty_genotype(out: Path, penalty: float) -> Genotype_SR:
    """The genotype a penalty's search found."""
    return parse_genotype((penalty_folder(out, penalty) / "search" / "best_arch.gen").read_text())


# ------------------------------------------------------------------------------------------ scores
def networks(out: Path) -> list[dict[str, Any]]:
    """One entry per network: found (by penalty), then the baselines; name, label, kind, folder."""
    found = [
        {
            "network": f"QuantNAS penalty {p:g}",
            "label": f"p={p:g}",
            "kind": "found",
            "folder": penalty_folder(out, p),
        }
        for p in PENALTIES
    ]
    baselines = [
        {
            "network": "penalty-0 genotype, float"
            if label == "float"
            else f"penalty-0 genotype, uniform {label}",
            "label": label,
            "kind": "float" if label == "float" else "uniform",
            "folder": baseline_folder(out, label),
        }
        for label, _, _ in BASELINES
    ]
    return found + baselines


def weights_name(label: str) -> str:
    return "penalty_" + label[2:] if label.startswith("p=") else label


def score_networks(plan: Plan) -> dict[str, Any]:
    """The scores stage: weights copied, QCDQ ONNX exported and scored where the activations are all
    8-bit, and bicubic on every set."""
    notes: list[str] = []
    test_sets = open_test_sets(plan.test_sets(), 2, notes)
    bicubic = evaluate(BicubicUpsampler(2), test_sets, 2, device="cpu")
    scores: dict[str, Any] = {
        "bicubic": {name: row["psnr"] for name, row in bicubic.summary.items()},
        "networks": {},
    }
    (plan.out / "weights").mkdir(exist_ok=True)
    for entry in networks(plan.out):
        target = plan.out / "weights" / f"{weights_name(entry['label'])}.pt"
        ckpt = load_checkpoint(entry["folder"] / "train" / "best.pt")
        save_checkpoint(target, {"state_dict": ckpt["state_dict"], "model_kwargs": ckpt["model_kwargs"]})
        scores["networks"][entry["label"]] = {
            "weights": target.name,
            "onnx": onnx_scores(target, test_sets, plan.out),
        }
    return scores


def onnx_scores(weights: Path, test_sets: list[Any], out: Path) -> dict[str, float] | None:
    """onnxruntime PSNR per set of the network's QCDQ ONNX file, or None when some activation is not
    8-bit (no integer kernels) or the network is float."""
    net = load_trained_network(weights)
    if any(a != ONNX_ACT_BITS for _, a in widths(net.genotype)):
        return None
    path = export_onnx_int8(net, out / "onnx" / f"{weights.stem}.onnx", torch.rand(1, 3, 24, 24))
    return {name: row["psnr"] for name, row in evaluate_onnx(path, test_sets, net.scale).summary.items()}


def collect(out: Path) -> list[dict[str, Any]]:
    """One row per network, with its validation summary, training seconds, bits and ONNX scores."""
    scores = RunFolder(out).done("scores") or {"networks": {}}
    rows = []
    for entry in networks(out):
        folder = entry["folder"]
        summary = json.loads((folder / "validation" / "validation.json").read_text())
        genotype = parse_genotype(summary["genotype"])
        extra = scores["networks"].get(entry["label"], {})
        rows.append(
            {
                **{k: v for k, v in entry.items() if k != "folder"},
                "bits": bits_label(genotype),
                "widths": sorted(set(widths(genotype)), reverse=True),
                "train_s": RunFolder(folder / "train").done("augment")["seconds"],
                "onnx": extra.get("onnx"),
                "weights": extra.get("weights"),
                **{k: summary[k] for k in ("genotype", "params", "bitops_32x32", BITOPS_KEY, "psnr", "ssim")},
            }
        )
    return rows


# ------------------------------------------------------------------------------------------ report
def goals(rows: list[dict[str, Any]], bicubic: dict[str, float]) -> list[str]:
    """The three goals, each met or missed with its margin (Brevitas scores, every set)."""
    quantised = [r for r in rows if r["kind"] != "float"]
    lines = []
    margin, name = min((min(r["psnr"][s] - bicubic[s] for s in bicubic), r["network"]) for r in quantised)
    verdict = "met" if margin > 0 else "MISSED"
    lines.append(
        f"- Every quantised network above bicubic on every set: {verdict} "
        f"(smallest margin {margin:+.2f} dB, {name})."
    )
    found = [r for r in rows if r["kind"] == "found"]
    for u in (r for r in rows if r["kind"] == "uniform"):
        candidates = [f for f in found if f[BITOPS_KEY] <= u[BITOPS_KEY] * (1 + 1e-9)]
        if not candidates:
            lines.append(
                f"- Dominates uniform {u['label']}: MISSED "
                f"(no searched network has BitOps <= {u[BITOPS_KEY]:.3e})."
            )
            continue
        margin, best = max(
            (min(f["psnr"][s] - u["psnr"][s] for s in u["psnr"]), f["network"]) for f in candidates
        )
        verdict = "met" if margin >= 0 else "MISSED"
        lines.append(
            f"- Dominates uniform {u['label']}: {verdict} "
            f"({best}, no more BitOps, worst-set difference {margin:+.2f} dB)."
        )
    ceiling = next(r for r in rows if r["kind"] == "float")
    w8a8 = [r for r in quantised if r["widths"] == [(8, 8)]]
    gap, best = min((max(ceiling["psnr"][s] - r["psnr"][s] for s in r["psnr"]), r["network"]) for r in w8a8)
    verdict = "met" if gap <= CEILING_MARGIN_DB else f"MISSED by {gap - CEILING_MARGIN_DB:.2f} dB"
    lines.append(
        f"- Best w8a8 network within {CEILING_MARGIN_DB} dB of the float ceiling: {verdict} "
        f"({best}, worst-set gap {gap:.2f} dB)."
    )
    return lines


def machine() -> str:
    """The machine in words: OS, CPU count, torch version and threads."""
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s) per process (OMP_NUM_THREADS={threads})"
    )


def write_results(plan: Plan, rows: list[dict[str, Any]], folder: RunFolder, command: str) -> Path:
    """`<out>/results.md` and `<out>/table.json`: the tables, the goals, the genotypes, the timings."""
    sets = list(rows[0]["psnr"])
    bicubic = folder.done("scores")["bicubic"]
    head = [
        "network",
        "bits",
        "params",
        "BitOps (256x256 LR)",
        *[f"{s} PSNR / SSIM" for s in sets],
        "train s",
    ]
    cells = [
        [row["network"], row["bits"], f"{row['params']:,}", f"{row[BITOPS_KEY]:.3e}"]
        + [f"{row['psnr'][s]:.2f} / {row['ssim'][s]:.4f}" for s in sets]
        + [f"{row['train_s']:.0f}"]
        for row in rows
    ]
    cells.append(["bicubic", "", "", "", *[f"{bicubic[s]:.2f}" for s in sets], ""])
    onnx_head = ["network", *[f"{s} onnxruntime (Brevitas)" for s in sets]]
    onnx_cells = [
        [row["network"], *[f"{row['onnx'][s]:.2f} ({row['psnr'][s]:.2f})" for s in sets]]
        for row in rows
        if row["onnx"]
    ]
    genotypes = [f"- {row['network']}: `{row['genotype']}`" for row in rows]
    held = ", ".join(p.name for p in plan.photos[-plan.holdout :])
    overrides = f" with {', '.join(plan.settings)}" if plan.settings else ""
    seconds = {piece: folder.done(piece)["seconds"] for piece in pieces()}
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
    wall = (folder.done("wall") or {"seconds": sum(seconds.values())})["seconds"]
    text = "\n".join(
        [
            "# QuantNAS vs uniform quantisation (x2)",
            "",
            f"Training photos: the first {len(plan.photos) - plan.holdout} of {len(plan.photos)} (by name); "
            f"held out, and tested as `{plan.holdout_name}`: {held}.",
            f"Penalties: {', '.join(f'{p:g}' for p in PENALTIES)}. Baselines: penalty 0's genotype "
            f"with every layer at {', '.join(label for label, _, _ in BASELINES)}.",
            f"Every network is trained with the same `train` recipe and seed of `{CONFIG.name}`{overrides}.",
            "PSNR/SSIM on Y, crop = scale, of the Brevitas model. BitOps = sum over convs of MACs x "
            "weight bits x activation bits.",
            "",
            *markdown_table(head, cells).splitlines(),
            "",
            "Goals (PSNR of the Brevitas model):",
            "",
            *goals(rows, bicubic),
            "",
            "QCDQ ONNX in onnxruntime (the networks whose activations are all 8-bit; onnxruntime has no "
            "4-bit kernels), PSNR with the Brevitas model's in brackets:",
            "",
            *markdown_table(onnx_head, onnx_cells).splitlines(),
            "",
            "Genotypes (`('op', w, a)`: weights at w bits, activations at a):",
            "",
            *genotypes,
            "",
            f"Wall time: {wall:.0f} s ({wall / 60:.1f} min); the pieces' own times: {parts}.",
            f"Machine: {machine()}.",
            f"Command: `{command}`",
            "",
        ]
    )
    path = plan.out / "results.md"
    write_text_atomic(path, text)
    table = [{k: v for k, v in row.items() if k != "widths"} for row in rows]
    write_text_atomic(
        plan.out / "table.json", json.dumps({"bicubic": bicubic, "rows": table}, indent=2) + "\n"
    )
    return path


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """PSNR against BitOps, one panel per test set: found genotypes (circles) vs uniform (squares);
    the float ceiling as a line."""
    sets = list(rows[0]["psnr"])
    figure, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.6), squeeze=False)
    styles = {"found": ("o", "tab:blue", 5), "uniform": ("s", "tab:orange", -10)}  # labels above / below
    ceiling = next(r for r in rows if r["kind"] == "float")
    for ax, name in zip(axes[0], sets, strict=True):
        for kind, (marker, colour, offset) in styles.items():
            group = [r for r in rows if r["kind"] == kind]
            xs, ys = [r[BITOPS_KEY] for r in group], [r["psnr"][name] for r in group]
            label = "QuantNAS (penalty)" if kind == "found" else "uniform (penalty-0 ops)"
            ax.scatter(xs, ys, marker=marker, color=colour, label=label, alpha=0.85)
            for r, x, y in zip(group, xs, ys, strict=True):
                ax.annotate(r["label"], (x, y), textcoords="offset points", xytext=(5, offset), fontsize=7)
        ax.axhline(ceiling["psnr"][name], color="grey", linestyle="--", linewidth=1, label="float ceiling")
        ax.set(xscale="log", xlabel="BitOps (256x256 LR input)", title=name)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.15, y=0.1)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("PSNR (dB, Y)")
    axes[0][0].legend(fontsize=7, loc="lower right")
    figure.suptitle("x2: QuantNAS mixed precision vs uniform quantisation", fontsize=10, y=1.02)
    figure.tight_layout()
    return save_png(figure, path, dpi=110, bbox_inches="tight")


def publish(plan: Plan, paths: list[Path]) -> None:
    """Copy the results and the weights beside this file."""
    for path in paths:
        with atomic_write(HERE / path.name) as handle:
            handle.write(path.read_bytes())
    (HERE / "weights").mkdir(exist_ok=True)
    for path in sorted((plan.out / "weights").glob("*.pt")):
        shutil.copyfile(path, HERE / "weights" / path.name)


def rescore() -> int:
    """Score the committed weights again (Brevitas and onnxruntime) on the full run's test sets and
    print the differences from the committed table.json; exit status 1 when one exceeds 0.01 dB."""
    table = json.loads((HERE / "table.json").read_text())
    plan = make_plan(False, HERE / "results" / "rescore")
    link_photos(plan.photos[-plan.holdout :], plan.out / "data" / plan.holdout_name)
    test_sets = open_test_sets(plan.test_sets(), 2, [])
    largest = 0.0
    for row in table["rows"]:
        weights = HERE / "weights" / row["weights"]
        summary, _ = validation_report(load_trained_network(weights), test_sets)
        got = {"brevitas": (summary["psnr"], row["psnr"])}
        if row["onnx"]:
            got["onnxruntime"] = (onnx_scores(weights, test_sets, plan.out), row["onnx"])
        for kind, (scores, expected) in got.items():
            diffs = {s: scores[s] - expected[s] for s in expected}
            largest = max(largest, *(abs(d) for d in diffs.values()))
            print(row["network"], kind, " ".join(f"{s} {scores[s]:.2f} ({d:+.4f})" for s, d in diffs.items()))
    print(f"largest difference from table.json: {largest:.4f} dB")
    return 0 if largest <= 0.01 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: sample photos, a few steps")
    parser.add_argument("--out", type=Path, help="output folder (default results/full or results/quick here)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="pieces run at a time, one process each (default 1)"
    )
    parser.add_argument(
        "--rescore", action="store_true", help="score the committed weights/ against table.json"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    if args.rescore:
        return rescore()
    command = shlex.join(
        ["python", "experiments/quantnas_x2/run.py", *(argv if argv is not None else sys.argv[1:])]
    )
    try:
        plan = make_plan(args.quick, args.out)
        folder = RunFolder(plan.out).open(
            {"photos": [str(p) for p in plan.photos], "holdout": plan.holdout, "settings": plan.settings}
        )
        start = time.perf_counter()
        if not all(folder.done(piece) for piece in pieces()):
            run_pieces(plan, args.jobs)
            folder.record("wall", {"seconds": round(time.perf_counter() - start, 1)})
        folder.stage("scores", lambda: score_networks(plan))
    except PieceFailed as err:
        print(f"run.py: {err}; rerun to resume", file=sys.stderr)
        return 1
    except (OSError, ValueError) as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return 2
    rows = collect(plan.out)
    results = write_results(plan, rows, folder, command)
    figure = plot(rows, plan.out / "psnr_vs_bitops.png")
    if plan.publish:
        publish(plan, [results, plan.out / "table.json", figure])
    print(results.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
