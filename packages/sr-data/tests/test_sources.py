"""The one data grammar of every app: training images, validation specs and test-set names."""

from __future__ import annotations

import pytest

from sr_data import PairedFolder, open_test_sets, open_validation


def test_a_named_test_set_that_is_missing_is_an_error_never_the_sample_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="test set 'Set5': benchmark Set5 not found"):
        open_test_sets(["samples", "Set5"], 2)
    with pytest.raises(ValueError, match="test set 'Set6': unknown benchmark"):
        open_test_sets(["Set6"], 2)


def test_optional_test_sets_are_skipped_with_a_note(tmp_path, monkeypatch, image_folder):
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))
    image_folder("Set14", {"a": (16, 16)})
    notes: list[str] = []
    sets = open_test_sets(["samples", "Set5?", "Set14?"], 2, notes)
    assert [s.name for s in sets] == ["samples-test", "Set14"]
    assert notes == ["optional test sets not found (skipped): Set5"]
    notes.clear()
    fallback = open_test_sets(["Set5?", "BSD68?"], 2, notes)
    assert [s.name for s in fallback] == ["samples-test"] and "bundled sample photos" in notes[-1]


def test_validation_grammar(tmp_path, image_folder):
    folder = image_folder("photos", {f"p{i}": (16, 16) for i in range(4)})
    train = PairedFolder(folder, scale=2)
    kept, val, notes = open_validation("holdout:1", train, 2)
    assert (len(kept), len(val), val.name) == (3, 1, "holdout") and "last 1" in notes[0]
    assert open_validation("none", train, 2)[1] is None
    assert open_validation("samples", train, 2)[1].name == "samples-test"
    assert len(open_validation(str(folder), train, 2)[1]) == 4  # a folder
    for bad in ("holdout:4", "holdout:0", "holdout:x"):
        with pytest.raises(
            ValueError, match=rf"data\.val '{bad}': 'holdout:N' needs a whole number 0 < N < 4"
        ):
            open_validation(bad, train, 2, key="data.val")
    with pytest.raises(
        ValueError, match=r"data\.val 'Set6': unknown benchmark .*use holdout:N, samples, none"
    ):
        open_validation("Set6", train, 2, key="data.val")
