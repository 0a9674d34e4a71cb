"""IMDN-RTC and IMDN_AS: official parameter counts, IMDN-RTC's block, IMDN_AS's sizes and scales."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.imdn import IMDB, IMDN, IMDNAS

# Parameters of the official classes (Zheng222/IMDN, model/architecture.py): IMDN_RTC(upscale=s) with
# its defaults (nf=12, num_modules=5) and IMDN_AS() (nf=64, six modules, an x4 head behind two
# stride-2 convs), obtained by instantiating them and summing p.numel(). The checkpoints
# model_RTC.pth and IMDN_AS.pth hold 20,190 and 752,104 values.
OFFICIAL_PARAMS = {
    ("imdn_rtc", 2): 20_190,
    ("imdn_rtc", 3): 21_825,
    ("imdn_rtc", 4): 24_114,
    ("imdn_as", 1): 752_104,
    ("imdn_as", 2): 752_104,
    ("imdn_as", 4): 752_104,
}


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale):
    model = create_model(name, scale=scale)
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name, scale]


def test_plain_imdb_distills_and_fuses_without_attention():
    torch.manual_seed(0)
    block = IMDB(12, attention=False).double()
    assert (block.distilled, block.remaining) == (3, 9)
    assert not any("cca" in name for name, _ in block.named_parameters())
    x = torch.rand(2, 12, 6, 7, dtype=torch.float64)
    act = torch.nn.functional.leaky_relu
    out1 = act(block.conv1(x), 0.05)
    out2 = act(block.conv2(out1[:, 3:]), 0.05)
    out3 = act(block.conv3(out2[:, 3:]), 0.05)
    kept = torch.cat([out1[:, :3], out2[:, :3], out3[:, :3], block.conv4(out3[:, 3:])], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(block(x), x + block.fuse(kept), rtol=0, atol=1e-12)


def test_imdn_as_at_scale_1_is_imdn_at_a_quarter_of_the_size_on_multiples_of_4():
    torch.manual_seed(0)
    model = create_model("imdn_as", scale=1).eval()
    x = torch.rand(1, 3, 24, 32)
    with torch.no_grad():
        assert torch.equal(model(x), IMDN.forward(model, x))


@pytest.mark.parametrize("size", [(21, 30), (23, 25), (5, 6)])
def test_imdn_as_pads_other_sizes_by_repeating_the_edge_and_crops_back(size):
    torch.manual_seed(0)
    model = create_model("imdn_as", scale=1).eval()
    x = torch.rand(1, 3, *size)
    h4, w4 = -(-size[0] // 4) * 4, -(-size[1] // 4) * 4
    padded = torch.nn.functional.pad(x, (0, w4 - size[1], 0, h4 - size[0]), mode="replicate")
    with torch.no_grad():
        assert torch.equal(model(x), IMDN.forward(model, padded)[..., : size[0], : size[1]])


def test_imdn_as_enlarges_by_bicubic_first():
    torch.manual_seed(0)
    model = create_model("imdn_as", scale=3).eval()
    x = torch.rand(1, 3, 8, 12)
    up = torch.nn.functional.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
    with torch.no_grad():
        assert torch.equal(model(x), IMDN.forward(model, up))


def test_imdn_as_takes_any_scale_and_shares_its_weights_across_scales():
    x = torch.rand(1, 3, 10, 12)
    with torch.no_grad():
        assert IMDNAS(scale=2.5).eval()(x).shape == (1, 3, 25, 30)
    for scale in (1, 5, 8):
        assert create_model("imdn_as", scale=scale).state_dict().keys() == IMDNAS(2).state_dict().keys()
    with pytest.raises(ValueError, match="positive scale"):
        IMDNAS(scale=0)
