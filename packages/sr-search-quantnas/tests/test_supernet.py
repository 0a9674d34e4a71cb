"""The supernet: the three quantisation modes against their plain formulas, selectors, BitOps, derive."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import derive_genotype
from sr_search_quantnas.mixed import MixedLayer
from sr_search_quantnas.network import build_network
from sr_search_quantnas.ops import op_spec
from sr_search_quantnas.quantizers import hwgq, lsq
from sr_search_quantnas.supernet import Supernet

PATTERN = {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 1}
LAYER_OPS = ["simple_3x3", "conv_3x1_1x3", "skip_connect", "zero", "simple_5x5_grouped_3", "decenc_3x3_2"]


def _layer(mode: str, bits=(8, 4)) -> MixedLayer:
    return MixedLayer([op_spec(name, 6, 6, 6) for name in LAYER_OPS], bits, mode)


def _plain_shared(layer: MixedLayer, x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """The reference's SharedQAConv2d maths, written out naively."""
    out = torch.zeros_like(x)
    for spec, convs, p in zip(layer.specs, layer.ops, probs.view(len(layer.specs), -1), strict=True):
        if spec.kind == "zero":
            continue
        total = p.sum()
        if spec.kind == "identity":
            out = out + x * total
            continue
        coef, h = p / total, x
        for conv in convs:
            acts = sum(c * hwgq(h, b) for c, b in zip(coef, layer.bits, strict=True))
            weight = sum(
                c * lsq(conv.weight[0], s, b) for c, s, b in zip(coef, conv.scale, layer.bits, strict=True)
            )
            h = F.conv2d(acts, weight, padding=conv.spec.padding, groups=conv.spec.groups)
        out = out + total * h
    return out


