"""profile (params, MACs via FlopCounterMode) and latency."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sr_eval import count_parameters, latency, profile, time_calls_ms


class TinySR(nn.Module):
    """conv 3->8 (3x3), conv 8->3*s*s (3x3), pixel shuffle."""

    def __init__(self, scale: int = 2):
        super().__init__()
        self.head = nn.Conv2d(3, 8, 3, padding=1)
        self.tail = nn.Conv2d(8, 3 * scale * scale, 3, padding=1)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.tail(torch.relu(self.head(x))))


def test_params_and_macs_match_closed_form():
    model = TinySR(scale=2)
    expected_params = (3 * 8 * 9 + 8) + (8 * 12 * 9 + 12)
    prof = profile(model, scale=2, hr_size=(64, 96))
    assert prof.params == expected_params == count_parameters(model)
    pixels = 32 * 48
    head, tail = pixels * 3 * 8 * 9, pixels * 8 * 12 * 9
    assert prof.macs == head + tail
    assert prof.per_module == {"head": head, "tail": tail}
    assert prof.lr_size == (32, 48)


def test_default_hr_size_is_720p_and_lr_is_floored():
    prof = profile(TinySR(scale=3), scale=3)
    assert prof.lr_size == (240, 426)
    assert prof.macs == 240 * 426 * (3 * 8 * 9 + 8 * 27 * 9)


def test_an_lr_size_overrides_the_hr_size():
    prof = profile(TinySR(scale=2), scale=2, lr_size=(10, 7))
    assert prof.lr_size == (10, 7)
    assert prof.macs == 70 * (3 * 8 * 9 + 8 * 12 * 9)


def test_frozen_parameters_are_not_counted_and_model_is_untouched():
    model = TinySR()
    model.head.requires_grad_(False)
    prof = profile(model, scale=2, hr_size=(16, 16))
    assert prof.params == 8 * 12 * 9 + 12
    assert model.head.weight.device.type == "cpu" and not model.head.weight.is_meta


def test_models_without_meta_kernels_fall_back_to_a_real_run():
    class NeedsValues(TinySR):
        def forward(self, x):
            if x.sum().item() > 1e9:  # data-dependent: impossible on the meta device
                return x
            return super().forward(x)

    prof = profile(NeedsValues(), scale=2, hr_size=(16, 16))
    assert prof.macs == 64 * (3 * 8 * 9 + 8 * 12 * 9)


def test_profile_rejects_bad_sizes():
    with pytest.raises(ValueError, match="smaller than the scale"):
        profile(TinySR(), scale=4, hr_size=(2, 2))


def test_latency_reports_median_and_spread():
    result = latency(TinySR(), (16, 16), warmup=1, repeats=5)
    assert result.repeats == 5 and result.device == "cpu" and result.dtype == "float32"
    assert 0 < result.min_ms <= result.median_ms and result.iqr_ms >= 0
    assert result.input_shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="repeats"):
        latency(TinySR(), (16, 16), repeats=0)


def test_time_calls_ms_runs_warmup_then_timed_calls_each_between_syncs():
    events = []
    times = time_calls_ms(
        lambda: events.append("run"), warmup=2, repeats=3, sync=lambda: events.append("sync")
    )
    assert len(times) == 3 and all(t >= 0 for t in times)
    assert events == ["run", "run"] + ["sync", "run", "sync"] * 3
    with pytest.raises(ValueError, match="repeats >= 1"):
        time_calls_ms(lambda: None, warmup=0, repeats=0)
