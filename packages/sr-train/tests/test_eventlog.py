"""TensorBoard event files: the tags and steps a run writes, a killed and resumed run's curves, and a
run without the package (nothing written, nothing of TensorBoard imported)."""

import json
import subprocess
import sys
import textwrap

import pytest

from sr_train import TrainConfig, Trainer
from sr_train.eventlog import EVENTS_DIR, open_event_log

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402

SCALARS = ["train/loss", "train/lr", "train/patches_per_s", "val/psnr", "val/ssim"]


def _config(out_dir, **extra):
    settings = dict(
        steps=12,
        batch_size=8,
        lr=1e-2,
        log_every=2,
        val_every=4,
        checkpoint_every=3,
        out_dir=str(out_dir),
        progress=False,
        seed=3,
        deterministic=True,
    )
    return TrainConfig(**{**settings, **extra})


def _read(folder):
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def _raw_steps(folder):
    """(tag, step) of every point in the event files, as written (no reader's purging)."""
    return [
        (value.tag, event.step)
        for path in sorted(folder.glob("events.out.tfevents.*"))
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
    ]


def test_run_writes_expected_tags_and_steps(tmp_path, tiny_model, pairs):
    Trainer(tiny_model(), pairs(40), pairs(6, seed=9), _config(tmp_path)).fit()
    events = _read(tmp_path / EVENTS_DIR)
    assert sorted(events.Tags()["scalars"]) == sorted(SCALARS)
    for tag in ("train/loss", "train/lr", "train/patches_per_s"):
        assert [e.step for e in events.Scalars(tag)] == [2, 4, 6, 8, 10, 12]
    metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    val = [m for m in metrics if "val_psnr" in m]
    assert [e.step for e in events.Scalars("val/psnr")] == [m["step"] for m in val] == [4, 8, 12]
    assert [e.value for e in events.Scalars("val/psnr")] == pytest.approx([m["val_psnr"] for m in val])
    assert [e.step for e in events.Scalars("val/ssim")] == [4, 8, 12]
    images = events.Images("val/image")
    assert [e.step for e in images] == [4, 8, 12]
    assert (images[0].width, images[0].height) == (3 * 16, 16)  # LR bicubic | SR | HR of a 16x16 HR patch


class Killed(Exception):
    pass


def test_killed_and_resumed_run_has_no_step_twice(tmp_path, tiny_model, pairs, monkeypatch):
    data, val = pairs(40), pairs(6, seed=9)
    Trainer(tiny_model(), data, val, _config(tmp_path / "full", log_every=1)).fit()

    original_step = Trainer._train_step

    def step_then_die(self, lr, hr):
        if self.step == 7:  # killed during step 8: last.pt holds step 6, the events reach step 7
            raise Killed
        original_step(self, lr, hr)

    monkeypatch.setattr(Trainer, "_train_step", step_then_die)
    with pytest.raises(Killed):
        Trainer(tiny_model(), data, val, _config(tmp_path / "cut", log_every=1)).fit()
    monkeypatch.setattr(Trainer, "_train_step", original_step)
    cut = tmp_path / "cut" / EVENTS_DIR
    assert max(step for tag, step in _raw_steps(cut) if tag == "train/loss") == 7
    (event_file,) = cut.glob("events.out.tfevents.*")
    with open(event_file, "ab") as stream:  # a record cut short by the kill
        stream.write(b"\x30\x00\x00\x00\x00\x00")
    Trainer(tiny_model(), data, val, _config(tmp_path / "cut", log_every=1)).fit()

    raw = _raw_steps(cut)
    assert len(raw) == len(set(raw)), "a step was written twice"
    full, resumed = _read(tmp_path / "full" / EVENTS_DIR), _read(cut)
    for tag in ("train/loss", "train/lr", "val/psnr"):
        assert [e.step for e in resumed.Scalars(tag)] == [e.step for e in full.Scalars(tag)]
        assert [e.value for e in resumed.Scalars(tag)] == pytest.approx([e.value for e in full.Scalars(tag)])
    assert [e.step for e in resumed.Images("val/image")] == [4, 8, 12]


def test_fresh_start_replaces_the_old_curves(tmp_path, tiny_model, pairs):
    Trainer(tiny_model(), pairs(40), None, _config(tmp_path)).fit()
    Trainer(tiny_model(), pairs(40), None, _config(tmp_path, resume=False, steps=4)).fit()
    events = _read(tmp_path / EVENTS_DIR)
    assert [e.step for e in events.Scalars("train/loss")] == [2, 4]


def test_switched_off_writes_nothing(tmp_path, tiny_model, pairs):
    Trainer(tiny_model(), pairs(40), pairs(6), _config(tmp_path, steps=2, tensorboard=False)).fit()
    assert (tmp_path / "metrics.jsonl").exists() and not (tmp_path / EVENTS_DIR).exists()
    assert open_event_log(tmp_path / EVENTS_DIR, enabled=False) is None


def test_without_the_package_nothing_is_imported(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["tensorboard"] = None  # as if not installed: importing it raises ImportError
        import torch
        from torch import nn
        from sr_train import PatchTensors, TrainConfig, Trainer

        model = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2))
        data = PatchTensors(torch.rand(8, 3, 8, 8), torch.rand(8, 3, 16, 16))
        config = TrainConfig(steps=2, batch_size=4, log_every=1, val_every=1, out_dir={str(tmp_path)!r},
                             progress=False)
        Trainer(model, data, data, config).fit()
        loaded = [name for name in sys.modules if "tensorboard" in name and sys.modules[name] is not None]
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    assert (tmp_path / "metrics.jsonl").exists() and (tmp_path / "last.pt").exists()
    assert not (tmp_path / EVENTS_DIR).exists()
