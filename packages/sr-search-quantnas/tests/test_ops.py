"""Operations by name: the reference's shapes, parameter counts and BitOps (MACs x b x b)."""

from __future__ import annotations

import pytest
import torch

from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.network import build_op
from sr_search_quantnas.ops import REFERENCE_OPS, UnknownOperationError, op_spec

C = 36  # c_fixed of the reference
H, W = 5, 7


def expected_macs_per_pixel(name: str, c: int) -> int:
    """Hand-written MACs per pixel of each reference op between c and c channels (c_fixed = c)."""
    table = {
        "conv_5x1_1x5": 2 * c * c * 5,
        "conv_3x1_1x3": 2 * c * c * 3,
        "simple_1x1": c * c,
        "simple_3x3": c * c * 9,
        "simple_5x5": c * c * 25,
        "simple_9x9": c * c * 81,
        "simple_1x1_grouped_full": c,
        "simple_3x3_grouped_full": c * 9,
        "simple_5x5_grouped_full": c * 25,
        "simple_1x1_grouped_3": c * c // 3,
        "simple_3x3_grouped_3": c * c // 3 * 9,
        "simple_5x5_grouped_3": c * c // 3 * 25,
        "DWS_3x3": c * 4 * c + c * 4,  # 1x1 to 4c, then grouped 1x1 (4 inputs per output)
        "DWS_5x5": c * 4 * c + c * 4,
        "growth2_3x3": 2 * (c * 2 * c * 9),
        "growth2_5x5": 2 * (c * 2 * c * 25),
        "skip_connect": 0,
        "zero": 0,
    }
    if name in table:
        return table[name]
    _, kernel, reduce, *groups = name.split("_")
    k, r = int(kernel[0]), int(reduce)
    g = int(groups[0][1:]) if groups else 1
    n = c // r
    return (c * n + n * n + n * c) * k * k // g


BUILDABLE = [name for name in REFERENCE_OPS if name not in ("decenc_3x3_8_g3", "decenc_5x5_8_g3")]


@pytest.mark.parametrize("name", BUILDABLE)
@pytest.mark.parametrize("bits", [4, 32])
def test_bitops_equals_formula(name: str, bits: int) -> None:
    torch.manual_seed(0)
    op = build_op(name, bits, C, C, C)
    x = torch.randn(1, C, H, W)
    assert op(x).shape == (1, C, H, W)
    expected = expected_macs_per_pixel(name, C) * H * W
    assert op_spec(name, C, C, C).macs(H, W) == expected
    if expected:
        report = bitops(op, (H, W), in_channels=C)
        assert report.macs == expected
        assert report.total == expected * bits * bits


@pytest.mark.parametrize("name", BUILDABLE)
def test_parameter_count_equals_macs_per_pixel(name: str) -> None:
    op = build_op(name, 8, C, C, C)
    weights = sum(p.numel() for n, p in op.named_parameters() if n.endswith("conv.weight"))
    assert weights == expected_macs_per_pixel(name, C)


def test_first_and_last_layer_shapes() -> None:
    assert op_spec("simple_5x5_grouped_3", 3, 36, 36).convs[0].groups == 3
    assert [c.out_channels for c in op_spec("growth2_3x3", 3, 36, 36).convs] == [72, 36]
    assert [(c.in_channels, c.out_channels) for c in op_spec("conv_3x1_1x3", 36, 48, 36).convs] == [
        (36, 36),
        (36, 48),
    ]


@pytest.mark.parametrize(
    ("name", "c_in", "c_out", "message"),
    [
        ("decenc_3x3_8_g3", 36, 36, "cannot have 3 groups"),
        ("DWS_3x3", 36, 48, "DWS outputs C_in"),
        ("skip_connect", 3, 36, "needs C_in == C_out"),
        ("decenc_3x3_2", 3, 36, "C_in // 2 == C_fixed // 2"),
    ],
)
def test_channel_mismatch_errors(name: str, c_in: int, c_out: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        op_spec(name, c_in, c_out, 36)


@pytest.mark.parametrize("name", ["simple_3x5", "simple_4x4", "conv_3x3", "sep_conv_3x3", "", "SIMPLE_3x3"])
def test_unknown_names_list_the_known_ones(name: str) -> None:
    with pytest.raises(UnknownOperationError) as info:
        op_spec(name, 36, 36, 36)
    assert "simple_3x3" in str(info.value) and "decenc_3x3_2_g3" in str(info.value)


def test_zero_outputs_zeros_and_identity_passes_through() -> None:
    x = torch.randn(1, 6, 4, 4)
    assert torch.equal(build_op("zero", 8, 6, 6, 6)(x), torch.zeros_like(x))
    assert torch.equal(build_op("skip_connect", 8, 6, 6, 6)(x), x)
