"""EDSR: official parameter counts, the fixed mean shift, residual scaling."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.edsr import EDSR, ResBlock
from sr_blocks.layers import DIV2K_RGB_MEAN, MeanShift, image_mean

# Trainable parameters of the official EDSR (sanghyun-son/EDSR-PyTorch, src/model/edsr.py and
# common.py, rgb_range=1, n_colors=3), obtained by instantiating it and summing p.numel() over
# parameters with requires_grad (its MeanShift convs are frozen).
OFFICIAL_PARAMS = {
    ("edsr_baseline", 2): 1_369_859,
    ("edsr_baseline", 4): 1_517_571,
    ("edsr", 2): 40_729_603,
    ("edsr", 4): 43_089_923,
}


def trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale):
    with torch.device("meta"):
        model = create_model(name, scale=scale)
    assert trainable(model) == OFFICIAL_PARAMS[name, scale]


def test_mean_shift_has_no_parameters_and_is_undone_at_the_output():
    model = EDSR(scale=2, num_feat=8, num_block=2)
    assert sum(p.numel() for p in model.sub_mean.parameters()) == 0
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        y = model(torch.rand(1, 3, 4, 5))
    # With every conv zeroed the network outputs just the added-back mean.
    torch.testing.assert_close(y, torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1).expand(1, 3, 8, 10))


def test_mean_shift_subtracts_then_adds():
    x = torch.rand(2, 3, 4, 4)
    sub, add = MeanShift(DIV2K_RGB_MEAN, sign=-1), MeanShift(DIV2K_RGB_MEAN, sign=1)
    torch.testing.assert_close(sub(x), x - torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1))
    torch.testing.assert_close(add(sub(x)), x)
    with pytest.raises(ValueError, match="sign"):
        MeanShift(DIV2K_RGB_MEAN, sign=0)


def test_means_for_other_channel_counts():
    assert image_mean(3) == DIV2K_RGB_MEAN
    # The luma of the DIV2K mean as MATLAB's rgb2ycbcr computes Y, in [0, 1].
    assert image_mean(1) == pytest.approx((0.437901,), abs=1e-6)
    assert image_mean(4) == pytest.approx((sum(DIV2K_RGB_MEAN) / 3,) * 4)
    model = create_model("edsr_baseline", in_channels=1, out_channels=1)
    assert model.sub_mean.mean.flatten().tolist() == pytest.approx(image_mean(1))


def test_res_scale_scales_the_residual_branch():
    block = ResBlock(4, res_scale=0.1)
    x = torch.rand(1, 4, 5, 5)
    with torch.no_grad():
        branch = block.conv2(block.act(block.conv1(x)))
        torch.testing.assert_close(block(x), x + 0.1 * branch)


def test_presets():
    baseline = create_model("edsr_baseline")
    assert len(baseline.body) == 16 and baseline.conv_first.out_channels == 64
    assert baseline.body[0].res_scale == 1.0
    with torch.device("meta"):
        full = create_model("edsr")
    assert len(full.body) == 32 and full.conv_first.out_channels == 256
    assert full.body[0].res_scale == 0.1


@pytest.mark.parametrize("res_scale", [1.0, 0.1])
def test_res_block_equals_input_plus_scaled_branch_with_gradients(res_scale):
    torch.manual_seed(0)
    block = ResBlock(6, res_scale=res_scale).double()
    x = torch.rand(2, 6, 5, 7, dtype=torch.float64, requires_grad=True)
    ours = block(x)
    reference = x + block.conv2(torch.relu(block.conv1(x))) * res_scale
    torch.testing.assert_close(ours, reference, atol=1e-12, rtol=0)
    params = [x, *block.parameters()]
    for got, want in zip(
        torch.autograd.grad(ours.square().sum(), params),
        torch.autograd.grad(reference.square().sum(), params),
        strict=True,
    ):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=0)
