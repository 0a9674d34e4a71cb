"""Every registered model deploys and exports to ONNX, and ONNX Runtime agrees with torch.

The full-size `edsr` and `rdn` (40M and 22M parameters) are left out only to keep CI fast; their
layers are the same kinds as `edsr_baseline`'s and `esrn`'s. Parameter-free models (`bicubic`, which
is `sr_data.imresize`) are skipped: their resize matrices are built for the input size, so the graph
has no dynamic height/width (they are a baseline, never shipped as a network).
"""

import pytest
import torch

from sr_blocks import create_model, list_models
from sr_reparam import deploy, export_onnx, onnxruntime_session

LARGE = {"edsr", "rdn"}


@pytest.mark.parametrize("name", [n for n in list_models() if n not in LARGE])
def test_deployed_model_exports_and_runs_in_onnxruntime(name: str, tmp_path) -> None:
    torch.manual_seed(0)
    model = deploy(create_model(name, scale=3))
    if not any(True for _ in model.parameters()):
        pytest.skip(
            f"{name} is parameter-free: its resize matrices depend on the input size (no dynamic H/W)"
        )
    path = export_onnx(model, tmp_path / f"{name}.onnx")
    x = torch.rand(1, 3, 19, 17)  # not the export size, odd, and not a multiple of 4
    (out,) = onnxruntime_session(path).run(None, {"lr": x.numpy()})
    with torch.inference_mode():
        expected = model(x)
    assert out.shape == tuple(expected.shape)
    assert abs(torch.from_numpy(out) - expected).max().item() < 1e-4
