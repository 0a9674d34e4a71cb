"""sr_blocks' parameter-free `bicubic` model against sr_data's MATLAB-compatible imresize.

The two are written independently (fixed per-phase filters + pixel shuffle vs MATLAB's weight
tables), and they live in packages that may not import each other, so they meet here.
"""

import pytest
import torch

from sr_blocks import create_model
from sr_data import imresize


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("size", [(13, 17), (8, 8), (1, 5)])
def test_bicubic_model_equals_matlab_imresize(scale: int, size: tuple[int, int]) -> None:
    x = torch.rand(2, 3, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(scale))
    model = create_model("bicubic", scale=scale).double()
    expected = imresize(x, scale=scale)
    assert torch.allclose(model(x), expected, atol=1e-12, rtol=0)


def test_bicubic_model_float32_within_1e6() -> None:
    x = torch.rand(1, 3, 21, 19, generator=torch.Generator().manual_seed(0))
    model = create_model("bicubic", scale=4)
    assert (model(x) - imresize(x.double(), scale=4)).abs().max().item() < 1e-6
