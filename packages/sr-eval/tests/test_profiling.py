"""profile (params, MACs via FlopCounterMode) and latency."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from sr_eval import count_parameters, interleaved_times_ms, latency, profile, time_calls_ms


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


class FakeClock:
    """A perf_counter that only moves when a call under test advances it (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    # the module, not the function `sr_eval.latency` that the package exports under its name
    module = sys.modules["sr_eval.latency"]
    monkeypatch.setattr(module, "time", SimpleNamespace(perf_counter=lambda: fake.now))
    return fake


def test_time_calls_ms_runs_warmup_then_timed_calls_each_between_syncs(clock):
    events = []

    def run():
        events.append("run")
        clock.advance(0.001 * len(events))  # a run that is the n-th event takes n ms

    times = time_calls_ms(run, warmup=2, repeats=3, sync=lambda: events.append("sync"))
    assert events == ["run", "run"] + ["sync", "run", "sync"] * 3
    assert times == pytest.approx([4.0, 7.0, 10.0])  # the timed runs are events 4, 7 and 10
    with pytest.raises(ValueError, match="repeats >= 1"):
        time_calls_ms(lambda: None, warmup=0, repeats=0)


def test_latency_reports_median_and_spread(clock):
    durations_ms = iter([9.0, 1.0, 5.0, 2.0, 4.0, 3.0])  # the first is the warm-up pass

    class Ticking(TinySR):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            clock.advance(next(durations_ms) / 1e3)
            return super().forward(x)

    result = latency(Ticking(), (16, 16), warmup=1, repeats=5)
    assert result.repeats == 5 and result.device == "cpu" and result.dtype == "float32"
    assert (result.min_ms, result.median_ms, result.mean_ms) == pytest.approx((1.0, 3.0, 3.0))
    assert result.iqr_ms == pytest.approx(4.5 - 1.5)  # quartiles of 1..5 ms
    assert result.input_shape == (1, 3, 16, 16)
    with pytest.raises(ValueError, match="repeats"):
        latency(TinySR(), (16, 16), repeats=0)


def test_interleaved_times_ms_rotates_the_order_and_times_each_call_apart(clock):
    order = []

    def call(name: str, ms: float):
        def run():
            order.append(name)
            clock.advance(ms / 1e3)

        return run

    syncs = []
    times = interleaved_times_ms(
        {"a": call("a", 1), "b": call("b", 2), "c": call("c", 4)},
        rounds=4,
        warmup=1,
        sync=lambda: syncs.append(len(order)),
    )
    # round 0 is the warm-up; every round starts one later in the order
    assert order == list("abcbcacababcbca")
    assert times == {name: pytest.approx([ms] * 4) for name, ms in (("a", 1), ("b", 2), ("c", 4))}
    assert syncs == [n for calls in range(15) for n in (calls, calls + 1)]  # around every call


def test_interleaved_times_ms_per_round_lists_line_up(clock):
    calls = {"ours": lambda: clock.advance(0.001), "theirs": lambda: clock.advance(0.003)}
    times = interleaved_times_ms(calls, rounds=3)
    ratios = [t / o for o, t in zip(times["ours"], times["theirs"], strict=True)]
    assert ratios == pytest.approx([3.0, 3.0, 3.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"calls": {"a": lambda: None}, "rounds": 0}, "rounds >= 1"),
        ({"calls": {"a": lambda: None}, "rounds": 1, "warmup": -1}, "warmup >= 0"),
        ({"calls": {}, "rounds": 1}, "at least one call"),
    ],
)
def test_interleaved_times_ms_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        interleaved_times_ms(**kwargs)
