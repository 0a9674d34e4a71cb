"""export_onnx: ONNX Runtime output equals torch on an input size different from the export size."""

from __future__ import annotations

import io

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from sr_reparam import export_onnx, onnxruntime_max_difference, onnxruntime_session


def plain_net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.PReLU(8), nn.Conv2d(8, 12, 3, padding=1), nn.PixelShuffle(2)
    ).eval()


def test_export_dynamic_hw_matches_torch(tmp_path):
    net = plain_net()
    path = export_onnx(net, tmp_path / "net.onnx", dynamic_hw=True)
    assert path.exists()
    x = torch.rand(1, 3, 17, 23)
    (out,) = onnxruntime_session(path).run(None, {"lr": x.numpy()})
    with torch.no_grad():
        expected = net(x).numpy()
    assert out.shape == (1, 3, 34, 46)
    np.testing.assert_allclose(out, expected, atol=1e-4, rtol=0)


class TwoBranch(nn.Module):
    """A module still in training form: two parallel convs that reparameterize() would sum."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) + self.b(x)

    def reparameterize(self) -> nn.Module:
        raise NotImplementedError  # never called here


def test_export_refuses_a_model_still_in_training_form(tmp_path):
    net = nn.Sequential()
    net.add_module("head", nn.Conv2d(3, 3, 1))
    net.add_module("body", TwoBranch())
    with pytest.raises(ValueError, match="deploy first.*body"):
        export_onnx(net, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_export_accepts_a_deployed_net_with_non_plain_layers(tmp_path):
    net = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Sigmoid()).eval()
    path = export_onnx(net, tmp_path / "attention.onnx")
    x = torch.rand(1, 3, 9, 11)
    (out,) = onnxruntime_session(path).run(None, {"lr": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(out, net(x).numpy(), atol=1e-5, rtol=0)


def test_onnxruntime_max_difference_measures_the_exported_file(tmp_path):
    net = plain_net()
    path = export_onnx(net, tmp_path / "net.onnx")
    x = torch.rand(1, 3, 9, 11)
    assert onnxruntime_max_difference(net, path, x) < 1e-4
    with torch.no_grad():
        net[2].bias += 0.5  # the file still holds the old weights
    assert onnxruntime_max_difference(net, path, x) > 0.1


def test_export_writes_into_a_binary_stream(tmp_path):
    net = plain_net()
    stream = io.BytesIO()
    assert export_onnx(net, stream) is stream
    x = torch.rand(1, 3, 5, 7)
    (out,) = onnxruntime_session(stream.getvalue()).run(None, {"lr": x.numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(out, net(x).numpy(), atol=1e-4, rtol=0)
    assert not list(tmp_path.iterdir())  # nothing written anywhere else


def test_onnxruntime_session_runs_a_file_or_its_bytes_as_torch_does(tmp_path):
    net = plain_net()
    path = export_onnx(net, tmp_path / "net.onnx", dynamic_hw=True)
    x = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        expected = net(x).numpy()
    for source in (path, path.read_bytes()):
        session = onnxruntime_session(source, threads=2)
        assert session.get_providers() == ["CPUExecutionProvider"]
        assert session.get_session_options().intra_op_num_threads == 2
        (out,) = session.run(None, {"lr": x.numpy()})
        np.testing.assert_allclose(out, expected, atol=1e-5)


def test_onnxruntime_session_threads_default_and_optimised_graph(tmp_path):
    path = export_onnx(plain_net(), tmp_path / "net.onnx")
    optimised = tmp_path / "optimised.onnx"
    session = onnxruntime_session(path, threads=None, optimized_path=optimised)
    assert session.get_session_options().intra_op_num_threads == 0  # onnxruntime's own choice
    assert [node.op_type for node in onnx.load(str(optimised)).graph.node].count("Conv") == 2
    assert onnxruntime_session(path).get_session_options().intra_op_num_threads == 1
