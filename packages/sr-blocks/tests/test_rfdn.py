"""RFDN: official parameter counts, the RFDB and ESA."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.rfdn import ESA, RFDB

# Parameters of the official RFDN (njulj/RFDN, RFDN.py + block.py, nf=50, 4 RFDBs), obtained by
# instantiating it and summing p.numel(). The official class always builds a x4 upsampler; the x2
# value comes from the same instance with its upsampler rebuilt by its own
# pixelshuffle_block(50, 3, upscale_factor=2).
OFFICIAL_PARAMS = {
    ("rfdn", 2): 417_212,
    ("rfdn", 4): 433_448,
}


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale):
    assert (
        sum(p.numel() for p in create_model(name, scale=scale).parameters()) == OFFICIAL_PARAMS[name, scale]
    )


def test_rfdb_widths():
    block = RFDB(50)
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in block.distill] == [(50, 25, (1, 1))] * 3
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in block.refine] == [(50, 50, (3, 3))] * 3
    assert block.fuse.in_channels == 100 and block.esa.reduce.out_channels == 12


@pytest.mark.parametrize("size", [(48, 40), (11, 13), (3, 4)])
def test_esa_is_a_mask_in_0_1_on_any_size(size):
    esa = ESA(16)
    x = torch.randn(2, 16, *size)
    with torch.no_grad():
        y = esa(x)
    assert y.shape == x.shape
    ratio = y / x
    assert ((ratio > 0) & (ratio < 1)).all()


def test_esa_pools_7x7_with_stride_3_on_large_maps():
    esa = ESA(16)
    sizes = []
    esa.conv_pooled.register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:])))
    esa(torch.rand(1, 16, 48, 40))
    # 48x40 -> stride-2 3x3 valid conv: 23x19 -> max pool 7, stride 3: 6x5
    assert sizes == [(6, 5)]
