"""The registry: lookup errors, scale checks, None-kwarg dropping, duplicate names."""

import pytest
import torch
from torch import nn

from sr_blocks import create_model, list_models, model_entry, register_model
from sr_blocks import registry as registry_module


@pytest.fixture
def scratch_registry(monkeypatch):
    """A copy of the registry for tests that register models, thrown away afterwards."""
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))


class Recorder(nn.Module):
    def __init__(self, scale, **kwargs):
        super().__init__()
        self.scale, self.kwargs = scale, kwargs


def test_unknown_name_is_a_key_error_listing_the_models():
    with pytest.raises(KeyError) as err:
        create_model("no_such_net")
    message = str(err.value)
    assert "no_such_net" in message
    for name in ("edsr_baseline", "imdn", "sr_data"):  # sr_data: the installed factory asked too
        assert name in message


def test_unsupported_scale_is_a_value_error_naming_the_scales():
    with pytest.raises(ValueError, match=r"supports scales \[2, 3, 4\], not 5"):
        create_model("edsr_baseline", scale=5)


@pytest.mark.parametrize("scale", [2.0, True, "2"])
def test_non_integer_scale_is_a_value_error(scale):
    with pytest.raises(ValueError, match=r"supports scales \[2, 3, 4\], not"):
        create_model("imdn", scale=scale)


def test_preset_refuses_to_change_what_it_fixes():
    with pytest.raises(TypeError, match=r"preset 'sesr_m5' fixes m=5, .* cannot take m.*'sesr'"):
        create_model("sesr_m5", m=3)
    with pytest.raises(TypeError, match=r"preset 'ecbsr_m4c8' fixes m=4, c=8 .* cannot take c.*'ecbsr'"):
        create_model("ecbsr_m4c8", c=16)
    # The general models take those values; the presets still take everything else.
    assert len(create_model("sesr", m=3).body) == 3
    assert create_model("ecbsr", c=12).head.conv3x3.out_channels == 12
    assert create_model("sesr_m5", in_channels=1, out_channels=1).conv_first.expand.in_channels == 1


def test_every_model_supports_scales_2_3_4():
    for name in list_models():
        assert set(model_entry(name).scales) >= {2, 3, 4}, name


def test_none_kwargs_are_dropped(scratch_registry):
    @register_model(scales=(2,))
    def recorder_net(scale=2, width=7, **kwargs):
        return Recorder(scale, width=width, **kwargs)

    model = create_model("recorder_net", scale=2, width=None, depth=None, in_channels=1)
    assert model.kwargs == {"width": 7, "in_channels": 1}
    with pytest.raises(ValueError, match="supports scales"):
        create_model("recorder_net", scale=3)


def test_duplicate_registration_is_refused(scratch_registry):
    before = model_entry("edsr").fn

    with pytest.raises(ValueError, match="already registered"):

        @register_model
        def edsr(scale=2, **kwargs):
            return Recorder(scale)

    assert model_entry("edsr").fn is before


def test_own_model_registers_and_builds(scratch_registry):
    @register_model(name="my_upsampler")
    def build(scale=2, in_channels=3, out_channels=3):
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels * scale**2, 3, padding=1), nn.PixelShuffle(scale)
        )

    assert "my_upsampler" in list_models()
    assert list_models("my_*") == ["my_upsampler"]
    assert create_model("my_upsampler", scale=3)(torch.rand(1, 3, 5, 6)).shape == (1, 3, 15, 18)


def test_list_models_is_sorted_and_filters():
    names = list_models()
    assert names == sorted(names)
    assert set(list_models("edsr*")) == {"edsr", "edsr_baseline"}
