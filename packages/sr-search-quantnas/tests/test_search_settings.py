"""The settings sections build what they describe: unknown ops refused by key and file, the network
and supernet of the `arch` section, the reference's patch counts (debug mode, fewer than a batch)."""

from __future__ import annotations

import re

import pytest
import torch

from sr_data import PairedImages
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network
from sr_search_quantnas.search import build_supernet, genotype_bitops
from sr_search_quantnas.search_data import epoch_patch_count, reference_tile_count
from sr_search_quantnas.settings import ArchSettings, SearchSettings
from sr_train import ConfigError, section_from_dict

ARCH = {
    "bits": [8, 4],
    "c_fixed": 8,
    "scale": 2,
    "arch_pattern": {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 0},
    "body_cells": 1,
    "skip_mode": False,
    "primitives": {
        "head": ["simple_3x3", "simple_1x1"],
        "body": ["simple_3x3", "simple_1x1"],
        "skip": ["simple_1x1"],
        "upsample": ["simple_3x3"],
        "tail": ["simple_3x3"],
    },
}


def genotype(bits: int):
    return parse_genotype(
        f"Genotype_SR(head=[('simple_3x3', {bits})], body=[('simple_3x3', {bits})], tail=[], "
        f"skip=[('simple_1x1', {bits})], upsample=[('simple_3x3', {bits})])"
    )


def test_an_unknown_operation_is_refused_naming_the_key_and_the_file():
    bad = {**ARCH, "primitives": {**ARCH["primitives"], "body": ["simple_3x3", "simple_4x4"]}}
    with pytest.raises(
        ConfigError, match=r"arch\.primitives\.body: unknown operation 'simple_4x4'.*in q\.yaml"
    ):
        section_from_dict(ArchSettings, bad, "arch", "q.yaml")


def test_the_arch_section_builds_its_network_supernet_and_bitops():
    arch = section_from_dict(ArchSettings, ARCH, "arch")
    net = build_network(genotype(8), **arch.network_args())
    assert net(torch.rand(1, 3, 6, 7)).shape == (1, 3, 12, 14)
    supernet = build_supernet(arch, SearchSettings(quant_noise=True, alpha_selector="gumbel"))
    assert supernet.bits == (8, 4) and supernet.quant_mode == "noise"
    assert supernet(torch.rand(1, 3, 6, 6)).shape == (1, 3, 12, 12)
    count = genotype_bitops(arch)
    assert count(genotype(4), (32, 32)) < count(genotype(8), (32, 32)) < count(genotype(8), (64, 64))


class Sizes(PairedImages):
    """Images that only have sizes (what the patch count looks at)."""

    def __init__(self, *sizes: tuple[int, int]) -> None:
        self.sizes, self.scale = sizes, 2

    def __len__(self) -> int:
        return len(self.sizes)

    def hr_size(self, index: int) -> tuple[int, int]:
        return self.sizes[index]


def test_patches_per_epoch_follow_the_reference_and_debug_mode():
    images = Sizes(
        (340, 270), (199, 500)
    )  # (340-200)//70+1 = 3 rows, (270-200)//70+1 = 2 cols; one too small
    assert reference_tile_count(images) == 6
    assert epoch_patch_count(images, batch_size=4) == 6
    assert epoch_patch_count(images, batch_size=4, requested=40) == 40
    assert epoch_patch_count(images, batch_size=4, requested=40, debug_mode=True) == 8
    with pytest.raises(ConfigError, match=r"dataset\.batch_size 16 is more than the 6 patches per epoch"):
        epoch_patch_count(images, batch_size=16)


def test_arch_act_bits_search_activation_widths_separately():
    arch = section_from_dict(ArchSettings, {**ARCH, "act_bits": [8]}, "arch")
    supernet = build_supernet(arch, SearchSettings())
    assert supernet.act_bits == (8,) and len(supernet.alphas()) == 2 * 4
    assert section_from_dict(ArchSettings, ARCH, "arch").act_bits is None
    for bad in ([8, 5], [], [8, 8]):
        with pytest.raises(
            ConfigError, match=rf"arch\.act_bits must be .*got {re.escape(str(bad))} in q\.yaml"
        ):
            section_from_dict(ArchSettings, {**ARCH, "act_bits": bad}, "arch", "q.yaml")
