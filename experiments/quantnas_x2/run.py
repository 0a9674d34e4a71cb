"""QuantNAS vs uniform quantisation on SunHays80, x2.

The claim checked: the mixed precision a QuantNAS search finds beats uniform bit widths at equal
BitOps. The driver, on one config (`config.yaml`: a small supernet, small search and training
budgets), runs through the `quantnas` command line (in this process, `sr_quantnas.cli.main`):

1. data: the photos sorted by name, the last 5 held out (symlinks in `<out>/data/train` and
   `<out>/data/SunHays80-holdout5`); the app validates its checkpoints on patches of the training
   photos, so the held-out photos are scored as one more test set, never seen in training;
2. `quantnas batch` over the penalties: search -> augment -> validate for each, into `<out>/batch`;
3. the uniform baselines: penalty 0's genotype (the most accurate search) with every layer set to
   w8a8, w4a8 and w4a4 (w4a8 via the config extension `train.act_bits`), each trained by
   `quantnas augment` with the same `train` recipe and seed, then `quantnas validate`;
4. `results.md` (network, bits, params, BitOps at a 256x256 LR input, PSNR/SSIM per test set,
   training time) and `psnr_vs_bitops.png` in `<out>`, copied beside this file after a full run.

`<out>` is a run folder (`sr_train.RunFolder`): `config.yaml` records the photos, the hold-out and
the config overrides (a rerun with others is refused), and each piece is a stage whose
`stages/<piece>.json` holds its wall seconds. A finished piece is skipped and an unfinished one
resumes (the app's run folders), so a killed run continues where it stopped when started again.
`--quick` is a smoke run (the bundled sample photos, one held out, a few steps) into its own folder.

    OMP_NUM_THREADS=1 python experiments/quantnas_x2/run.py            # full run (~30 min, 1 core)
    OMP_NUM_THREADS=1 python experiments/quantnas_x2/run.py --quick    # smoke run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (backend first: no display needed)
import torch  # noqa: E402

from sr_data import atomic_write, find_datasets_root, write_text_atomic  # noqa: E402
from sr_data.paths import list_images  # noqa: E402
from sr_data.samples import SAMPLE_SPLITS, sample_image_folder  # noqa: E402
from sr_eval.report import markdown_table, save_png  # noqa: E402
from sr_quantnas import cli  # noqa: E402
from sr_search_quantnas.genotype import FIELDS, Genotype_SR, is_nested, parse_genotype  # noqa: E402
from sr_train import RunFolder  # noqa: E402

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "config.yaml"
PENALTIES = (0.0, 1e-3, 1e-2)
UNIFORM = (("w8a8", 8, 8), ("w4a8", 4, 8), ("w4a4", 4, 4))  # (label, weight bits, activation bits)
NAME = "quantnas"  # the batch's run-folder prefix
BITOPS_KEY = "bitops_256x256"
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


class StepFailed(RuntimeError):
    """A `quantnas` command that ended with a non-zero exit status (it printed why)."""

    def __init__(self, argv: list[str], status: int) -> None:
        super().__init__(f"quantnas {argv[0]} ended with exit status {status}: {shlex.join(argv)}")
        self.status = status


@dataclass(frozen=True)
class Plan:
    """What one run uses: output folder, photos, how many are held out, test sets, config overrides."""

    out: Path
    photos: list[Path]
    holdout: int
    holdout_name: str
    sets: list[str]
    settings: tuple[str, ...]
    publish: bool  # copy results.md and the plot beside this file


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


def quantnas(*argv: str) -> None:
    """Run one `quantnas` command in this process; a non-zero exit status raises StepFailed."""
    status = cli.main(list(argv))
    if status:
        raise StepFailed(list(argv), status)


def timed(piece: str, work: Callable[[], None]) -> Callable[[], dict[str, float]]:
    """A stage's work: `work()`, its result the wall seconds it took."""

    def stage() -> dict[str, float]:
        print(f"== {piece}", flush=True)
        start = time.perf_counter()
        work()
        return {"seconds": round(time.perf_counter() - start, 1)}

    return stage


def uniform_genotype(genotype: Genotype_SR, bits: int) -> Genotype_SR:
    """`genotype`'s operations with every layer at `bits` (weights; activations follow train.act_bits)."""
    if any(is_nested(getattr(genotype, field)) for field in FIELDS):
        raise ValueError(f"per-cell genotypes are not supported here: {genotype}")
    return Genotype_SR(**{field: [(op, bits) for op, _ in getattr(genotype, field)] for field in FIELDS})


