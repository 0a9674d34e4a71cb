"""create_model("bicubic") is sr-data's BicubicUpsampler, found through the sr_toolkit.models entry
points; names sr_blocks does not define go to the installed factories, with a clear error otherwise."""

import pytest
import torch
from torch import nn

from sr_blocks import create_model, list_models, model_entry
from sr_blocks import registry as registry_module
from sr_data import imresize
from sr_data.upsampler import BicubicUpsampler

GROUP = "sr_toolkit.models"

OFFICIAL_PARAMS = {("bicubic", 2): 0, ("bicubic", 4): 0}  # parameter-free (sr-data's factory)


@pytest.mark.parametrize(("name", "scale"), sorted(OFFICIAL_PARAMS))
def test_bicubic_has_no_parameters(name, scale):
    assert (
        sum(p.numel() for p in create_model(name, scale=scale).parameters()) == OFFICIAL_PARAMS[name, scale]
    )


def _random(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bicubic_is_sr_data_imresize_exactly(scale, dtype):
    model = create_model("bicubic", scale=scale)
    assert isinstance(model, BicubicUpsampler) and model.scale == scale
    x = _random(2, 3, 7, 9, seed=scale, dtype=dtype)
    torch.testing.assert_close(model(x), imresize(x, scale), rtol=0, atol=0)


def test_bicubic_takes_the_registry_keywords():
    model = create_model("bicubic", scale=3, in_channels=1, out_channels=1, width=None, deployed=True)
    assert sum(p.numel() for p in model.parameters()) == 0
    assert model(torch.rand(1, 1, 4, 5)).shape == (1, 1, 12, 15)
    with pytest.raises(ValueError, match="keeps the channel count"):
        create_model("bicubic", in_channels=3, out_channels=1)
    with pytest.raises(ValueError, match="positive integer scale"):
        create_model("bicubic", scale=2.0)


def test_bicubic_is_listed_and_has_an_entry_through_sr_data_factory():
    assert "bicubic" in list_models() and list_models("bic*") == ["bicubic"]
    assert model_entry("bicubic").scales == (2, 3, 4)
    assert isinstance(model_entry("bicubic").fn(scale=3), BicubicUpsampler)


def test_deprecated_bicubic_alias_warns_and_builds_the_same_model():
    from sr_blocks.bicubic import Bicubic

    with pytest.deprecated_call(match="create_model"):
        model = Bicubic(4)
    assert isinstance(model, BicubicUpsampler) and model.scale == 4


class _EntryPoint:
    """Stands in for an importlib.metadata.EntryPoint."""

    def __init__(self, name, factory):
        self.name, self._factory = name, factory

    def load(self):
        return self._factory


def _only_knows(known):
    def factory(name, scale=2, deployed=False, **kwargs):
        if name != known:
            raise KeyError(f"no {name!r} here")
        return nn.Upsample(scale_factor=scale)

    return factory


@pytest.fixture
def fake_entry_points(monkeypatch):
    """Replace the installed factories with `sr_blocks` (itself, skipped) and two fake providers."""
    eps = [
        _EntryPoint("sr_blocks", registry_module.create_model),
        _EntryPoint("first", _only_knows("alpha")),
        _EntryPoint("second", _only_knows("beta")),
    ]
    monkeypatch.setattr(
        registry_module, "entry_points", lambda group: eps if group == "sr_toolkit.models" else []
    )


def test_unknown_names_go_to_each_installed_factory_but_never_back_to_sr_blocks(fake_entry_points):
    assert set(registry_module.installed_factories()) == {"first", "second"}
    assert create_model("beta", scale=3).scale_factor == 3
    assert create_model("alpha").scale_factor == 2


def test_a_name_no_factory_knows_is_a_key_error_naming_models_and_factories(fake_entry_points):
    with pytest.raises(KeyError) as err:
        create_model("gamma")
    message = str(err.value)
    assert "unknown model 'gamma'" in message and "edsr_baseline" in message and "imdn" in message
    assert "sr_toolkit.models factories (first, second)" in message
