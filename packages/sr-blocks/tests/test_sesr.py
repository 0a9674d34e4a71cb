"""SESR: parameter counts equal the official implementation's and the paper's; modes and shapes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sr_blocks import create_model, list_models
from sr_blocks.sesr import SESR, LinearBlock
from sr_reparam import deploy

# Official SESR (github.com/ARM-software/sesr, TensorFlow, models/sesr.py at its newest commit),
# Y channel (1 in, scale**2 out). "training": trainable variables of `SESR(...)` built with
# LinearBlock_c (collapsed, the default) after one call on a 1x24x24x1 input, with the flags
# `--m M --int_features F --feature_size P --scale S` (LinearBlock_e gives the same count).
# "conv": weights of the collapsed inference kernels; "prelu": the PReLU slopes (one per channel
# per block). Our exact collapse adds one bias per output channel of each block (see sesr.py).
# The paper's sizes count "conv" only: SESR-M5 x2 13.52K, x4 18.32K; M3 8.91K, M7 18.13K,
# M11 27.34K, XL 105.37K (x2).
OFFICIAL_PARAMS = {
    ("sesr_m3", 2): {"training": 238_196, "conv": 8_912, "prelu": 48},
    ("sesr_m3", 4): {"training": 241_280, "conv": 13_712, "prelu": 48},
    ("sesr_m5", 2): {"training": 320_692, "conv": 13_520, "prelu": 80},
    ("sesr_m5", 4): {"training": 323_776, "conv": 18_320, "prelu": 80},
    ("sesr_m7", 2): {"training": 403_188, "conv": 18_128, "prelu": 112},
    ("sesr_m7", 4): {"training": 406_272, "conv": 22_928, "prelu": 112},
    ("sesr_m11", 2): {"training": 142_324, "conv": 27_344, "prelu": 176},
    ("sesr_m11", 4): {"training": 143_104, "conv": 32_144, "prelu": 176},
    ("sesr_xl", 2): {"training": 281_956, "conv": 105_376, "prelu": 352},
    ("sesr_xl", 4): {"training": 282_736, "conv": 114_976, "prelu": 352},
    ("sesr", 2): {"training": 320_692, "conv": 13_520, "prelu": 80},  # defaults = M5
    ("sesr", 4): {"training": 323_776, "conv": 18_320, "prelu": 80},
}


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def conv_weights(model: nn.Module) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))


def conv_biases(model: nn.Module) -> int:
    return sum(m.bias.numel() for m in model.modules() if isinstance(m, nn.Conv2d) and m.bias is not None)


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
@pytest.mark.parametrize("mode", ["collapsed", "expanded"])
def test_parameter_counts_match_official(name, scale, mode):
    official = OFFICIAL_PARAMS[name, scale]
    model = create_model(name, scale=scale, in_channels=1, out_channels=1, training_mode=mode)
    assert trainable(model) == official["training"]
    if mode == "collapsed":
        deployed = deploy(model)
        assert conv_weights(deployed) == official["conv"]
        assert trainable(deployed) == official["conv"] + conv_biases(deployed) + official["prelu"]


def test_sesr_m5_x2_has_the_published_13_52k_inference_parameters():
    model = create_model("sesr_m5", scale=2, in_channels=1, out_channels=1)
    assert trainable(model) == 320_692  # expanded weights (what training updates)
    deployed = deploy(model)
    assert conv_weights(deployed) == 13_520
    assert conv_biases(deployed) == 16 + 5 * 16 + 4
    assert trainable(deployed) == 13_700  # + 100 biases + 5 x 16 PReLU slopes


def test_every_registered_sesr_is_covered():
    assert {name for name, _ in OFFICIAL_PARAMS} == set(list_models("sesr*"))


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("mode", ["collapsed", "expanded"])
def test_forward_shape_range_and_backward(scale, mode):
    model = SESR(scale, m=2, feature_size=16, training_mode=mode)
    y = model(torch.rand(2, 3, 7, 9))
    assert y.shape == (2, 3, 7 * scale, 9 * scale)
    assert 0.0 <= y.min() and y.max() <= 1.0
    model.conv_first(torch.rand(1, 3, 5, 5)).square().mean().backward()
    assert model.conv_first.expand.weight.grad is not None


def test_modes_agree_with_biases_and_switch_everywhere():
    torch.manual_seed(0)
    model = SESR(2, m=2, feature_size=16).double()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                module.bias.uniform_(-0.5, 0.5)
    x = torch.rand(1, 3, 9, 7, dtype=torch.float64)
    collapsed = model(x)
    model.training_mode = "expanded"
    assert all(b.training_mode == "expanded" for b in model.modules() if isinstance(b, LinearBlock))
    torch.testing.assert_close(model(x), collapsed, atol=1e-12, rtol=0)


def test_bias_free_blocks_deploy_without_biases():
    deployed = deploy(SESR(2, m=2, feature_size=16, bias=False))
    assert conv_biases(deployed) == 0


def test_bad_mode_and_residual_are_rejected():
    with pytest.raises(ValueError, match="training_mode"):
        SESR(2, training_mode="folded")
    with pytest.raises(ValueError, match="in == out"):
        LinearBlock(3, 4, 3, 8, residual=True)
