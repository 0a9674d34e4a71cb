"""deploy() equals the training form (float32 1e-5, float64 1e-9) for ECB, ECBSR, SESR linear blocks and
SESR in both training modes, with every weight, bias and scale random and non-zero, on odd sizes; the
deployed nets are plain and export to ONNX."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from sr_blocks.ecbsr import ECB, ECBSR
from sr_blocks.sesr import SESR, LinearBlock
from sr_reparam import assert_plain, deploy, export_onnx

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


def assert_deploy_matches(model: nn.Module, x: torch.Tensor, dtype: torch.dtype) -> nn.Module:
    """Deploy ``model`` from training mode: the result is plain, entirely in eval mode, equal."""
    model = model.to(dtype).train()
    x = x.to(dtype)
    deployed = deploy(model)
    assert_plain(deployed)
    assert not any(m.training for m in deployed.modules())
    assert model.training, "deploy must leave the training form as it was"
    model.eval()
    with torch.no_grad():
        expected, actual = model(x), deployed(x)
    torch.testing.assert_close(actual, expected, atol=TOLERANCE[dtype], rtol=0)
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
    ort = pytest.importorskip("onnxruntime", reason="the 'onnx' extra of sr-reparam is not installed")
    pytest.importorskip("onnx", reason="the 'onnx' extra of sr-reparam is not installed")
    np = pytest.importorskip("numpy")
    deployed = deploy(randomize_(model, gain=0.3, spread=0.02))
    channels = deployed.conv_first.in_channels if isinstance(model, SESR) else 1
    path = export_onnx(deployed, tmp_path / "model.onnx")
    x = torch.rand(1, channels, 13, 19)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"lr": x.numpy()})
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
        torch.testing.assert_close(built(x), trained.eval()(x), atol=1e-5, rtol=0)
