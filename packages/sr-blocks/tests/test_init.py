"""The unit-variance start: each layer's output at unit scale, the output layer at a small one, and
a deep stack that learns at once where its default weights first sit at the residual."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sr_blocks import create_model
from sr_blocks.init import unit_variance_start

DEEP = [
    "nearest+center",
    "lin64_16_relu",
    "rep_24_relu",
    "ecb_12_none",
    "conv_16_prelu",
    "ecb_24_relu",
    "conv",
]


def layer_stds(model: torch.nn.Module, x: torch.Tensor) -> list[float]:
    stds: list[float] = []
    hooks = [
        layer.register_forward_hook(lambda _m, _i, out: stds.append(float(out.std())))
        for layer in model.layers()
    ]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return stds


def test_every_layer_starts_at_unit_scale_and_the_output_small() -> None:
    torch.manual_seed(0)
    model, x = create_model("repstack", genes=DEEP), torch.rand(8, 3, 16, 16)
    before = layer_stds(model, x)
    assert min(before[:-1]) < 0.5  # the default weights shrink the signal
    unit_variance_start(model, model.layers(), x, output_std=0.01)
    after = layer_stds(model, x)
    assert after[:-1] == pytest.approx([1.0] * (len(after) - 1), rel=0.06)
    assert after[-1] == pytest.approx(0.01, rel=0.06)
    assert model.training  # the mode it came in


def test_it_removes_the_plateau_of_a_short_training() -> None:
    torch.manual_seed(0)
    hr = F.avg_pool2d(torch.rand(16, 3, 32, 32), 3, 1, 1)  # smooth images with detail to learn
    lr = F.avg_pool2d(hr, 2)

    nearest = float(F.mse_loss(F.interpolate(lr, scale_factor=2, mode="nearest"), hr))

    def loss_after(start: bool) -> float:
        torch.manual_seed(1)
        model = create_model("repstack", genes=DEEP)
        if start:
            unit_variance_start(model, model.layers(), lr)
        opt = torch.optim.Adam(model.parameters(), 2e-3)
        for _ in range(10):
            loss = F.mse_loss(model(lr), hr)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return loss.item()

    assert loss_after(False) > 0.9 * nearest  # still at its image-space residual
    assert loss_after(True) < 0.8 * nearest  # already learning


def test_bad_arguments_are_refused() -> None:
    model = create_model("repstack", genes=DEEP)
    with pytest.raises(ValueError, match="at least one layer"):
        unit_variance_start(model, [], torch.rand(1, 3, 8, 8))
    with pytest.raises(ValueError, match="output_std"):
        unit_variance_start(model, model.layers(), torch.rand(1, 3, 8, 8), output_std=0)
    with pytest.raises(ValueError, match="did not run"):
        unit_variance_start(model, [torch.nn.Conv2d(3, 3, 1)], torch.rand(1, 3, 8, 8))
