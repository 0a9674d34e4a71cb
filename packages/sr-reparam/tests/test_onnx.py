"""export_onnx: ONNX Runtime output equals torch on an input size different from the export size."""

from __future__ import annotations

import pytest
import torch
from sr_reparam import export_onnx
from torch import nn

pytest.importorskip("onnx", reason="the 'onnx' extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="the 'onnx' extra is not installed")
np = pytest.importorskip("numpy")


def plain_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(8), nn.Conv2d(8, 12, 3, padding=1), nn.PixelShuffle(2)
    ).eval()


def test_export_dynamic_hw_matches_torch(tmp_path):
    net = plain_net()
    path = export_onnx(net, tmp_path / "net.onnx", dynamic_hw=True)
    assert path.exists() and not list(tmp_path.glob("*.tmp"))
    x = torch.rand(1, 3, 17, 23)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"lr": x.numpy()})
    with torch.no_grad():
        expected = net(x).numpy()
    assert out.shape == (1, 3, 34, 46)
    np.testing.assert_allclose(out, expected, atol=1e-4, rtol=0)


def test_export_refuses_non_plain(tmp_path):
    with pytest.raises(ValueError, match="deploy"):
        export_onnx(nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3)), tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
