"""Activation bits searched as a choice of their own (`act_bits`): the mixing of each quantisation
mode against its plain formula, expected BitOps and entropy by hand, derived BitOps, the tied default."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import derive_genotype
from sr_search_quantnas.losses import alpha_entropy
from sr_search_quantnas.mixed import MixedLayer
from sr_search_quantnas.network import build_network
from sr_search_quantnas.ops import op_spec
from sr_search_quantnas.quantizers import hwgq, lsq
from sr_search_quantnas.supernet import Supernet

PATTERN = {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 1}
ONE_OP = {"head": ["simple_3x3"], "body": ["simple_1x1"], "skip": ["simple_1x1"]}
ONE_OP |= {"upsample": ["simple_3x3"], "tail": ["simple_1x1"]}
# MACs of ONE_OP at scale 2, c_fixed 6, a 4x4 LR input: head 6*3*9*16, body and skip 6*6*16,
# upsample 12*6*9*16, tail 3*3*64 (at HR)
MACS = 2592 + 576 + 576 + 10368 + 576  # 14,688


def _chain(convs, x: torch.Tensor, act_bits, act_probs, weight_of) -> torch.Tensor:
    """The convs of one op with inputs mixed over the activation widths and weights from `weight_of`."""
    h = x
    for conv in convs:
        acts = sum(q * hwgq(h, a) for q, a in zip(act_probs, act_bits, strict=True))
        h = F.conv2d(acts, weight_of(conv), padding=conv.spec.padding, groups=conv.spec.groups)
    return h


def test_shared_mode_mixes_weights_by_op_bits_and_inputs_by_activation_bits() -> None:
    torch.manual_seed(0)
    names = ["simple_3x3", "conv_3x1_1x3", "skip_connect", "zero"]
    layer = MixedLayer([op_spec(n, 6, 6, 6) for n in names], (8, 4), "shared", act_bits=(8, 4, 2))
    x = torch.randn(2, 6, 7, 5)
    probs, act_probs = F.softmax(torch.randn(8), -1), F.softmax(torch.randn(3), -1)
    expected = x * probs.view(4, 2)[2].sum()
    for convs, p in zip(layer.ops[:2], probs.view(4, 2)[:2], strict=True):

        def weight_of(conv, p=p):
            mixed = zip(p / p.sum(), conv.scale, (8, 4), strict=True)
            return sum(c * lsq(conv.weight[0], s, b) for c, s, b in mixed)

        expected = expected + p.sum() * _chain(convs, x, (8, 4, 2), act_probs, weight_of)
    ours = layer(x.contiguous(memory_format=torch.channels_last), probs, act_probs)
    assert torch.allclose(ours, expected, atol=1e-5)


def test_separate_mode_sums_every_weight_and_activation_pair() -> None:
    torch.manual_seed(1)
    layer = MixedLayer([op_spec("growth2_3x3", 6, 6, 6)], (8, 2), "separate", act_bits=(8, 4))
    x = torch.randn(1, 6, 5, 5)
    probs, act_probs = F.softmax(torch.randn(2), -1), F.softmax(torch.randn(2), -1)
    expected = torch.zeros_like(x)
    convs = layer.ops[0]
    for b, w_bits in enumerate((8, 2)):
        for a in range(2):
            one_hot = F.one_hot(torch.tensor(a), 2).float()  # inputs at act_bits[a] only

            def weight_of(conv, b=b, w_bits=w_bits):
                return lsq(conv.weight[b], conv.scale[b], w_bits)

            expected = expected + probs[b] * act_probs[a] * _chain(convs, x, (8, 4), one_hot, weight_of)
    assert torch.allclose(layer(x, probs, act_probs), expected, atol=1e-5)


def test_noise_mode_scales_inputs_by_the_activation_choice() -> None:
    torch.manual_seed(2)
    layer = MixedLayer([op_spec("simple_3x3", 6, 6, 6)], (16,), "noise", act_bits=(16, 8))
    x = torch.randn(2, 6, 8, 8)
    w = layer.ops[0][0].weight[0]
    # weights: f = 1/2, a' = 1/(1 + 1/2), so 7/6 W + 16-bit noise; inputs: f_a = 1/3 and all weight on
    # 16 bits, a' = 1/(1 + 1/3), so (1/3 + 3/4) relu(x) = 13/12 relu(x) + 16-bit noise
    plain = F.conv2d(torch.relu(x), w, padding=1) * (7 / 6) * (13 / 12)
    out = layer(x, torch.ones(1), torch.tensor([1.0, 0.0]))
    assert torch.allclose(out, plain, atol=1e-3)


def test_a_layer_refuses_activation_weights_it_does_not_search() -> None:
    tied = MixedLayer([op_spec("simple_3x3", 6, 6, 6)], (8, 4), "shared")
    separate = MixedLayer([op_spec("simple_3x3", 6, 6, 6)], (8, 4), "shared", act_bits=(8,))
    x, probs = torch.randn(1, 6, 4, 4), torch.tensor([0.5, 0.5])
    with pytest.raises(ValueError, match="act_probs"):
        tied(x, probs, torch.ones(1))
    with pytest.raises(ValueError, match="act_probs"):
        separate(x, probs)


def test_expected_bitops_and_table_by_hand() -> None:
    net = Supernet(2, 6, PATTERN, 1, [8, 4], ONE_OP, act_bits=[8, 2])
    # uniform alphas: mean weight bits 6, mean activation bits 5
    assert net.expected_bitops((4, 4)).item() == pytest.approx(MACS * 6 * 5) == 440_640
    one_hot_4 = torch.tensor([0.0, 1.0])
    acts = torch.tensor([0.25, 0.75])  # 0.25 * 8 + 0.75 * 2 = 3.5 activation bits
    probs = [one_hot_4] * 5 + [acts] * 5
    assert net.expected_bitops((4, 4), probs=probs).item() == pytest.approx(MACS * 4 * 3.5) == 205_632
    normalised = net.expected_bitops((4, 4), normalize=True)
    assert normalised.item() == pytest.approx((1 - 1 / 1.25) / (1.25 - 1 / 1.25))
    assert net.bitops_table((4, 4))["head.0"] == {
        ("simple_3x3", 8, 8): 2592 * 64,
        ("simple_3x3", 8, 2): 2592 * 16,
        ("simple_3x3", 4, 8): 2592 * 32,
        ("simple_3x3", 4, 2): 2592 * 8,
    }
    with pytest.raises(ValueError, match="expected 10 weight vectors"):
        net.expected_bitops((4, 4), probs=probs[:5])


def test_expected_bitops_match_the_derived_network(reference_primitives: dict[str, list[str]]) -> None:
    torch.manual_seed(4)
    pattern = {"head": 2, "body": 2, "skip": 1, "upsample": 1, "tail": 2}
    net = Supernet(3, 12, pattern, 2, [8, 4], reference_primitives, act_bits=[8, 4, 2])
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_()
    genotype = derive_genotype(net)
    assert all(len(entry) == 3 for entry in genotype.head + genotype.body + genotype.tail)
    one_hot = [F.one_hot(a.argmax(), a.numel()).float() for a in net.alphas()]
    total = bitops(build_network(genotype, scale=3, c_fixed=12, body_cells=2), (5, 7)).total
    assert int(net.expected_bitops((5, 7), probs=one_hot)) == total
    table = net.bitops_table((5, 7))
    chosen = [getattr(genotype, block)[int(i)] for block, i in (n.split(".") for n in net.layer_names())]
    assert sum(table[name][entry] for name, entry in zip(net.layer_names(), chosen, strict=True)) == total


def test_entropy_and_penalty_cover_the_activation_choice() -> None:
    tied = Supernet(2, 6, PATTERN, 1, [8, 4], ONE_OP)
    separate = Supernet(2, 6, PATTERN, 1, [8, 4], ONE_OP, act_bits=[8, 4, 2])
    assert float(alpha_entropy(tied.alphas())) == pytest.approx(5 * math.log(2))
    assert float(alpha_entropy(separate.alphas())) == pytest.approx(5 * math.log(2) + 5 * math.log(3))
    separate.expected_bitops((4, 4), normalize=True).backward()
    assert all(a.grad is not None and float(a.grad[0]) > float(a.grad[-1]) for a in separate.act_alpha)


@pytest.mark.parametrize("mode", ["shared", "noise", "separate"])
@pytest.mark.parametrize("selector", ["softmax", "hard_gumbel"])
def test_supernet_trains_both_choices(mode: str, selector: str, reference_primitives) -> None:
    torch.manual_seed(3)
    net = Supernet(
        2,
        6,
        PATTERN,
        1,
        [8, 4],
        reference_primitives,
        skip_mode=False,
        quant_mode=mode,
        alpha_selector=selector,
        act_bits=[8, 4],
    )
    y = net(torch.rand(2, 3, 6, 5))
    assert y.shape == (2, 3, 12, 10) and torch.isfinite(y).all()
    (y.abs().mean() + net.expected_bitops((6, 5), probs=net.selection, normalize=True)).backward()
    assert len(net.alphas()) == 10 and net.alpha_names()[5:] == [f"{n}.act" for n in net.layer_names()]
    assert net.alpha_labels()[5] == ["act@8", "act@4"]
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in net.act_alpha)
    if selector == "hard_gumbel":
        assert all(int((s != 0).sum()) == 1 for s in net.selection)


def test_the_tied_supernet_is_unchanged_and_bad_widths_are_named() -> None:
    net = Supernet(2, 6, PATTERN, 1, [8, 4], ONE_OP)
    assert net.act_bits is None and len(net.alphas()) == 5
    assert not any("act_alpha" in key for key in net.state_dict())  # old search states still load
    assert net.alpha_labels()[0] == ["simple_3x3@8", "simple_3x3@4"]
    for act_bits, message in (
        ([8, 5], "act_bits: unsupported bit width 5"),
        ([], "act_bits"),
        ([8, 8], "act_bits"),
    ):
        with pytest.raises(ValueError, match=message):
            Supernet(2, 6, PATTERN, 1, [8, 4], ONE_OP, act_bits=act_bits)
