"""Collapsed and expanded training are the same training: for the same weights they give the same
outputs, the same loss and the same gradient for every expanded weight, so Adam takes the same steps.
(sr-blocks' tests check the forward and deploy() for random weights; the gradients are checked here.)"""

import copy

import pytest
import torch
import torch.nn.functional as F

from sr_blocks import create_model


def twin_models(scale: int, dtype: torch.dtype):
    """A collapsed-mode SESR (Y in/out), every weight, bias and PReLU slope random; and its expanded twin."""
    torch.manual_seed(scale)
    collapsed = create_model("sesr", scale=scale, m=3, f=8, feature_size=24, in_channels=1, out_channels=1)
    with torch.no_grad():
        for parameter in collapsed.parameters():
            parameter.copy_(torch.randn_like(parameter) * 0.2)
    collapsed = collapsed.to(dtype)
    expanded = copy.deepcopy(collapsed)
    expanded.training_mode = "expanded"
    assert (collapsed.training_mode, expanded.training_mode) == ("collapsed", "expanded")
    return collapsed, expanded


def batch(scale: int, dtype: torch.dtype):
    generator = torch.Generator().manual_seed(1)
    lr = torch.rand(4, 1, 11, 13, generator=generator, dtype=dtype)
    hr = torch.rand(4, 1, 11 * scale, 13 * scale, generator=generator, dtype=dtype)
    return lr, hr


def loss_and_grads(model, lr, hr):
    model.zero_grad()
    sr = model(lr)
    loss = F.l1_loss(sr, hr)
    loss.backward()
    return sr.detach(), {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("scale", [2, 4])
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 2e-5)])
def test_same_outputs_and_gradients(scale, dtype, tol):
    collapsed, expanded = twin_models(scale, dtype)
    lr, hr = batch(scale, dtype)
    out_c, grads_c = loss_and_grads(collapsed, lr, hr)
    out_e, grads_e = loss_and_grads(expanded, lr, hr)
    assert 0.05 < (out_c > 0).float().mean() < 1, "the output clamp must not swallow the test"
    torch.testing.assert_close(out_c, out_e, atol=tol, rtol=0)
    assert grads_c.keys() == grads_e.keys()
    for name in grads_c:
        scale_of = grads_e[name].abs().max().item()
        assert scale_of > 0, f"{name} gets no gradient"
        torch.testing.assert_close(
            grads_c[name],
            grads_e[name],
            atol=tol * max(1.0, scale_of),
            rtol=tol,
            msg=lambda m, name=name: f"{name}: {m}",
        )


def test_same_weights_after_adam_steps():
    """Ten Adam (amsgrad) steps, as the recipe trains, end at the same expanded weights in both modes."""
    models = twin_models(2, torch.float64)
    lr, hr = batch(2, torch.float64)
    for model in models:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
        for _ in range(10):
            optimizer.zero_grad()
            F.l1_loss(model(lr), hr).backward()
            optimizer.step()
    collapsed, expanded = (dict(m.named_parameters()) for m in models)
    start = dict(twin_models(2, torch.float64)[0].named_parameters())
    for name, weight in collapsed.items():
        assert not torch.equal(weight, start[name]), f"{name} did not train"
        torch.testing.assert_close(weight, expanded[name], atol=1e-9, rtol=0)
