"""record_run_settings: a results folder refuses a resume with other settings."""

from __future__ import annotations

import pytest
import yaml

from sr_train import record_run_settings, settings_differences


def test_differences_name_nested_keys():
    assert settings_differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 4}) == [
        "a.c: 2 -> 3",
        "d: None -> 4",
    ]
    assert settings_differences({"a": 1}, {"a": 1}) == []


def test_a_resume_with_other_settings_is_refused(tmp_path):
    out = tmp_path / "run"
    settings = {"train": {"lr": 1e-3, "device": "cpu"}, "scale": 2}
    record_run_settings(out, settings)
    assert yaml.safe_load((out / "config.yaml").read_text()) == settings
    record_run_settings(out, settings)  # same settings: fine
    record_run_settings(
        out, {**settings, "train": {"lr": 1e-3, "device": "cuda"}}, may_change=["train.device"]
    )
    with pytest.raises(ValueError, match=r"other settings \(train\.lr: 0\.001 -> 0\.002\).*delete"):
        record_run_settings(out, {**settings, "train": {"lr": 2e-3, "device": "cpu"}})
    assert yaml.safe_load((out / "config.yaml").read_text()) == settings  # the first record is kept
