"""The three stages of a QuantNAS run, each an sr_train.RunFolder: search (sr_search_quantnas.search:
best_arch.gen, alpha_history.jsonl, search_state.pt, alphas.png), augment (train_genotype: best.pt)
and validate (validation_report: validation.json/.md).

Every check (config, data, genotype, network, test sets) runs before the folder is opened, so a
refused command leaves nothing behind; the folder's config.yaml refuses a rerun that asks for other
settings, and a finished stage rerun does nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from sr_data import RandomPatches, open_test_sets, open_training_images, write_text_atomic
from sr_quantnas.config import QuantNASConfig
from sr_search_quantnas.genotype import Genotype_SR
from sr_search_quantnas.network import build_network
from sr_search_quantnas.plots import plot_alpha_history
from sr_search_quantnas.search import build_supernet, genotype_bitops, load_supernet_weights, run_search
from sr_search_quantnas.search_data import SearchData, epoch_patch_count, make_search_data
from sr_search_quantnas.train_genotype import load_trained_network, train_genotype, validation_report
from sr_train import RunFolder, path_setting, section_to_dict, stack_patches

# what a rerun may change: where the results go and how fast they come, not what they are
MAY_CHANGE = ("env.run_name", "env.gpu", "env.log_dir", "env.im_dir", "env.workers", "env.print_freq")
MAY_CHANGE_TRAIN = (*MAY_CHANGE, "train.print_freq", "train.genotype_path")


@dataclass
class Runtime:
    """How the stages run, not what they compute: the device, the patch cache, console output."""

    device: torch.device
    cache: Path | None = None
    quiet: bool = False


def recorded(config: QuantNASConfig, *sections: str, **extra: Any) -> dict[str, Any]:
    """The settings a run folder records: some sections, with paths compared by meaning."""
    data = {name: section_to_dict(getattr(config, name)) for name in sections}
    data["dataset"]["files_list"] = path_setting(config.dataset.files_list)
    if data.get("search", {}).get("load_path"):
        data["search"]["load_path"] = path_setting(config.search.load_path)
    for section in ("arch", "train"):  # the act_bits extensions unset: folders recorded before them match
        if section in data and data[section]["act_bits"] is None:
            del data[section]["act_bits"]
    if "arch" in data:  # the image output extensions likewise
        for key in ("image_residual", "clip_output"):
            if key not in config.arch.image_output_args():
                del data["arch"][key]
    return {**data, **extra}


def training_data(config: QuantNASConfig, cache: Path | None) -> tuple[RandomPatches, SearchData]:
    """The training patches (augment) and the reference's weight/alpha/selection streams (search)."""
    ds, env = config.dataset, config.env
    images = open_training_images(ds.files_list, ds.scale)
    per_epoch = epoch_patch_count(images, ds.batch_size, ds.patches_per_epoch, ds.debug_mode)
    patches = RandomPatches(images, ds.crop_size * ds.scale, per_epoch, seed=env.seed, cache_dir=cache)
    args = (ds.crop_size, ds.batch_size, ds.search_subsample, env.seed, per_epoch, cache, env.workers)
    return patches, make_search_data(images, *args, debug_mode=ds.debug_mode)


def search_stage(config: QuantNASConfig, out: Path, runtime: Runtime) -> dict[str, Any]:
    """Search (or resume, or find done) into `out`; returns the best genotype and its selection L1."""
    _, data = training_data(config, runtime.cache)
    torch.manual_seed(config.env.seed)
    supernet = build_supernet(config.arch, config.search)
    if config.search.load_path:
        load_supernet_weights(supernet, config.search.load_path)
    settings = recorded(config, "dataset", "arch", "env", "search")
    folder = RunFolder(out, runtime.quiet).open(settings, MAY_CHANGE)

    def search() -> dict[str, Any]:
        env, bitops_of = config.env, genotype_bitops(config.arch)
        kwargs = {"seed": env.seed, "device": runtime.device, "print_freq": env.print_freq, "log": folder.log}
        result = run_search(supernet, data, config.search, out, bitops_of=bitops_of, **kwargs)
        plot_alpha_history(result.history, out / env.im_dir / "alphas.png")
        return {"best_genotype": str(result.best_genotype), "best_loss": result.best_loss}

    result = folder.stage("search", search)
    folder.log(f"best genotype (selection L1 {result['best_loss']:.4f}): {result['best_genotype']}")
    return result


def augment_stage(config: QuantNASConfig, genotype: Genotype_SR, out: Path, runtime: Runtime) -> dict:
    """Train `genotype` from scratch into `out` (resumes from out/last.pt; a finished run is skipped)."""
    patches, data = training_data(config, runtime.cache)
    act_bits = config.train.act_bits
    build_network(genotype, **config.arch.network_args(), act_bits=act_bits)  # a misfit fails here
    settings = recorded(config, "dataset", "arch", "env", "train", genotype=str(genotype))
    folder = RunFolder(out, runtime.quiet).open(settings, MAY_CHANGE_TRAIN)

    def train() -> dict[str, Any]:
        write_text_atomic(out / "genotype.gen", str(genotype) + "\n")
        val = stack_patches(data.selection)
        folder.log(f"augment: {len(patches)} patches per epoch, {len(val)} validation patches, {genotype}")
        run = {"out_dir": out, "device": str(runtime.device), "progress": not runtime.quiet}
        net = {**config.arch.network_args(), "batch_size": config.dataset.batch_size, "seed": config.env.seed}
        net["act_bits"] = act_bits
        result = train_genotype(genotype, patches, val, config.train, **net, **run)
        folder.log(f"augment: best validation PSNR {result.best_psnr:.3f} dB (quantised network)")
        return {"best_psnr": result.best_psnr, "seconds": result.seconds}

    return folder.stage("augment", train)


def validate_stage(weights: Path, sets: list[str], scale: int | None, out: Path, runtime: Runtime) -> dict:
    """Test a trained genotype into `out` (validation.json/.md); other `sets` run it again."""
    net = load_trained_network(weights)
    if scale not in (None, net.scale):
        raise ValueError(f"--scale {scale}, but {weights} holds a x{net.scale} network")
    notes: list[str] = []
    test_sets = open_test_sets(sets, net.scale, notes)  # a named set that is not found is an error
    folder = RunFolder(out, runtime.quiet).open({"weights": path_setting(weights)})

    def validate() -> dict[str, Any]:
        for note in notes:
            folder.log(note)
        summary, table = validation_report(net, test_sets, runtime.device)
        summary = {"weights": str(weights), **summary, "notes": notes}
        write_text_atomic(out / "validation.json", json.dumps(summary, indent=2) + "\n")
        write_text_atomic(out / "validation.md", table.to_markdown() + "\n")
        folder.log(table.to_markdown())
        folder.log(", ".join(f"{k} {v:.3e}" for k, v in summary.items() if k.startswith("bitops_")))
        return summary

    return folder.stage("validate", validate, settings={"sets": sets})
