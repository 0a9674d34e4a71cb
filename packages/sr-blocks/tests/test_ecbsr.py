"""ECBSR: parameter counts equal the official implementation's; shapes, options and errors."""

from __future__ import annotations

import pytest
import torch

from sr_blocks import create_model, list_models
from sr_blocks.ecbsr import ECB, ECBSR
from sr_reparam import deploy

# Trainable parameters of the official ECBSR (github.com/xindongzhang/ECBSR, models/ecbsr.py at
# c60b1d2), obtained by instantiating `ECBSR(m, c, with_idt=False, act_type='prelu', scale, colors)`
# and summing `p.numel()` over parameters with requires_grad (the fixed Sobel/Laplacian masks are
# frozen). "deployed" is the official re-parameterised network, models/plainsr.py `PlainSR(m, c,
# 'prelu', scale, colors)`, which convert.py fills with the fused kernels.
# Key: (preset, scale, colors) -> (training form, deployed form). colors=1 is the official Y setup.
OFFICIAL_PARAMS = {
    ("ecbsr_m4c8", 2, 1): (10_804, 2_748),
    ("ecbsr_m4c8", 4, 1): (16_624, 3_624),
    ("ecbsr_m4c16", 2, 1): (39_956, 10_100),
    ("ecbsr_m4c16", 4, 1): (47_120, 11_840),
    ("ecbsr_m8c16", 2, 1): (73_620, 19_444),
    ("ecbsr_m8c16", 4, 1): (80_784, 21_184),
    ("ecbsr_m8c32", 2, 1): (287_188, 75_748),
    ("ecbsr_m8c32", 4, 1): (297_040, 79_216),
    ("ecbsr_m10c32", 2, 1): (353_620, 94_308),
    ("ecbsr_m10c32", 4, 1): (363_472, 97_776),
    ("ecbsr_m16c64", 2, 1): (2_190_932, 594_884),
    ("ecbsr_m16c64", 4, 1): (2_206_160, 601_808),
    ("ecbsr", 2, 1): (39_956, 10_100),  # defaults = M4C16
    ("ecbsr", 4, 1): (47_120, 11_840),
    # RGB (colors=3): the official constructor builds it (its forward supports only colors=1).
    ("ecbsr_m4c8", 2, 3): (14_332, None),
    ("ecbsr_m4c8", 4, 3): (57_712, None),
    ("ecbsr_m4c16", 2, 3): (44_604, None),
    ("ecbsr_m4c16", 4, 3): (92_016, None),
    ("ecbsr_m16c64", 2, 3): (2_202_300, None),
    ("ecbsr_m16c64", 4, 3): (2_273_904, None),
}


def trainable(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize(("name", "scale", "colors"), sorted(OFFICIAL_PARAMS))
def test_parameter_counts_match_official(name, scale, colors):
    training, deployed = OFFICIAL_PARAMS[name, scale, colors]
    model = create_model(name, scale=scale, in_channels=colors, out_channels=colors)
    assert trainable(model) == training
    if deployed is not None:
        assert trainable(deploy(model)) == deployed


def test_every_registered_ecbsr_is_covered():
    assert {name for name, _, _ in OFFICIAL_PARAMS} == set(list_models("ecbsr*"))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape_and_backward(scale):
    model = create_model("ecbsr_m4c8", scale=scale)
    x = torch.rand(1, 3, 9, 11)
    y = model(x)
    assert y.shape == (1, 3, 9 * scale, 11 * scale)
    y.mean().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_global_residual_adds_input_to_every_subpixel():
    model = ECBSR(1, 4, scale=2, in_channels=3, out_channels=3)
    with torch.no_grad():
        for p in model.tail.parameters():
            p.zero_()
    x = torch.rand(1, 3, 5, 6)
    torch.testing.assert_close(model(x), torch.repeat_interleave(torch.repeat_interleave(x, 2, 2), 2, 3))


def test_identity_branch_only_when_shapes_allow():
    assert ECB(8, 8, with_idt=True).with_idt and not ECB(3, 8, with_idt=True).with_idt


def test_depth_multiplier_too_small_for_one_channel_is_named():
    assert ECB(4, 4, depth_multiplier=0.25).conv1x1_3x3.expand.out_channels == 1
    with pytest.raises(ValueError, match="depth_multiplier=0.2 .* 0 channels"):
        ECB(4, 4, depth_multiplier=0.2)


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="'gelu'"):
        ECB(4, 4, act="gelu")


def _train(model: torch.nn.Module, steps: int, dtype: torch.dtype) -> list[float]:
    """`steps` Adam steps of L1 on fixed random Y patches; the loss of each step."""
    generator = torch.Generator().manual_seed(1)
    hr = torch.rand(2, 1, 16, 16, generator=generator, dtype=dtype)
    lr = torch.nn.functional.avg_pool2d(hr, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.l1_loss(model(lr), hr)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize(
    ("dtype", "steps", "tolerance"),
    # float32 rounding differs between the modes (and between thread counts), and Adam amplifies it
    # over many steps, so the long run is the float64 one.
    [(torch.float64, 100, 1e-10), (torch.float32, 10, 1e-5)],
)
def test_collapsed_training_follows_the_expanded_loss_curve(dtype, steps, tolerance):
    """Same function, same gradients: the same losses and weights in both modes, step after step."""
    models = {}
    for mode in ("expanded", "collapsed"):
        torch.manual_seed(0)
        models[mode] = ECBSR(2, 8, 2, 1, 1, with_idt=True, training_mode=mode).to(dtype)
    curves = {mode: _train(model, steps, dtype) for mode, model in models.items()}
    assert curves["collapsed"][-1] < curves["collapsed"][0] * 0.99, "the run must actually train"
    assert curves["collapsed"] == pytest.approx(curves["expanded"], rel=tolerance, abs=0)
    for a, b in zip(models["collapsed"].parameters(), models["expanded"].parameters(), strict=True):
        torch.testing.assert_close(a, b, atol=tolerance * 10, rtol=0)


def test_training_mode_switches_every_block():
    model = create_model("ecbsr_m4c8", scale=2, training_mode="expanded")
    assert model.training_mode == "expanded"
    model.training_mode = "collapsed"
    assert {block.training_mode for block in model.modules() if isinstance(block, ECB)} == {"collapsed"}
    assert deploy(model).training_mode == "deployed"
    model.head.training_mode = "expanded"
    assert model.training_mode == "mixed"
    with pytest.raises(ValueError, match="training_mode"):
        model.training_mode = "folded"
    with pytest.raises(ValueError, match="training_mode"):
        ECB(4, 4, training_mode="fused")


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_global_residual_broadcast_equals_repeat_interleave(memory_format):
    from sr_blocks.layers import add_to_every_subpixel

    x = torch.rand(2, 3, 5, 6).contiguous(memory_format=memory_format)
    y = torch.rand(2, 12, 5, 6).contiguous(memory_format=memory_format)
    assert torch.equal(add_to_every_subpixel(y, x, 2), y + x.repeat_interleave(4, dim=1))
    model = ECBSR(1, 4, scale=2, in_channels=3, out_channels=3).eval()
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x.contiguous()), atol=1e-6, rtol=0)