def pieces() -> list[str]:
    """The stage names of the run's pieces, in the order they run."""
    return ["batch", *(f"uniform_{label}" for label, _, _ in UNIFORM)]


def run_pieces(plan: Plan, folder: RunFolder) -> None:
    """Data split, the batch over penalties, then the three uniform baselines (each a stage of
    `folder`, skipped when done)."""
    out = plan.out
    train = link_photos(plan.photos[: -plan.holdout], out / "data" / "train")
    held = link_photos(plan.photos[-plan.holdout :], out / "data" / plan.holdout_name)
    common = ["-c", str(CONFIG), "--data", str(train), "--set", f"env.log_dir={out}"]
    common += [arg for setting in plan.settings for arg in ("--set", setting)]
    sets = [*plan.sets, str(held)]
    values = [f"{p:g}" for p in PENALTIES]
    batch = ["batch", *common, "-v", *values, "-d", "batch", "-r", "1", "-n", NAME, "--sets", *sets]
    folder.stage("batch", timed("batch", lambda: quantnas(*batch)))
    found = parse_genotype(found_rows(out)[0]["genotype"])
    for label, weight_bits, act_bits in UNIFORM:
        uniform = out / "uniform" / label
        genotype_file = uniform / "genotype.gen"

        def train_and_validate(
            uniform: Path = uniform, file: Path = genotype_file, w: int = weight_bits, a: int = act_bits
        ) -> None:
            write_text_atomic(file, str(uniform_genotype(found, w)) + "\n")
            extra = [] if a == w else ["--set", f"train.act_bits={a}"]
            quantnas("augment", *common, *extra, "--genotype", str(file), "--out", str(uniform / "train"))
            weights = str(uniform / "train" / "best.pt")
            quantnas("validate", "--weights", weights, "--sets", *sets, "--out", str(uniform / "validation"))

        folder.stage(f"uniform_{label}", timed(f"uniform {label}", train_and_validate))


def found_rows(out: Path) -> list[dict[str, Any]]:
    """The batch's rows (one per penalty, in PENALTIES order)."""
    rows = json.loads((out / "batch" / "batch_results.json").read_text())
    return sorted(rows, key=lambda row: row["penalty"])


def _train_seconds(train_folder: Path) -> float:
    """The training seconds an augment run recorded with its finished stage."""
    return RunFolder(train_folder).done("augment")["seconds"]


def collect(out: Path) -> list[dict[str, Any]]:
    """One row per network: found genotypes (by penalty), then the uniform baselines."""
    rows = []
    for row in found_rows(out):
        folder = Path(row["folder"])
        summary = json.loads((folder / "validation" / "validation.json").read_text())
        genotype = parse_genotype(summary["genotype"])
        widths = sorted({bits for field in FIELDS for _, bits in getattr(genotype, field)}, reverse=True)
        rows.append(
            {
                "network": f"QuantNAS penalty {row['penalty']:g}",
                "kind": "found",
                "label": f"p={row['penalty']:g}",
                "bits": ("mixed " if len(widths) > 1 else "every layer ")
                + "/".join(f"w{b}a{b}" for b in widths),
                "train_s": _train_seconds(folder / "train"),
                **summary,
            }
        )
    for label, weight_bits, act_bits in UNIFORM:
        folder = out / "uniform" / label
        summary = json.loads((folder / "validation" / "validation.json").read_text())
        rows.append(
            {
                "network": f"penalty-0 genotype, uniform {label}",
                "kind": "uniform",
                "label": label,
                "bits": label,
                "same_widths": weight_bits == act_bits,
                "train_s": _train_seconds(folder / "train"),
                **summary,
            }
        )
    return rows


def machine() -> str:
    """The machine in words: OS, CPU count, torch version and threads."""
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} thread(s) (OMP_NUM_THREADS={threads})"
    )


