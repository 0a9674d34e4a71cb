"""FSRCNN and ESPCN: parameter counts from the papers' layer formulas, shapes, options."""

import pytest
import torch

from sr_blocks import create_model
from sr_blocks.small import ESPCN, FSRCNN


def fsrcnn_params(c, d=56, s=12, m=4):
    """FSRCNN(d, s, m) on c channels (Dong et al. 2016, Sec. 3): weights, biases, PReLU slopes."""
    weights = 25 * c * d + d * s + 9 * m * s * s + s * d + 81 * d * c
    biases = d + s + m * s + d + c
    slopes = d + s + m * s + d
    return weights, biases, slopes


def espcn_params(c, r):
    """ESPCN (Shi et al. 2016): (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3 to c*r^2 channels."""
    return 25 * c * 64 + 64 + 9 * 64 * 32 + 32 + 9 * 32 * c * r * r + c * r * r


# There is no single official implementation of either; the counts are the papers' layer formulas
# above evaluated for RGB (c=3), with biases and per-channel PReLU slopes. The FSRCNN paper's own
# figure is for one channel and weights only: 12,464 (PAPER_FSRCNN_WEIGHTS).
OFFICIAL_PARAMS = {
    ("fsrcnn", 2): sum(fsrcnn_params(3)),
    ("fsrcnn", 4): sum(fsrcnn_params(3)),
    ("espcn", 2): espcn_params(3, 2),
    ("espcn", 4): espcn_params(3, 4),
}
PAPER_FSRCNN_WEIGHTS = 12_464


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_formula_values():
    assert OFFICIAL_PARAMS == {
        ("fsrcnn", 2): 24_683,
        ("fsrcnn", 4): 24_683,
        ("espcn", 2): 26_796,
        ("espcn", 4): 37_200,
    }


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_the_papers(name, scale):
    assert count(create_model(name, scale=scale)) == OFFICIAL_PARAMS[name, scale]


def test_fsrcnn_weights_match_the_paper_count_on_y():
    model = create_model("fsrcnn", in_channels=1, out_channels=1)
    weights = sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight") and p.dim() == 4)
    assert weights == PAPER_FSRCNN_WEIGHTS
    assert count(model) == sum(fsrcnn_params(1))


@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("r", [2, 3, 4])
def test_espcn_matches_formula(c, r):
    assert count(ESPCN(r, c, c)) == espcn_params(c, r)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_fsrcnn_last_layer_is_a_9x9_deconvolution_with_stride_scale(scale):
    model = FSRCNN(scale)
    assert isinstance(model.conv_last, torch.nn.ConvTranspose2d)
    assert model.conv_last.kernel_size == (9, 9) and model.conv_last.stride == (scale, scale)
    assert model(torch.rand(1, 3, 7, 8)).shape == (1, 3, 7 * scale, 8 * scale)
    assert sum(isinstance(m, torch.nn.PReLU) for m in model.modules()) == 4 + 3


def test_fsrcnn_deconvolution_is_centred_for_odd_scale():
    model = FSRCNN(3, 1, 1, d=1, s=1, m=0)
    with torch.no_grad():
        model.conv_last.weight.zero_()
        model.conv_last.weight[0, 0, 4, 4] = 1.0
        model.conv_last.bias.zero_()
        feat = torch.zeros(1, 1, 5, 5)
        feat[0, 0, 2, 2] = 1.0
        y = model.conv_last(feat)
    # LR pixel 2 covers HR pixels 6, 7, 8: the kernel centre lands on the middle one.
    assert torch.nonzero(y[0, 0]).tolist() == [[7, 7]]


def test_espcn_activation_choice():
    assert isinstance(create_model("espcn").conv_first[1], torch.nn.Tanh)
    assert isinstance(create_model("espcn", act="relu").body[1], torch.nn.ReLU)
    with pytest.raises(ValueError, match="act must be one of"):
        create_model("espcn", act="gelu")
