"""deploy() equals the training form (float32 1e-5, float64 1e-9) for ECB, ECBSR, SESR linear blocks and
SESR in both training modes, with every weight, bias and scale random and non-zero, on odd sizes; the
deployed nets are plain and export to ONNX. The training form's eval mode runs a cached fused kernel
that equals the unfused branches after every kind of weight change, and is differentiable."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from torch import nn

from sr_blocks.ecbsr import ECB, ECBSR
from sr_blocks.layers import FusedKernelCache
from sr_blocks.sesr import SESR, LinearBlock
from sr_reparam import assert_plain, deploy, export_onnx, onnxruntime_session

TOLERANCE = {torch.float32: 1e-5, torch.float64: 1e-9}
DTYPES = sorted(TOLERANCE, key=str)


def randomize_(model: nn.Module, gain: float = 1.0, spread: float = 0.3, seed: int = 0) -> nn.Module:
    """Random non-zero values for every parameter: conv weights ~ gain/sqrt(fan_in), PReLU slopes in
    0.05-0.3, biases and scales ~ spread (small enough to keep outputs near unit size)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            values = torch.randn(p.shape, generator=generator, dtype=torch.float64)
            if p.dim() == 4:
                values *= gain / math.sqrt(p.shape[1] * p.shape[2] * p.shape[3])
            elif name.endswith("act.weight") or (
                p.dim() == 1 and "body" in name and name.endswith(".1.weight")
            ):
                values = values.abs() * 0.1 + 0.05  # PReLU slopes
            else:
                values *= spread
            p.copy_(values)
    return model


@contextlib.contextmanager
def running_branches(model: nn.Module):
    """Every ECB / linear block runs its unfused branches (own training flag on, 'expanded' mode),
    everything else (activations) keeps its mode: the reference the fused forms must equal."""
    blocks = [m for m in model.modules() if isinstance(m, ECB | LinearBlock)]
    saved = [(block.training, block.training_mode) for block in blocks]
    try:
        for block in blocks:
            block.training, block.training_mode = True, "expanded"
        yield model
    finally:
        for block, (training, mode) in zip(blocks, saved, strict=True):
            block.training, block.training_mode = training, mode