def test_shared_mode_equals_the_plain_formula() -> None:
    torch.manual_seed(0)
    layer = _layer("shared")
    x = torch.randn(2, 6, 7, 5, requires_grad=True)
    alpha = torch.randn(len(LAYER_OPS) * 2, requires_grad=True)
    ours = layer(x.contiguous(memory_format=torch.channels_last), F.softmax(alpha, -1))
    plain = _plain_shared(layer, x, F.softmax(alpha, -1))
    assert torch.allclose(ours, plain, atol=1e-5)
    g = torch.randn_like(plain)
    grads_ours = torch.autograd.grad((ours * g).sum(), [alpha, x, *layer.parameters()])
    grads_plain = torch.autograd.grad((plain * g).sum(), [alpha, x, *layer.parameters()])
    for a, b in zip(grads_ours, grads_plain, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_separate_mode_equals_the_plain_formula() -> None:
    torch.manual_seed(1)
    layer = MixedLayer([op_spec("simple_3x3", 6, 6, 6), op_spec("growth2_3x3", 6, 6, 6)], (8, 2), "separate")
    x = torch.randn(1, 6, 5, 5)
    probs = F.softmax(torch.randn(4), -1)
    expected = torch.zeros_like(x)
    for convs, p in zip(layer.ops, probs.view(2, 2), strict=True):
        for b, bits in enumerate(layer.bits):
            h = x
            for conv in convs:
                h = F.conv2d(hwgq(h, bits), lsq(conv.weight[b], conv.scale[b], bits), padding=1)
            expected = expected + p[b] * h
    assert len(layer.ops[0][0].weight) == 2
    assert torch.allclose(layer(x, probs), expected, atol=1e-5)


def test_noise_mode_scales_and_adds_noise_of_the_bit_width() -> None:
    torch.manual_seed(2)
    layer = MixedLayer([op_spec("simple_3x3", 6, 6, 6)], (16,), "noise")
    x = torch.randn(2, 6, 8, 8)
    w = layer.ops[0][0].weight[0]
    probs = torch.ones(1)
    # f = 1/2, a' = 1/(1 + 1/2): weights and inputs are (1/2 + 2/3) times their float value + noise
    plain = F.conv2d(torch.relu(x), w, padding=1) * (7 / 6) ** 2
    out = layer(x, probs)
    assert torch.allclose(out, plain, atol=1e-3)
    coarse = MixedLayer([op_spec("simple_3x3", 6, 6, 6)], (2,), "noise")
    coarse.load_state_dict(layer.state_dict(), strict=False)
    with torch.no_grad():
        coarse.ops[0][0].weight[0].copy_(w)
    assert (coarse(x, probs) - plain).abs().mean() > 100 * (out - plain).abs().mean()
    # the noisy copies carry no gradient: the weight's gradient is f times the effective weight's
    w_grad = torch.autograd.grad(layer(x, probs).sum(), w)[0]
    effective = (w * (7 / 6)).detach().requires_grad_()
    reference = torch.autograd.grad(F.conv2d(torch.relu(x) * (7 / 6), effective, padding=1).sum(), effective)[
        0
    ]
    assert torch.allclose(w_grad, reference * 0.5, rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("mode", ["shared", "noise", "separate"])
@pytest.mark.parametrize("selector", ["softmax", "gumbel", "hard_gumbel"])
def test_supernet_forward_backward(
    mode: str, selector: str, reference_primitives: dict[str, list[str]]
) -> None:
    torch.manual_seed(3)
    net = Supernet(
        2,
        6,
        PATTERN,
        2,
        [8, 4],
        reference_primitives,
        skip_mode=False,
        quant_mode=mode,
        alpha_selector=selector,
    )
    net.set_temperature(0.5)
    x = torch.rand(2, 3, 6, 5)
    y = net(x)
    assert y.shape == (2, 3, 12, 10) and torch.isfinite(y).all()
    loss = y.abs().mean() + 1e-3 * net.expected_bitops((6, 5), normalize=True)
    loss.backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in net.alphas())
    used = [p.grad is not None and bool(p.grad.abs().sum() > 0) for p in net.weights()]
    assert all(used) if selector != "hard_gumbel" else any(used)
    if selector == "hard_gumbel":
        assert all(int((s != 0).sum()) == 1 for s in net.selection)


def test_alphas_and_weights_partition_the_parameters(reference_primitives: dict[str, list[str]]) -> None:
    net = Supernet(2, 6, PATTERN, 2, [8, 4], reference_primitives)
    alphas, weights = net.alphas(), net.weights()
    assert len(alphas) == 5 and all(
        a.numel() == len(reference_primitives[n.split(".")[0]]) * 2
        for a, n in zip(alphas, net.layer_names(), strict=True)
    )
    assert {id(p) for p in alphas}.isdisjoint({id(p) for p in weights})
    assert len(alphas) + len(weights) == len(list(net.parameters()))
    assert (
        net.cells[0].body.layers[0].ops[0][0].weight[0] is not net.cells[1].body.layers[0].ops[0][0].weight[0]
    )


def test_expected_bitops_matches_the_derived_network(reference_primitives: dict[str, list[str]]) -> None:
    torch.manual_seed(4)
    pattern = {"head": 2, "body": 2, "skip": 1, "upsample": 1, "tail": 2}
    net = Supernet(3, 12, pattern, 2, [8, 4], reference_primitives)
    with torch.no_grad():
        for alpha in net.alphas():
            alpha.normal_()
    genotype = derive_genotype(net)
    one_hot = [F.one_hot(a.argmax(), a.numel()).float() for a in net.alphas()]
    derived = build_network(genotype, scale=3, c_fixed=12, body_cells=2)
    assert int(net.expected_bitops((5, 7), probs=one_hot)) == bitops(derived, (5, 7)).total
    table = net.bitops_table((5, 7))
    chosen = [getattr(genotype, block)[int(i)] for block, i in (n.split(".") for n in net.layer_names())]
    by_table = sum(table[name][pair] for name, pair in zip(net.layer_names(), chosen, strict=True))
    assert by_table == bitops(derived, (5, 7)).total


def test_expected_bitops_normalisation(reference_primitives: dict[str, list[str]]) -> None:
    net = Supernet(2, 6, PATTERN, 1, [8, 4], reference_primitives)
    uniform = net.expected_bitops((4, 4))
    manual = sum(sum(t.values()) / len(t) for t in net.bitops_table((4, 4)).values())
    assert torch.isclose(uniform, torch.tensor(manual, dtype=uniform.dtype), rtol=1e-6)
    normalised = net.expected_bitops((4, 4), normalize=True)
    assert torch.isclose(normalised, torch.tensor((1 - 1 / 1.25) / (1.25 - 1 / 1.25)), rtol=1e-5)
    normalised.backward()
    assert all(a.grad is not None for a in net.alphas())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arch_pattern": {**PATTERN, "neck": 1}}, "unknown keys"),
        ({"arch_pattern": {**PATTERN, "head": 0}}, "arch_pattern.head"),
        ({"bits": [8, 5]}, "unsupported bit width 5"),
        ({"quant_mode": "mixed"}, "quant_mode"),
        ({"alpha_selector": "argmax"}, "alpha_selector"),
        ({"primitives": {"neck": ["simple_3x3"]}}, "unknown block types"),
        ({"primitives": {"head": ["simple_3y3"]}}, "unknown operation"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    args = {"scale": 2, "c_fixed": 6, "arch_pattern": PATTERN, "body_cells": 1, "bits": [8, 4], **kwargs}
    with pytest.raises(ValueError, match=message):
        Supernet(**args)


def test_tail_may_be_empty_and_defaults_build() -> None:
    net = Supernet(2, 12, {**PATTERN, "tail": 0}, 1, [4])
    assert net.primitives["skip"] == net.primitives["body"] and "decenc_3x3_2_g3" in net.primitives["body"]
    assert net(torch.rand(1, 3, 4, 4)).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="temperature"):
        net.set_temperature(0)


def test_noisy_mix_gradients_match_autograd() -> None:
    from sr_search_quantnas.mixed import _gaussian_like, _NoisyMix

    t = torch.randn(2, 4, 5, 6).contiguous(memory_format=torch.channels_last).requires_grad_()
    coefs = torch.tensor([0.3, 0.5], requires_grad=True)
    noise_std = torch.tensor([0.02, 0.3])
    torch.manual_seed(5)
    ours = _NoisyMix.apply(t, coefs, noise_std, 1 / 3)
    torch.manual_seed(5)
    z = _gaussian_like(t)
    sigma = torch.sqrt(((coefs * noise_std) ** 2).sum())
    plain = t / 3 + t.detach() * coefs.sum() + sigma * z
    assert torch.allclose(ours, plain, atol=1e-6)
    g = torch.randn_like(plain)
    for a, b in zip(
        torch.autograd.grad((ours * g).sum(), [t, coefs]),
        torch.autograd.grad((plain * g).sum(), [t, coefs]),
        strict=True,
    ):
        assert torch.allclose(a, b, atol=1e-5)
