"""RunFolder: settings recorded only after the checks, compared by meaning, refused with the diff;
stages with done-markers; one run log."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from sr_train import RunFolder, SettingsChanged, path_setting, record_run_settings, settings_differences


def test_differences_name_nested_keys():
    assert settings_differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3}, "d": 4}) == [
        "a.c: 2 -> 3",
        "d: None -> 4",
    ]
    assert settings_differences({"a": 1}, {"a": 1}) == []


def test_check_alone_writes_nothing_so_a_refused_command_leaves_no_folder(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.check({"lr": 1e-3})
    assert not folder.path.exists()


def test_a_changed_setting_is_refused_with_the_diff_and_nothing_is_overwritten(tmp_path):
    settings = {"train": {"lr": 1e-3, "device": "cpu"}, "scale": 2}
    folder = RunFolder(tmp_path / "run").open(settings)
    recorded = folder.settings_path.read_bytes()
    assert yaml.safe_load(recorded) == settings
    RunFolder(tmp_path / "run").open(settings)  # the same settings: a resume
    RunFolder(tmp_path / "run").open({**settings, "train": {"lr": 1e-3, "device": "cuda"}}, ["train.device"])
    with pytest.raises(
        SettingsChanged, match=r"other settings \(scale: 2 -> 4; train\.lr: 0\.001 -> 0\.002\)"
    ):
        RunFolder(tmp_path / "run").open({"train": {"lr": 2e-3, "device": "cpu"}, "scale": 4})
    assert folder.settings_path.read_bytes() == recorded


def test_settings_compare_by_meaning_not_spelling(tmp_path, monkeypatch):
    photos = tmp_path / "photos"
    photos.mkdir()
    monkeypatch.chdir(tmp_path)
    RunFolder("runs/r1").open({"data": path_setting("photos"), "betas": (0.9, 0.99), "lr": 2e-4})
    # the same run reached by an absolute path, the data spelt another way, a tuple as a list
    absolute = tmp_path / "runs" / "r1"
    RunFolder(absolute).open({"data": path_setting(str(photos) + "/"), "betas": [0.9, 0.99], "lr": 0.0002})
    assert path_setting("samples") == "samples"  # a word that is not a path stays a word
    # a moved folder is the same run: its own path is not a setting
    shutil.move(str(absolute), str(tmp_path / "moved"))
    RunFolder(tmp_path / "moved").open({"data": path_setting("./photos"), "betas": [0.9, 0.99], "lr": 2e-4})


def test_stages_run_once_and_a_rerun_returns_the_recorded_result(tmp_path):
    calls = []

    def work():
        calls.append(1)
        return {"psnr": 30.5, "path": tmp_path}

    folder = RunFolder(tmp_path / "run").open({})
    assert folder.done("train") is None
    first = folder.stage("train", work)
    again = RunFolder(tmp_path / "run").open({}).stage("train", work)
    assert first == again == {"psnr": 30.5, "path": str(tmp_path)} and len(calls) == 1
    assert folder.done("train") == first and folder.finished_stages() == {"train": first}
    folder.stage("int8", work, settings={"bits": 8})
    folder.stage("int8", work, settings={"bits": 8})
    folder.stage("int8", work, settings={"bits": 4})  # other stage settings: runs again
    assert len(calls) == 3
    log = (tmp_path / "run" / "run.log").read_text()
    assert "train: already done, skipped" in log and "settings changed (bits: 8 -> 4)" in log


def test_a_pipeline_may_call_its_work_itself_with_finished_and_record(tmp_path):
    folder = RunFolder(tmp_path / "run").open({})
    calls = []

    def train():
        calls.append(1)
        return {"steps": 10}

    for _ in range(2):
        result = folder.finished("train") or folder.record("train", train())
        assert result == {"steps": 10}
    assert len(calls) == 1 and folder.done("train") == {"steps": 10}
    assert "train: already done, skipped" in (tmp_path / "run" / "run.log").read_text()


def test_a_stage_that_fails_leaves_no_marker(tmp_path):
    folder = RunFolder(tmp_path / "run").open({})

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        folder.stage("train", broken)
    assert folder.done("train") is None and not folder.stage_path("train").exists()


def test_an_unwritable_folder_is_an_os_error_naming_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError) as caught:
        RunFolder(blocker / "run").open({"a": 1})
    assert str(blocker) in str(caught.value.filename)
    with pytest.raises(NotADirectoryError, match="exists and is not a folder") as caught:
        RunFolder(blocker).open({"a": 1})  # --out names a file
    assert caught.value.filename == str(blocker) and blocker.read_text() == ""
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(PermissionError):
            RunFolder(locked / "run").open({"a": 1})


def test_record_run_settings_is_a_deprecated_alias(tmp_path):
    with pytest.warns(DeprecationWarning, match="RunFolder"):
        record_run_settings(tmp_path / "run", {"a": 1})
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="a: 1 -> 2"):
        record_run_settings(tmp_path / "run", {"a": 2})
