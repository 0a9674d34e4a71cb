import gc
import random
import warnings
import weakref

import numpy as np
import pytest
import torch

import sr_train.api
from sr_train import PatchTensors, TrainConfig, Trainer, stack_patches, train_and_validate


def test_train_and_validate_improves_and_accepts_tensor_pairs(tiny_model, pairs):
    train, val = pairs(64), pairs(8, seed=1)
    model = tiny_model()
    before = train_and_validate(model, train, 1, val, lr=1e-9, batch_size=16)
    after = train_and_validate(model, (train.lr, train.hr), 60, (val.lr, val.hr), lr=3e-3, batch_size=16)
    assert after > before + 1.0, (before, after)


def test_repeated_calls_leave_nothing_behind(tiny_model, pairs, monkeypatch):
    """No trainer, optimiser or EMA copy survives a call; live tensors do not pile up."""
    refs = []

    class Tracked(Trainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            refs.append(weakref.ref(self))
            refs.append(weakref.ref(self.optimizer))
            refs.append(weakref.ref(self.ema.module))

    monkeypatch.setattr(sr_train.api, "Trainer", Tracked)
    train, val = pairs(32), pairs(4, seed=1)
    config = TrainConfig(steps=1, batch_size=8, ema_decay=0.9)

    def live_tensors():
        gc.collect()
        with warnings.catch_warnings():  # probing every object trips torch's deprecated-alias warnings
            warnings.simplefilter("ignore")
            return sum(1 for o in gc.get_objects() if isinstance(o, torch.Tensor))

    counts = []
    for _ in range(4):
        model = tiny_model()
        psnr = train_and_validate(model, train, 5, val, config=config)
        assert psnr == psnr and all(p.grad is None for p in model.parameters())
        del model
        counts.append(live_tensors())
    gc.collect()
    assert all(r() is None for r in refs)
    assert counts[-1] <= counts[1], counts


def test_stack_patches_reads_dict_datasets(pairs, augmented):
    stacked = stack_patches(augmented(pairs(10)), count=6)
    assert isinstance(stacked, PatchTensors)
    assert stacked.lr.shape == (6, 3, 8, 8) and stacked.hr.shape == (6, 3, 16, 16)


def test_data_smaller_than_a_batch_is_an_error(tiny_model, pairs):
    with pytest.raises(ValueError, match="fewer than one batch of 16"):
        Trainer(tiny_model(), pairs(5), None, TrainConfig(steps=1, batch_size=16))


def test_caller_random_streams_are_not_reset(tiny_model, pairs):
    """A search draws from the global RNGs between calls: a call must not reseed them (seed=0 each time)."""
    train, model = pairs(16), tiny_model()
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    expected = (random.random(), np.random.rand(), torch.rand(2))
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    train_and_validate(model, train, 2, batch_size=8)
    got = (random.random(), np.random.rand(), torch.rand(2))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])