def unfused_eval(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` in eval mode with every re-parameterisable block running its branches."""
    was_training = model.training
    model.eval()
    try:
        with running_branches(model), torch.no_grad():
            return model(x)
    finally:
        model.train(was_training)


def assert_deploy_matches(model: nn.Module, x: torch.Tensor, dtype: torch.dtype) -> nn.Module:
    """Deploy ``model`` from training mode: the result is plain, entirely in eval mode, equal to the
    unfused branches, and so is the training form's own (cached, fused) eval-mode output."""
    model = model.to(dtype).train()
    x = x.to(dtype)
    deployed = deploy(model)
    assert_plain(deployed)
    assert not any(m.training for m in deployed.modules())
    assert model.training, "deploy must leave the training form as it was"
    expected = unfused_eval(model, x)
    model.eval()
    with torch.no_grad():
        actual, fused_eval = deployed(x), model(x)
    torch.testing.assert_close(actual, expected, atol=TOLERANCE[dtype], rtol=0)
    torch.testing.assert_close(fused_eval, expected, atol=TOLERANCE[dtype], rtol=0)
    return deployed


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ["prelu", "relu", "rrelu", "softplus", "linear"])
@pytest.mark.parametrize(("cin", "cout", "with_idt"), [(3, 5, False), (6, 6, True), (6, 6, False)])
@pytest.mark.parametrize("depth_multiplier", [0.5, 1.5])
def test_ecb(dtype, act, cin, cout, with_idt, depth_multiplier):
    block = randomize_(ECB(cin, cout, depth_multiplier=depth_multiplier, act=act, with_idt=with_idt))
    assert block.conv1x1_3x3.expand.out_channels == int(cout * depth_multiplier)
    assert_deploy_matches(block, torch.randn(2, cin, 7, 9), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("scale", "channels", "with_idt"), [(2, 1, True), (3, 3, False), (4, 3, True), (2, 2, True)]
)
def test_ecbsr(dtype, scale, channels, with_idt):
    model = randomize_(ECBSR(2, 8, scale, channels, channels, with_idt=with_idt), gain=0.5)
    # 8 channels = 2 * 2**2: the tail's identity branch is active too (as in the official code).
    assert model.tail.with_idt == (with_idt and 8 == channels * scale**2)
    deployed = assert_deploy_matches(model, torch.rand(1, channels, 11, 7), dtype)
    assert not any(isinstance(m, ECB) for m in deployed.modules())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["collapsed", "expanded"])
@pytest.mark.parametrize(("cin", "cout", "kernel_size", "residual"), [(3, 8, 5, False), (8, 8, 3, True)])
def test_sesr_linear_block(dtype, mode, cin, cout, kernel_size, residual):
    block = randomize_(LinearBlock(cin, cout, kernel_size, 32, residual=residual, training_mode=mode))
    deployed = assert_deploy_matches(block, torch.randn(2, cin, 9, 11), dtype)
    assert isinstance(deployed, nn.Conv2d) and deployed.bias is not None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["collapsed", "expanded"])
@pytest.mark.parametrize(("scale", "channels"), [(2, 1), (3, 3), (4, 3)])
def test_sesr(dtype, mode, scale, channels):
    model = randomize_(
        SESR(
            scale, m=3, f=8, feature_size=16, in_channels=channels, out_channels=channels, training_mode=mode
        ),
        gain=0.3,
        spread=0.02,
    )
    x = torch.rand(1, channels, 9, 7) * 0.5 + 0.25
    model = model.to(dtype).eval()
    unclamped = (model(x.to(dtype)) - 0.5).abs() < 0.5
    assert unclamped.float().mean() > 0.9, "weights too large: the output clip hides the comparison"
    assert_deploy_matches(model, x, dtype)


@pytest.mark.parametrize(
    "model", [ECBSR(2, 8, 3, 1, 1), SESR(2, m=2, f=8, feature_size=16)], ids=["ecbsr", "sesr"]
)
def test_deployed_models_export_to_onnx(tmp_path, model):
    deployed = deploy(randomize_(model, gain=0.3, spread=0.02))
    channels = deployed.conv_first.in_channels if isinstance(model, SESR) else 1
    path = export_onnx(deployed, tmp_path / "model.onnx")
    x = torch.rand(1, channels, 13, 19)
    (out,) = onnxruntime_session(path).run(None, {"lr": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(out, deployed(x).numpy(), atol=1e-4, rtol=0)


def test_create_model_deployed_builds_the_deployed_form():
    from sr_blocks import create_model

    torch.manual_seed(0)
    trained = create_model("ecbsr_m4c16", scale=2)
    built = create_model("ecbsr_m4c16", scale=2, deployed=True)
    assert not built.training
    assert_plain(built)
    reference = deploy(trained)
    assert built.state_dict().keys() == reference.state_dict().keys()
    built.load_state_dict(reference.state_dict())  # a deployed checkpoint's weights fit it
    x = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(built(x), unfused_eval(trained, x), atol=1e-5, rtol=0)


# --- the training form in eval mode: a cached fused kernel, never stale -------------------------------


def _training_form(kind: str, seed: int = 0) -> nn.Module:
    if kind == "ecbsr":
        model = ECBSR(2, 8, 2, 1, 1, with_idt=True)
    else:
        model = SESR(2, m=2, f=8, feature_size=16, in_channels=1, out_channels=1, training_mode=kind)
    return randomize_(model, gain=0.3, spread=0.02, seed=seed).double()


def _count_fusions(monkeypatch) -> list[int]:
    """Count the calls of ECB.fused and LinearBlock.collapsed_conv."""
    calls = [0]
    for cls, name in ((ECB, "fused"), (LinearBlock, "collapsed_conv")):
        original = getattr(cls, name)

        def counted(self, _original=original):
            calls[0] += 1
            return _original(self)

        monkeypatch.setattr(cls, name, counted)
    return calls


def _blocks(model: nn.Module) -> int:
    return sum(isinstance(m, ECB | LinearBlock) for m in model.modules())


def _assert_eval_equals_branches(model: nn.Module, x: torch.Tensor, atol: float = 1e-9) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        out = model(x)
    torch.testing.assert_close(out, unfused_eval(model, x), atol=atol, rtol=0)
    return out


@pytest.mark.parametrize("kind", ["ecbsr", "collapsed", "expanded"])
def test_eval_mode_fuses_once_and_refuses_after_every_weight_change(kind, monkeypatch):
    model = _training_form(kind)
    x = torch.rand(2, 1, 9, 11, dtype=torch.float64)
    calls = _count_fusions(monkeypatch)
    model.eval()
    with torch.no_grad():
        first = model(x)
    assert calls[0] == _blocks(model), "each block fuses once"
    with torch.no_grad():
        assert torch.equal(model(x), first)
    with torch.inference_mode():
        assert torch.equal(model(x), first)
    assert calls[0] == _blocks(model), "an unchanged model must reuse its fused kernels"
    torch.testing.assert_close(first, unfused_eval(model, x), atol=1e-9, rtol=0)

    # An optimiser step in training mode, then validation: the new weights, not the cached ones.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    model(x).square().mean().backward()
    optimizer.step()
    after_step = _assert_eval_equals_branches(model, x)
    assert (after_step - first).abs().max() > 1e-4

    # load_state_dict, an in-place write under no_grad, a dtype change.
    other = _training_form(kind, seed=1)
    model.load_state_dict(other.state_dict())
    torch.testing.assert_close(
        _assert_eval_equals_branches(model, x), unfused_eval(other, x), atol=1e-9, rtol=0
    )
    with torch.no_grad():
        next(model.parameters()).mul_(0.5)
    _assert_eval_equals_branches(model, x)
    _assert_eval_equals_branches(model.float(), x.float(), atol=1e-5)

    # Writes through .data bypass the version counter: clearing the caches is the documented remedy.
    for p in model.parameters():
        p.data.mul_(1.5)
    for block in model.modules():
        for cache in vars(block).values():
            if isinstance(cache, FusedKernelCache):
                cache.clear()
    _assert_eval_equals_branches(model, x.float(), atol=1e-5)


@pytest.mark.parametrize("kind", ["ecbsr", "collapsed", "expanded"])
def test_eval_mode_with_autograd_gives_the_branches_gradients(kind):
    model = _training_form(kind).eval()
    x = torch.rand(1, 1, 7, 9, dtype=torch.float64)
    with torch.no_grad():
        model(x)  # fills the caches, which a gradient-recording forward must not use
    loss = model(x).square().mean()
    fused_grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    with running_branches(model):
        reference = torch.autograd.grad(model(x).square().mean(), list(model.parameters()), allow_unused=True)
    for got, want in zip(fused_grads, reference, strict=True):
        assert (got is None) == (want is None)
        if got is not None:
            torch.testing.assert_close(got, want, atol=1e-9, rtol=1e-7)


def test_eval_mode_runs_on_the_meta_device():
    """Shape-only runs (sr_eval.profile counts MACs on 'meta') work with the cache."""
    for model in (ECBSR(1, 4, 2, 1, 1), SESR(2, m=1, f=4, feature_size=8, in_channels=1, out_channels=1)):
        meta = model.to("meta").eval()
        with torch.no_grad():
            assert meta(torch.zeros(1, 1, 5, 6, device="meta")).shape == (1, 1, 10, 12)
