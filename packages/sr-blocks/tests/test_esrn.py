"""ESRN (ESR_EA): exact parameter counts, gene parsing, the three efficient blocks, x3 and odd sizes."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.esrn import (
    ESRN,
    ContextualRDB,
    Gene,
    GroupRDB,
    ShrinkRDB,
    block_from_gene,
    format_gene,
    parse_gene,
    parse_genes,
)
from sr_blocks.layers import channel_shuffle

# Parameters of vega's ESRN (huawei-noah/vega, vega/networks/erdb_esr.py; G0=32, convs without
# bias, the vega default), obtained by instantiating that file with torch stand-ins for vega's
# thin `ops` wrappers and summing p.numel(). ("esrn", s) is the registered default gene list.
OFFICIAL_PARAMS = {
    (("S_4_16_32",), 2): 63_208,
    (("S_4_16_32",), 4): 109_504,
    (("G_4_16_32",), 2): 62_056,
    (("G_4_16_32",), 4): 108_352,
    (("C_4_16_32",), 2): 61_288,
    (("C_4_16_32",), 4): 107_584,
    (("G_8_16_16",), 2): 76_264,
    (("G_8_16_16",), 4): 122_560,
    (("C_8_16_48",), 2): 80_296,
    (("C_8_16_48",), 4): 126_592,
    (("S_8_16_24",), 2): 80_488,
    (("S_8_16_24",), 4): 126_784,
    ("esrn", 2): 516_488,
    ("esrn", 4): 562_784,
}

SEARCHED_EXAMPLE = [  # vega's ESR_EA docs: "an example of the searched"
    "G_8_16_24",
    "C_8_16_16",
    "G_4_16_24",
    "G_8_16_16",
    "S_4_24_32",
    "C_8_16_48",
    "S_4_16_24",
    "G_6_16_24",
    "G_8_16_16",
    "C_8_16_24",
    "S_8_16_16",
    "S_8_16_24",
    "S_8_16_32",
    "S_6_16_16",
    "G_6_16_64",
    "G_8_16_16",
    "S_8_16_32",
]


def params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("genes", "scale"), sorted(OFFICIAL_PARAMS, key=str))
def test_parameter_counts_match_vega(genes, scale):
    model = create_model("esrn", scale=scale) if genes == "esrn" else ESRN(scale, list(genes))
    assert params(model) == OFFICIAL_PARAMS[genes, scale]


def test_default_genes_are_the_searched_example():
    model = create_model("esrn")
    assert model.genes == SEARCHED_EXAMPLE
    assert all(conv.bias is None for conv in model.modules() if isinstance(conv, torch.nn.Conv2d))


def test_bias_option_adds_biases():
    assert params(ESRN(2, ["S_4_16_32"], bias=True)) > params(ESRN(2, ["S_4_16_32"]))


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("gene", ["S_4_16_32", "G_6_16_24", "C_6_8_16"])
@pytest.mark.parametrize("size", [(11, 13), (3, 1)])
def test_every_block_every_scale_any_size(gene, scale, size):
    model = ESRN(scale, ["G_4_8_16", gene])
    with torch.no_grad():
        y = model(torch.rand(2, 3, *size))
    assert y.shape == (2, 3, size[0] * scale, size[1] * scale)


def test_contextual_block_on_odd_size_matches_replicate_padded_even_input():
    block = ContextualRDB(16, 16, 16, 4)
    x = torch.rand(1, 16, 7, 9)
    padded = torch.nn.functional.pad(x, (0, 1, 0, 1), mode="replicate")
    with torch.no_grad():
        expected = block.transform(padded)[..., :7, :9]
        torch.testing.assert_close(block.transform(x), expected)


@pytest.mark.parametrize("text", ["S_4_16_32", "G_8_16_24", "C_8_16_16", "C_3_24_8"])
def test_genes_round_trip_through_text(text):
    gene = parse_gene(text)
    assert format_gene(gene) == text == str(gene)
    assert parse_gene(str(gene)) == gene


def test_gene_lists_parse_from_text():
    expected = [Gene("S", 4, 16, 32), Gene("C", 8, 16, 16)]
    assert parse_genes("['S_4_16_32', 'C_8_16_16']") == expected
    assert parse_genes("S_4_16_32, C_8_16_16") == expected
    assert parse_genes(expected) == expected
    assert ESRN(2, str(SEARCHED_EXAMPLE)).genes == SEARCHED_EXAMPLE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("X_4_16_32", "block type 'X'"),
        ("S_4_16", "expected 4 fields"),
        ("S_4_16_32_1", "expected 4 fields"),
        ("S_four_16_32", "convs must be a positive integer"),
        ("G_4_0_32", "growth must be a positive integer"),
        ("C_4_16_-3", "out must be a positive integer"),
        ("G_4_6_32", "multiple of 4"),  # 4 convs use 4 groups
        ("C_4_6_32", "multiple of 4"),  # (4+1)*6 = 30 channels cannot shuffle by 2
        ("", "expected 4 fields"),
        ("S_4_16_\u00b3\u00b2", "out must be a positive integer"),  # superscript digits
    ],
)
def test_malformed_genes_are_value_errors_naming_gene_and_problem(text, reason):
    with pytest.raises(ValueError) as err:
        parse_gene(text)
    assert repr(text) in str(err.value) and reason in str(err.value)


@pytest.mark.parametrize(
    ("gene", "reason"),
    [
        (Gene("G", 4, 6, 32), "multiple of 4"),
        (Gene("X", 4, 16, 32), "block type 'X'"),
        (Gene("S", 0, 16, 8), "convs"),
    ],
)
def test_gene_objects_are_checked_like_text(gene, reason):
    for build in (lambda: parse_genes([gene]), lambda: block_from_gene(gene, 16), lambda: ESRN(2, [gene])):
        with pytest.raises(ValueError, match=reason) as err:
            build()
        assert repr(format_gene(gene)) in str(err.value)


def test_malformed_gene_lists():
    with pytest.raises(ValueError, match="at least one gene"):
        parse_genes([])
    with pytest.raises(ValueError, match="not a list of quoted genes"):
        parse_genes("[S_4_16_32]")
    with pytest.raises(ValueError, match="'S_4_x_32'"):
        create_model("esrn", genes=["S_4_16_32", "S_4_x_32"])
    with pytest.raises(ValueError, match="G0 must be a multiple of 4"):
        ESRN(2, ["S_4_16_32"], G0=30)


@pytest.mark.parametrize(
    ("in_channels", "out", "skip"),
    [(32, 32, "input"), (24, 16, "projected input"), (32, 48, "1x1 projection"), (16, 32, "1x1 projection")],
)
def test_block_skip_connections(in_channels, out, skip):
    block = block_from_gene(f"S_4_16_{out}", in_channels)
    assert isinstance(block.conv_in, torch.nn.Identity) == (in_channels == 16)
    assert (block.conv_skip is not None) == (skip == "1x1 projection")
    x = torch.rand(1, in_channels, 5, 6)
    with torch.no_grad():
        projected = block.conv_in(x)
        expected = {"input": x, "projected input": projected}.get(skip)
        if expected is None:
            expected = block.conv_skip(x)
        torch.testing.assert_close(block(x), expected + block.transform(projected))


def test_group_block_groups_and_shuffles():
    block = GroupRDB(16, 16, 8, 6)
    assert [layer.conv.groups for layer in block.layers] == [1, 2, 2, 4, 4, 4]
    assert [layer.shuffle_groups for layer in block.layers] == [1, 2, 3, 4, 5, 6]
    assert [layer.conv.in_channels for layer in block.layers] == [8, 16, 24, 32, 40, 48]


def test_shrink_block_squeezes_after_every_conv():
    block = ShrinkRDB(16, 24, 16, 3)
    assert [(s.in_channels, s.out_channels) for s in block.shrinks] == [(32, 16), (48, 16), (64, 24)]


def test_contextual_block_reuses_each_conv_three_times():
    block = ContextualRDB(16, 16, 16, 2)
    calls = []
    block.convs[0].register_forward_hook(lambda *_: calls.append(0))
    block.convs[1].register_forward_hook(lambda *_: calls.append(1))
    block(torch.rand(1, 16, 6, 6))
    assert calls == [0, 0, 0, 1, 1, 1]
    assert block.shrinks[-1].in_channels == 3 * 16 // 4


def _group_block_by_concatenation(block: GroupRDB, x: torch.Tensor) -> torch.Tensor:
    """GroupRDB.transform as vega computes it: concatenate, channel-shuffle the whole stack, conv."""
    stack = x
    for layer in block.layers:
        new = layer.act(layer.conv(channel_shuffle(stack, layer.shuffle_groups)))
        stack = torch.cat([stack, new], dim=1)
    return block.fuse(stack)


@pytest.mark.parametrize("convs", [1, 2, 5])
def test_group_block_shuffles_from_the_list_exactly_like_concatenate_then_shuffle(convs):
    """Outputs and gradients (input and every weight) of the stacked shuffle equal the plain one."""
    torch.manual_seed(0)
    block = GroupRDB(12, 20, 8, convs, bias=True).double()
    x = torch.rand(2, 8, 7, 9, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(2, 20, 7, 9, dtype=torch.float64)
    params = [x, *block.layers.parameters(), *block.fuse.parameters()]
    ours = block.transform(x)
    reference = _group_block_by_concatenation(block, x)
    torch.testing.assert_close(ours, reference, atol=1e-12, rtol=0)
    grads = torch.autograd.grad((ours * weights).sum(), params)
    expected = torch.autograd.grad((reference * weights).sum(), params)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
