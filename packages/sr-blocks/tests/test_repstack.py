"""Re-parameterisable plain stacks: genes parse and print back, the hand-designed presets are the
registry's networks, and every network of the space deploys exactly to plain convs."""

from __future__ import annotations

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.repstack import REPSTACK_PRESETS, RepVGGBlock, parse_repstack_genes
from sr_reparam import assert_plain, deploy

MIXED = [
    "bicubic+long+center+clip",
    "repk5_12_relu",
    "lin64_12_prelu",
    "conv_20_none",
    "ecb_12_prelu",
    "lin32k5",
]


# The default genes are ECBSR-M4C16's: the official ECBSR code's counts for RGB (training, deployed).
OFFICIAL_PARAMS = {("repstack", 2, 3): (44_604, 11_548)}


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("name", sorted(REPSTACK_PRESETS))
def test_hand_designed_networks_are_points_of_the_space(name: str) -> None:
    torch.manual_seed(0)
    reference = create_model(name, scale=2)
    ours = create_model("repstack", scale=2, genes=REPSTACK_PRESETS[name])
    assert count(ours) == count(reference)  # the training form, expansion included
    with torch.no_grad():  # the same parameters, in the same order, give the same function
        for mine, theirs in zip(ours.parameters(), reference.parameters(), strict=True):
            theirs.add_(0.02 * torch.randn_like(theirs))
            mine.copy_(theirs)
    x = torch.rand(2, 3, 19, 23)
    ours_deployed, reference_deployed = deploy(ours), deploy(reference)
    assert count(ours_deployed) == count(reference_deployed)
    assert torch.allclose(ours_deployed(x), reference_deployed(x), atol=1e-6)


@pytest.mark.parametrize(("name", "scale", "colors"), sorted(OFFICIAL_PARAMS))
def test_default_network_has_the_official_counts(name: str, scale: int, colors: int) -> None:
    model = create_model(name, scale=scale, in_channels=colors, out_channels=colors)
    assert (count(model), count(deploy(model))) == OFFICIAL_PARAMS[name, scale, colors]


@pytest.mark.parametrize("mode", ["collapsed", "expanded"])
def test_a_mixed_network_trains_and_deploys_exactly(mode: str) -> None:
    torch.manual_seed(1)
    model = create_model("repstack", scale=2, genes=MIXED, training_mode=mode)
    model.train()
    loss = model(torch.rand(2, 3, 12, 12)).abs().mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    deployed = deploy(model)
    assert_plain(deployed)
    x = torch.rand(1, 3, 17, 21)
    assert (model.eval()(x) - deployed(x)).abs().max() <= 1e-5
    assert deployed(x).shape == (1, 3, 34, 42)


def test_repvgg_block_expanded_and_collapsed_agree() -> None:
    block = RepVGGBlock(8, 8, 3, identity=True, training_mode="expanded").train()
    x = torch.rand(1, 8, 9, 9)
    expanded = block(x)
    block.training_mode = "collapsed"
    assert torch.allclose(block(x), expanded, atol=1e-6)
    assert torch.allclose(block.reparameterize()(x), expanded, atol=1e-6)


def test_genes_print_back_in_canonical_form() -> None:
    spec = parse_repstack_genes("clip+nearest, ecb_16_prelu, rep_16_relu, conv", scale=2)
    assert spec.texts() == ["nearest+clip", "ecb_16_prelu", "rep_16_relu", "conv"]
    assert spec.tail.width == 12
    assert create_model("repstack", genes=spec.texts()).genes == spec.texts()


@pytest.mark.parametrize(
    ("genes", "named"),
    [
        (["nearest", "ecb_16_prelu"], "a global gene, a head and a tail"),
        (["wide", "ecb_16_prelu", "ecb"], "unknown ['wide']"),
        (["nearest+bicubic", "ecb_16_prelu", "ecb"], "not both"),
        (["plain", "ecbk5_16_prelu", "ecb"], "ecbk5_16_prelu"),
        (["plain", "lin_16_prelu", "ecb"], "expansion width"),
        (["plain", "conv_16_tanh", "ecb"], "activation 'tanh'"),
        (["plain", "conv_x_relu", "ecb"], "width 'x'"),
        (["long", "conv_16_relu", "conv_8_relu", "ecb"], "long residual"),
    ],
)
def test_a_bad_gene_is_named(genes: list[str], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse_repstack_genes(genes)
