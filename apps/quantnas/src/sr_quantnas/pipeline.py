"""The three stages of a QuantNAS run, each writing a resumable folder: search, augment, validate.

- search: builds the supernet of `arch` (+ `search.quant_noise`), splits the training images'
  patches as the reference does and runs `sr_search_quantnas.search` (best_arch.gen,
  alpha_history.jsonl, search_state.pt, an alphas plot in `env.im_dir`);
- augment: trains a genotype from scratch with `sr_search_quantnas.train_genotype` (best.pt);
- validate: PSNR/SSIM (Y) of the trained quantised network on the test sets and its BitOps for a
  32x32 and a 256x256 LR input (the reference's two columns), written as validation.json/.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from sr_data import PairedImages, RandomPatches, open_test_sets, open_training_images, write_text_atomic
from sr_eval import count_parameters, evaluate
from sr_quantnas.config import QuantNASConfig, save_config
from sr_quantnas.plots import plot_alpha_history
from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import Genotype_SR
from sr_search_quantnas.network import build_network
from sr_search_quantnas.search import SearchResult, run_search
from sr_search_quantnas.search_data import SearchData, make_search_data, reference_tile_count
from sr_search_quantnas.supernet import Supernet
from sr_search_quantnas.train_genotype import GenotypeTrainResult, load_trained_network, train_genotype
from sr_train import load_checkpoint, stack_patches

VALIDATION_LR_SIZES = ((32, 32), (256, 256))
DEBUG_BATCHES = 2


class RunLog:
    """Prints a line and appends it to `<folder>/log.txt`."""

    def __init__(self, folder: Path, quiet: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path, self.quiet = folder / "log.txt", quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:
            print(line, flush=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def training_images(config: QuantNASConfig, data: str | None) -> PairedImages:
    """The images `--data` (or `dataset.files_list`) names, at the config's scale."""
    return open_training_images(data or config.dataset.files_list, config.dataset.scale)


def patches_per_epoch(config: QuantNASConfig, images: PairedImages) -> int:
    """`dataset.patches_per_epoch`, else the reference's tile count (two batches in `debug_mode`)."""
    ds = config.dataset
    if ds.debug_mode:
        return DEBUG_BATCHES * ds.batch_size
    return ds.patches_per_epoch or reference_tile_count(images)


def search_data(config: QuantNASConfig, images: PairedImages, cache_dir: Path | None) -> SearchData:
    """Weight/alpha/selection patch streams of the config (two batches each in `debug_mode`)."""
    ds = config.dataset
    subsample = 1.0 if ds.debug_mode else ds.search_subsample
    total = patches_per_epoch(config, images) * (2 if ds.debug_mode else 1)
    return make_search_data(
        images,
        crop_size=ds.crop_size,
        batch_size=ds.batch_size,
        search_subsample=subsample,
        seed=config.env.seed,
        patches_per_epoch=total,
        cache_dir=cache_dir,
        num_workers=config.env.workers,
    )


def build_supernet(config: QuantNASConfig) -> Supernet:
    """The supernet of `arch` with the mixed-precision mode and selector of `search`."""
    arch = config.arch
    return Supernet(
        scale=arch.scale,
        c_fixed=arch.c_fixed,
        arch_pattern=arch.pattern(),
        body_cells=arch.body_cells,
        bits=list(arch.bits),
        primitives=arch.primitives,
        skip_mode=arch.skip_mode,
        quant_mode=config.search.quant_mode,
        alpha_selector=config.search.alpha_selector,
        in_channels=arch.channels,
    )


def genotype_bitops(config: QuantNASConfig) -> Callable[[Genotype_SR, tuple[int, int]], float]:
    """BitOps of a genotype's network under this config's arch, for one LR input of a given size."""
    arch = config.arch

    def count(genotype: Genotype_SR, lr_size: tuple[int, int]) -> float:
        net = build_network(
            genotype, arch.scale, arch.c_fixed, arch.body_cells, arch.skip_mode, arch.channels
        )
        return float(bitops(net, lr_size=lr_size).total)

    return count


