"""Generated from the registry: every model, every scale (2, 3, 4), on CPU with tiny odd inputs
(the forward test on a batch of two, each sample independent of the other)."""

import functools
import importlib.util
from pathlib import Path

import pytest
import torch

from sr_blocks import create_model, list_models

SCALES = (2, 3, 4)
# Tens of millions of parameters: run at one scale on a 5x6 input to keep CI fast (their parameter
# counts at every scale are asserted in their family tests).
HEAVY = {"edsr", "rdn"}
CASES = [(name, scale) for name in list_models() for scale in SCALES if name not in HEAVY or scale == 2]
# Modules that rebuild the image at the output resolution: the only ones allowed to change with scale.
RECONSTRUCTION = ("upsample.", "conv_last.", "tail.")


@functools.cache
def _model(name, scale, channels=3):
    """Built once per test session; tests set the mode they need and clear gradients."""
    return create_model(name, scale=scale, in_channels=channels, out_channels=channels)


def _input(name, channels=3, batch=1):
    size = (5, 6) if name in HEAVY else (11, 13)
    return torch.rand(batch, channels, *size, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(("name", "scale"), CASES)
def test_forward_shape_and_batch_independence(name, scale):
    x = _input(name, batch=2)
    model = _model(name, scale).eval()
    with torch.no_grad():
        y, second_alone = model(x), model(x[1:])
    assert y.shape == (2, 3, x.shape[2] * scale, x.shape[3] * scale)
    assert torch.isfinite(y).all()
    torch.testing.assert_close(y[1:], second_alone, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("name", "scale"), CASES)
def test_backward_reaches_every_trainable_parameter(name, scale):
    torch.manual_seed(0)
    model = _model(name, scale).train()
    model.zero_grad(set_to_none=True)
    x = _input(name).requires_grad_(True)
    y = model(x)
    (y * torch.randn_like(y)).sum().backward()
    assert x.grad is not None
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{name} x{scale}: no gradient for {missing}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.zero_grad(set_to_none=True)


@pytest.mark.parametrize("name", list_models())
def test_single_channel(name):
    x = _input(name, channels=1)
    with torch.no_grad():
        y = _model(name, 2, channels=1).eval()(x)
    assert y.shape == (1, 1, x.shape[2] * 2, x.shape[3] * 2)


@pytest.mark.parametrize("name", list_models())
def test_train_and_eval_modes_agree(name):
    model, x = _model(name, 2), _input(name)
    with torch.no_grad():
        train_out = model.train()(x)
        eval_out = model.eval()(x)
    assert not model.training
    torch.testing.assert_close(eval_out, train_out, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list_models())
def test_x2_weights_seed_x4_except_the_reconstruction(name):
    with torch.device("meta"):
        x2 = create_model(name, scale=2).state_dict()
        x4 = create_model(name, scale=4).state_dict()
    differing = (set(x2) ^ set(x4)) | {k for k in set(x2) & set(x4) if x2[k].shape != x4[k].shape}
    assert all(k.startswith(RECONSTRUCTION) for k in differing), sorted(differing)


def _official_names():
    """Model names with official parameter counts in any family test file's OFFICIAL_PARAMS."""
    names = set()
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_official_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        names |= {key[0] for key in getattr(module, "OFFICIAL_PARAMS", {}) if isinstance(key[0], str)}
    return names


def test_every_model_has_official_parameter_counts():
    missing = set(list_models()) - _official_names()
    assert not missing, f"add these models' official counts to an OFFICIAL_PARAMS dict: {sorted(missing)}"
