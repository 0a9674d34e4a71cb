"""Why a QuantNAS network trains below bicubic: one genotype trained under the network's variants.

The genotype is the one the earlier quantnas_x2 search found at penalty 0 (c_fixed 18, one body
cell, x2). Each variant trains it the same short way (1,536 steps of 16 patches of 32x32 LR from
the first 75 SunHays80 photos, Adam 1e-3 with a cosine schedule, L1, the first 384 steps in full
precision) and is scored on its validation patches (64 crops of the training photos, the score
that may choose between variants), Set5, Set14 and the 5 held-out SunHays80 photos. A variant is
`<bits>_<residuals>_<image residual>`: bits float / w8 / w4 (weights and activations), residuals
adm (the reference's) or plain, image residual none / nearest / bicubic (`arch.image_residual`,
with the output clipped at inference). "collapsed" marks a network whose own output is exactly zero
on the held-out photos (its PSNR is then the image residual's alone). Results go to a JSON-lines file
(a rerun skips the variants already there).

    OMP_NUM_THREADS=1 python benchmarks/bench_quantnas_training.py            # every variant
    OMP_NUM_THREADS=1 python benchmarks/bench_quantnas_training.py --variants w8_plain_nearest
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from pathlib import Path

import torch

from sr_data import RandomPatches, find_datasets_root, open_test_sets, open_training_images
from sr_data.paths import list_images
from sr_eval import evaluate
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network
from sr_search_quantnas.settings import TrainSettings
from sr_search_quantnas.train_genotype import FullPrecisionWarmUp, train_config
from sr_train import Trainer, stack_patches

GENOTYPE = (
    "Genotype_SR(head=[('simple_3x3_grouped_3', {b}), ('simple_3x3_grouped_3', {b})], "
    "body=[('simple_5x5', {b}), ('simple_5x5', {b})], tail=[('simple_5x5', {b})], "
    "skip=[('simple_5x5', {b})], upsample=[('simple_3x3_grouped_3', {b})])"
)
BITS = {"float": 32, "w8": 8, "w4": 4}
VARIANTS = [
    f"{bits}_{residuals}_{image}"
    for residuals in ("adm", "plain")
    for image in ("none", "nearest", "bicubic")
    for bits in BITS
]
STEPS, WARM_UP, BATCH, LR_CROP, SEED = 1536, 384, 16, 32, 777
HOLDOUT = 5


def link(photos: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for photo in photos:
        if not (folder / photo.name).exists():
            (folder / photo.name).symlink_to(photo)
    return folder


def train_variant(variant: str, photos: list[Path], scratch: Path) -> dict:
    """Train one variant and score it; returns its row."""
    bits, residuals, image = variant.split("_")
    torch.manual_seed(SEED)
    net = build_network(
        parse_genotype(GENOTYPE.format(b=BITS[bits])),
        scale=2,
        c_fixed=18,
        body_cells=1,
        skip_mode=residuals == "plain",
        image_residual=image,
        clip_output=image != "none",
    )
    model = FullPrecisionWarmUp(net, WARM_UP)
    images = open_training_images(str(link(photos[:-HOLDOUT], scratch / "train")), 2)
    patches = RandomPatches(images, LR_CROP * 2, 96 * BATCH, seed=SEED)
    val = stack_patches(RandomPatches(images, LR_CROP * 2, 64, seed=SEED + 1))
    settings = TrainSettings(lr=1e-3, epochs=STEPS // 96, print_freq=500)
    run = {"seed": SEED, "device": "cpu", "out_dir": str(scratch / variant), "progress": False}
    config = train_config(settings, scale=2, batch_size=BATCH, steps_per_epoch=96, **run)
    start = time.perf_counter()
    with Trainer(model, patches, val, config, model_name=None, model_kwargs={}) as trainer:
        fitted = trainer.fit()
    held = link(photos[-HOLDOUT:], scratch / "SunHays80-holdout5")
    test_sets = open_test_sets(["Set5", "Set14", str(held)], 2, [])
    model.eval()
    table = evaluate(model, test_sets, 2, device="cpu")
    with torch.no_grad():
        h = hr_features(net, test_sets[-1][0]["lr"].unsqueeze(0))
        own = net.tail_residual(h, net.tail, h)  # the output before the image residual
    return {
        "variant": variant,
        "validation": round(fitted.best_psnr, 2),  # patches of the training photos: what chooses
        **{name: round(row["psnr"], 2) for name, row in table.summary.items()},
        "collapsed": bool(own.abs().max() == 0),
        "seconds": round(time.perf_counter() - start),
    }


def hr_features(net: torch.nn.Module, lr: torch.Tensor) -> torch.Tensor:
    """The network's HR features before its tail."""
    features = net.head(lr)
    return net.pixel_shuffle(net.upsample(net.body_residual(features, net._body, features)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS, metavar="VARIANT")
    parser.add_argument("--results", type=Path, default=Path("bench_quantnas_training.jsonl"))
    args = parser.parse_args()
    root = find_datasets_root()
    if root is None or not (root / "SunHays80" / "HR").is_dir():
        raise SystemExit("SunHays80/HR not found: set SR_DATASETS to the shared datasets folder")
    photos = list_images(root / "SunHays80" / "HR")
    done = set()
    if args.results.is_file():
        done = {json.loads(line)["variant"] for line in args.results.read_text().splitlines() if line}
    warnings.filterwarnings("ignore", module="brevitas")
    with tempfile.TemporaryDirectory() as scratch:
        for variant in (v for v in args.variants if v not in done):
            row = train_variant(variant, photos, Path(scratch))
            print(json.dumps(row), flush=True)
            with args.results.open("a") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
