import os
import random

import numpy as np
import pytest
import torch

from sr_train import CHECKPOINT_FORMAT, TrainConfig, Trainer, load_checkpoint, save_checkpoint
from sr_train.checkpoint import capture_rng, restore_rng


def test_checkpoint_keys_rebuild_the_model(tmp_path, tiny_model, pairs):
    cfg = TrainConfig(steps=4, batch_size=4, ema_decay=0.5, out_dir=str(tmp_path), progress=False)
    Trainer(tiny_model(), pairs(8), pairs(2), cfg, model_name="tiny", model_kwargs={"width": 8}).fit()
    ckpt = torch.load(tmp_path / "last.pt", weights_only=True)
    assert ckpt["format"] == CHECKPOINT_FORMAT
    assert (ckpt["model_name"], ckpt["model_kwargs"], ckpt["scale"]) == ("tiny", {"width": 8}, 2)
    assert ckpt["config"]["ema_decay"] == 0.5 and ckpt["step"] == 4
    rebuilt = tiny_model(seed=7)
    rebuilt.load_state_dict(ckpt["state_dict"])
    # with EMA on, state_dict holds the averaged weights, train_state the raw ones
    raw = ckpt["train_state"]["model"]
    assert not torch.equal(raw["body.0.weight"], ckpt["state_dict"]["body.0.weight"])
    best = load_checkpoint(tmp_path / "best.pt")
    assert "train_state" not in best and best["state_dict"].keys() == raw.keys()


def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"step": 1})

    def broken_save(obj, handle):
        handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    mask = os.umask(0o022)
    try:
        save_checkpoint(path, {"step": 3})
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # readable like any other file, not mkstemp's 0600


class Payload:
    pass


def test_load_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"obj": Payload()}, path)
    with pytest.raises(ValueError, match="evil.pt"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_rng_states_round_trip_through_a_weights_only_file(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    save_checkpoint(tmp_path / "rng.pt", {"rng": capture_rng()})
    expected = (random.random(), np.random.rand(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    restore_rng(load_checkpoint(tmp_path / "rng.pt")["rng"])
    got = (random.random(), np.random.rand(), torch.rand(3))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])


def test_deployed_checkpoint_keeps_how_to_rebuild_and_loads_weights_only(tmp_path):
    from sr_train import deployed_checkpoint

    model = torch.nn.Conv2d(3, 3, 3)
    ckpt = {"model_name": "tiny", "model_kwargs": {"width": 8}, "scale": 2, "train_state": {"step": 1}}
    save_checkpoint(tmp_path / "deployed.pt", deployed_checkpoint(ckpt, model))
    loaded = load_checkpoint(tmp_path / "deployed.pt")
    assert loaded["deployed"] is True and loaded["format"] == CHECKPOINT_FORMAT
    assert (loaded["model_name"], loaded["model_kwargs"], loaded["scale"]) == ("tiny", {"width": 8}, 2)
    assert "train_state" not in loaded
    assert torch.equal(loaded["state_dict"]["weight"], model.weight.detach())


def test_model_checkpoint_holds_what_rebuilds_the_model(tmp_path):
    from sr_train import model_checkpoint

    torch.manual_seed(3)
    model = torch.nn.Conv2d(1, 9, 3, padding=1)
    kwargs = {"in_channels": 1, "out_channels": 1}
    save_checkpoint(tmp_path / "m.pt", model_checkpoint(model, "espcn", 3, kwargs))
    loaded = load_checkpoint(tmp_path / "m.pt")
    assert loaded["format"] == CHECKPOINT_FORMAT and "deployed" not in loaded
    assert (loaded["model_name"], loaded["model_kwargs"], loaded["scale"]) == ("espcn", kwargs, 3)
    rebuilt = torch.nn.Conv2d(1, 9, 3, padding=1)
    rebuilt.load_state_dict(loaded["state_dict"])
    x = torch.rand(1, 1, 7, 9)
    torch.testing.assert_close(rebuilt(x), model(x))