def search_stage(
    config: QuantNASConfig,
    out: Path,
    data: str | None,
    device: str,
    cache_dir: Path | None,
    quiet: bool = False,
) -> SearchResult:
    """Search (or resume the search) into `out`."""
    log = RunLog(out, quiet)
    save_config(config, out / "config.yaml")
    streams = search_data(config, training_images(config, data), cache_dir)
    log(
        f"search: {len(streams.weights)} weight / {len(streams.alphas)} alpha / {len(streams.selection)} "
        f"selection patches of {streams.lr_size[0]}x{streams.lr_size[1]} LR per epoch, batch "
        f"{streams.batch_size}, penalty {config.search.penalty}, device {device}"
    )
    torch.manual_seed(config.env.seed)
    supernet = build_supernet(config)
    result = run_search(
        supernet,
        streams,
        config.search,
        out,
        seed=config.env.seed,
        device=device,
        bitops_of=genotype_bitops(config),
        log=log,
        print_freq=config.env.print_freq,
    )
    plot_alpha_history(result.history, out / config.env.im_dir / "alphas.png")
    log(f"best genotype (selection L1 {result.best_loss:.4f}): {result.best_genotype}")
    return result


def augment_stage(
    config: QuantNASConfig,
    genotype: Genotype_SR,
    out: Path,
    data: str | None,
    device: str,
    cache_dir: Path | None,
    quiet: bool = False,
) -> GenotypeTrainResult:
    """Train `genotype` from scratch into `out` (resumes from out/last.pt)."""
    log = RunLog(out, quiet)
    save_config(config, out / "config.yaml")
    write_text_atomic(out / "genotype.gen", str(genotype) + "\n")
    images = training_images(config, data)
    patch = config.dataset.crop_size * config.arch.scale
    # all patches train (the reference trains on every tile); validation: the search's selection stream
    train_patches = RandomPatches(
        images, patch, patches_per_epoch(config, images), seed=config.env.seed, cache_dir=cache_dir
    )
    val_patches = stack_patches(search_data(config, images, cache_dir).selection)
    log(f"augment: {len(train_patches)} patches per epoch, {len(val_patches)} validation patches, {genotype}")
    arch = config.arch
    result = train_genotype(
        genotype,
        train_patches,
        val_patches,
        config.train,
        scale=arch.scale,
        c_fixed=arch.c_fixed,
        body_cells=arch.body_cells,
        skip_mode=arch.skip_mode,
        in_channels=arch.channels,
        batch_size=config.dataset.batch_size,
        out_dir=out,
        seed=config.env.seed,
        device=device,
        progress=not quiet,
    )
    log(f"augment: best validation PSNR {result.best_psnr:.3f} dB (quantised) -> {result.checkpoint}")
    return result


def validate_stage(
    weights: Path, sets: list[str], scale: int, out: Path, device: str, quiet: bool = False
) -> dict[str, Any]:
    """Test a trained genotype; writes validation.json and validation.md into `out`."""
    log = RunLog(out, quiet)
    net = load_trained_network(weights)
    notes: list[str] = []
    table = evaluate(net, open_test_sets(sets, scale, notes), scale, device=device)
    for note in notes:
        log(note)
    counts = {f"bitops_{h}x{w}": float(bitops(net, lr_size=(h, w)).total) for h, w in VALIDATION_LR_SIZES}
    result = {
        "weights": str(weights),
        "genotype": load_checkpoint(weights)["model_kwargs"]["genotype"],
        "params": count_parameters(net),
        **counts,
        "psnr": {name: row["psnr"] for name, row in table.summary.items()},
        "ssim": {name: row["ssim"] for name, row in table.summary.items()},
        "notes": notes,
    }
    write_text_atomic(out / "validation.json", json.dumps(result, indent=2) + "\n")
    write_text_atomic(out / "validation.md", table.to_markdown() + "\n")
    log(table.to_markdown())
    log(", ".join(f"{k} {v:.3e}" for k, v in counts.items()))
    return result