def write_results(plan: Plan, rows: list[dict[str, Any]], seconds: dict[str, float], command: str) -> Path:
    """`<out>/results.md`: the table, the genotypes, the timings, the machine and the command."""
    sets = list(rows[0]["psnr"])
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
    lines = markdown_table(head, cells).splitlines()
    genotypes = [
        f"- {row['network']}: `{row['genotype']}`"
        + ("" if row.get("same_widths", True) else " (activations 8-bit)")
        for row in rows
    ]
    same = [
        f"- {u['network']} is the same network as {f['network']} (same genotype and widths)."
        for u in rows
        if u["kind"] == "uniform"
        for f in rows
        if f["kind"] == "found" and f["genotype"] == u["genotype"] and u["same_widths"]
    ]
    held = ", ".join(p.name for p in plan.photos[-plan.holdout :])
    overrides = f" with {', '.join(plan.settings)}" if plan.settings else ""
    total = sum(seconds.values())
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
    text = "\n".join(
        [
            "# QuantNAS vs uniform quantisation (x2)",
            "",
            f"Training photos: the first {len(plan.photos) - plan.holdout} of {len(plan.photos)} (by name); "
            f"held out, and tested as `{plan.holdout_name}`: {held}.",
            f"Penalties: {', '.join(f'{p:g}' for p in PENALTIES)}. Uniform baselines: penalty 0's genotype "
            f"with every layer at {', '.join(label for label, _, _ in UNIFORM)}.",
            f"Every network is trained with the same `train` recipe and seed of `{CONFIG.name}`{overrides}.",
            "PSNR/SSIM on Y, crop = scale. BitOps = sum over convs of MACs x weight bits x activation bits.",
            "",
            *lines,
            "",
            *same,
            *([""] if same else []),
            "Genotypes:",
            "",
            *genotypes,
            "",
            f"Wall time: {total:.0f} s ({total / 60:.1f} min), the sum of the pieces ({parts}).",
            f"Machine: {machine()}.",
            f"Command: `{command}`",
            "",
        ]
    )
    path = plan.out / "results.md"
    write_text_atomic(path, text)
    return path


def plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """PSNR against BitOps, one panel per test set: found genotypes (circles) vs uniform (squares)."""
    sets = list(rows[0]["psnr"])
    figure, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.6), squeeze=False)
    styles = {"found": ("o", "tab:blue", 5), "uniform": ("s", "tab:orange", -10)}  # labels above / below
    for ax, name in zip(axes[0], sets, strict=True):
        for kind, (marker, colour, offset) in styles.items():
            group = [r for r in rows if r["kind"] == kind]
            xs, ys = [r[BITOPS_KEY] for r in group], [r["psnr"][name] for r in group]
            label = "QuantNAS (penalty)" if kind == "found" else "uniform (penalty-0 ops)"
            ax.scatter(xs, ys, marker=marker, color=colour, label=label, alpha=0.85)
            for r, x, y in zip(group, xs, ys, strict=True):
                ax.annotate(r["label"], (x, y), textcoords="offset points", xytext=(5, offset), fontsize=7)
        ax.set(xscale="log", xlabel="BitOps (256x256 LR input)", title=name)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.margins(x=0.15, y=0.1)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("PSNR (dB, Y)")
    axes[0][0].legend(fontsize=7, loc="lower right")
    figure.suptitle("x2: QuantNAS mixed precision vs uniform quantisation", fontsize=10, y=1.02)
    figure.tight_layout()
    return save_png(figure, path, dpi=110, bbox_inches="tight")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: sample photos, a few steps")
    parser.add_argument("--out", type=Path, help="output folder (default results/full or results/quick here)")
    args = parser.parse_args(argv)
    command = shlex.join(
        ["python", "experiments/quantnas_x2/run.py", *(argv if argv is not None else sys.argv[1:])]
    )
    try:
        plan = make_plan(args.quick, args.out)
        folder = RunFolder(plan.out).open(
            {"photos": [str(p) for p in plan.photos], "holdout": plan.holdout, "settings": plan.settings}
        )
        run_pieces(plan, folder)
    except StepFailed as err:
        print(f"run.py: {err}; rerun to resume", file=sys.stderr)
        return err.status
    except (OSError, ValueError) as err:
        print(f"run.py: error: {err}", file=sys.stderr)
        return 2
    rows = collect(plan.out)
    seconds = {piece: folder.done(piece)["seconds"] for piece in pieces()}
    results = write_results(plan, rows, seconds, command)
    figure = plot(rows, plan.out / "psnr_vs_bitops.png")
    if plan.publish:
        for path in (results, figure):
            with atomic_write(HERE / path.name) as handle:
                handle.write(path.read_bytes())
    print(results.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
