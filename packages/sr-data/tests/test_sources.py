import pytest

from sr_data import PairedFolder, SampleImages, open_test_sets, open_training_images


def test_samples_and_missing_folder(tmp_path):
    pytest.importorskip("skimage")
    assert isinstance(open_training_images("samples", 2), SampleImages)
    with pytest.raises(FileNotFoundError, match="nope"):
        open_training_images(str(tmp_path / "nope"), 2)


def test_folder_kinds(tmp_path):
    import numpy as np

    from sr_data import write_image

    (tmp_path / "HR").mkdir()
    write_image(tmp_path / "HR" / "a.png", np.random.rand(8, 8, 3))
    assert isinstance(open_training_images(str(tmp_path), 2), PairedFolder)
    div2k = tmp_path / "div2k"
    (div2k / "DIV2K_train_HR").mkdir(parents=True)
    write_image(div2k / "DIV2K_train_HR" / "0001.png", np.random.rand(8, 8, 3))
    with pytest.raises(FileNotFoundError, match="DIV2K: missing HR image"):  # a root is read as DIV2K
        open_training_images(str(div2k), 2)


def test_missing_benchmarks_fall_back_to_samples(monkeypatch, tmp_path):
    pytest.importorskip("skimage")
    monkeypatch.setenv("SR_DATASETS", str(tmp_path))
    monkeypatch.setenv("SR_DATA_ROOT", str(tmp_path))
    notes: list[str] = []
    found = open_test_sets(["NoSuchSet"], 2, notes)
    assert [type(s) for s in found] == [SampleImages]
    assert any("NoSuchSet" in n for n in notes)


def test_split_holdout_keeps_the_last_images_out_of_training(tmp_path):
    import numpy as np

    from sr_data import split_holdout, write_image

    for name in "abcd":
        write_image(tmp_path / f"{name}.png", np.random.rand(8, 8, 3))
    images = PairedFolder(tmp_path, scale=2)
    train, held = split_holdout(images, 1)
    assert [p.hr.name for p in train.pairs] == ["a.png", "b.png", "c.png"]
    assert [p.hr.name for p in held.pairs] == ["d.png"]
    assert held.name == "holdout" and held.scale == train.scale == 2
    for count in (0, 4):
        with pytest.raises(ValueError, match=f"cannot hold out {count} of 4"):
            split_holdout(images, count)
