"""RDN: official parameter counts and the residual dense block."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.rdn import RDB, RDN

# Trainable parameters of the official RDN (EDSR-PyTorch src/model/rdn.py, RDNconfig 'B': D=16,
# C=8, G=64, G0=64, n_colors=3), obtained by instantiating it (the module layout as reproduced in
# Coloquinte/torchSR, which ports it) and summing p.numel().
OFFICIAL_PARAMS = {
    ("rdn", 2): 22_123_395,
    ("rdn", 4): 22_271_107,
}


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale):
    with torch.device("meta"):
        model = create_model(name, scale=scale)
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name, scale]


def test_rdb_grows_densely_and_fuses_back():
    block = RDB(num_feat=8, growth=4, num_layer=3)
    assert [layer.conv.in_channels for layer in block.layers] == [8, 12, 16]
    assert block.fuse.in_channels == 20 and block.fuse.out_channels == 8
    x = torch.rand(1, 8, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.fuse(block.layers(x)))


def test_global_residual_and_shallow_features():
    model = RDN(scale=2, num_feat=8, growth=4, num_block=2, num_layer=2)
    x = torch.rand(1, 3, 6, 7)
    with torch.no_grad():
        shallow = model.conv_first(x)
        feat = shallow + model.body(model.conv_shallow(shallow))
        torch.testing.assert_close(model(x), model.conv_last(model.upsample(feat)))


def test_x4_upsampler_has_two_stages_at_growth_width():
    with torch.device("meta"):
        model = create_model("rdn", scale=4)
    convs = [m for m in model.upsample if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(64, 256), (64, 256)]
