"""The TensorBoard figure of sr-train's README: a small ESPCN x2 run on the bundled photos, its event
files read back with TensorBoard's EventAccumulator and drawn with matplotlib.

    python benchmarks/tensorboard_curves.py [--out runs/tensorboard_demo] [--steps 600]

Needs `sr-train[tensorboard]`, `sr-data[samples]` and matplotlib.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from sr_blocks import create_model  # noqa: E402
from sr_data import RandomPatches, SampleImages  # noqa: E402
from sr_train import TrainConfig, Trainer  # noqa: E402
from sr_train.eventlog import EVENTS_DIR  # noqa: E402

FIGURE = Path(__file__).resolve().parents[1] / "packages" / "sr-train" / "docs" / "tensorboard_curves.png"


def train(out: Path, steps: int) -> None:
    data = RandomPatches(SampleImages("train", scale=2), patch_size=64, patches_per_epoch=16 * steps)
    config = TrainConfig(
        steps=steps,
        batch_size=16,
        lr=1e-3,
        log_every=10,
        val_every=steps // 6,
        out_dir=str(out),
        resume=False,
    )
    with Trainer(create_model("espcn", scale=2), data, SampleImages("test", scale=2), config) as trainer:
        trainer.fit()


def draw(folder: Path, path: Path) -> None:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    fig = plt.figure(figsize=(9, 4.6), dpi=80)
    for column, (tag, label) in enumerate((("train/loss", "L1 loss"), ("val/psnr", "validation PSNR (dB)"))):
        points = events.Scalars(tag)
        axes = fig.add_subplot(2, 2, column + 1)
        axes.plot([p.step for p in points], [p.value for p in points], marker="." if "val" in tag else None)
        axes.set_title(tag, fontsize=10)
        axes.set_xlabel("step", fontsize=9)
        axes.set_ylabel(label, fontsize=9)
        axes.grid(alpha=0.3)
    last = events.Images("val/image")[-1]
    axes = fig.add_subplot(2, 1, 2)
    axes.imshow(Image.open(io.BytesIO(last.encoded_image_string)))
    axes.set_title(f"val/image at step {last.step}: LR bicubic | SR | HR", fontsize=10)
    axes.axis("off")
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png)
    plt.close(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.open(png).convert("RGB").quantize(256).save(path, optimize=True)  # a palette PNG: < 100 KB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/tensorboard_demo"), help="the run folder")
    parser.add_argument("--steps", type=int, default=600, help="training steps (600)")
    parser.add_argument("--figure", type=Path, default=FIGURE, help="where the PNG goes")
    args = parser.parse_args()
    train(args.out, args.steps)
    draw(args.out / EVENTS_DIR, args.figure)
    print(f"{args.figure}: {args.figure.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
