"""optimize_for_inference: the channels-last layout changes the speed, not the function or the keys."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from sr_blocks import create_model, optimize_for_inference


@pytest.mark.parametrize(
    ("name", "kwargs"), [("imdn", {}), ("edsr_baseline", {}), ("rfdn", {}), ("esrn", {})]
)
def test_outputs_gradients_and_keys_equal_the_plain_model(name, kwargs):
    torch.manual_seed(0)
    plain = create_model(name, scale=2, **kwargs)
    optimized = optimize_for_inference(copy.deepcopy(plain))
    assert list(optimized.state_dict()) == list(plain.state_dict())
    assert sum(p.numel() for p in optimized.parameters()) == sum(p.numel() for p in plain.parameters())
    x = torch.rand(2, 3, 20, 18)
    plain.eval(), optimized.eval()
    with torch.no_grad():
        expected, got = plain(x), optimized(x)
    assert got.is_contiguous() and got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    plain.train(), optimized.train()
    for model in (plain, optimized):
        model.zero_grad()
        torch.nn.functional.l1_loss(model(x), torch.zeros_like(expected)).backward()
    for (key, p), q in zip(plain.named_parameters(), optimized.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=f"gradient of {key}")


def test_idempotent_loads_plain_weights_and_pickles():
    model = create_model("imdn", scale=2)
    plain_state = copy.deepcopy(model.state_dict())
    optimize_for_inference(optimize_for_inference(model))
    assert len(model._forward_pre_hooks) == 1 and len(model._forward_hooks) == 1
    model.load_state_dict(plain_state)  # a checkpoint saved from the plain model
    assert model.conv_first.weight.is_contiguous(memory_format=torch.channels_last)
    restored = pickle.loads(pickle.dumps(model))
    x = torch.rand(1, 3, 12, 12)
    with torch.no_grad():
        torch.testing.assert_close(restored.eval()(x), model.eval()(x))
