"""Stop at step k, resume from last.pt in a fresh process state, and get bitwise the same run."""

import json

import pytest
import torch

from sr_train import TrainConfig, Trainer, load_checkpoint


class Killed(Exception):
    pass


def _config(out_dir, **extra):
    # 40 items / batch 8 = 5 steps per epoch; checkpoints every 3 steps land mid-epoch (3, 6, 9)
    return TrainConfig(
        steps=12,
        batch_size=8,
        lr=1e-2,
        scheduler="multistep",
        milestones=[7],
        warmup_steps=2,
        ema_decay=0.9,
        grad_clip=1.0,
        checkpoint_every=3,
        val_every=4,
        val_ssim=False,
        out_dir=str(out_dir),
        progress=False,
        seed=3,
        deterministic=True,
        **extra,
    )


def _state(out_dir):
    ckpt = load_checkpoint(out_dir / "last.pt")
    return ckpt["train_state"], ckpt["state_dict"]


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if torch.is_tensor(a[key]):
            assert torch.equal(a[key], b[key]), key
        elif isinstance(a[key], dict):
            _assert_identical(a[key], b[key])
        else:
            assert a[key] == b[key], key


@pytest.mark.parametrize("kind", ["tensors", "dataset"])
def test_resume_is_bitwise_identical(tmp_path, tiny_model, pairs, augmented, monkeypatch, kind):
    data = pairs(40) if kind == "tensors" else augmented(pairs(40))
    val = pairs(6, seed=9)
    full = Trainer(tiny_model(seed=0), data, val, _config(tmp_path / "full")).fit()

    original_step = Trainer._train_step

    def step_then_die(self, lr, hr):
        if self.step == 7:  # killed during step 8: last.pt holds step 6, mid-epoch (epoch 1, batch 1)
            raise Killed
        original_step(self, lr, hr)

    monkeypatch.setattr(Trainer, "_train_step", step_then_die)
    with pytest.raises(Killed):
        Trainer(tiny_model(seed=0), data, val, _config(tmp_path / "cut")).fit()
    monkeypatch.setattr(Trainer, "_train_step", original_step)
    cut_state_at_6 = load_checkpoint(tmp_path / "cut" / "last.pt")["train_state"]
    assert cut_state_at_6["step"] == 6 and cut_state_at_6["seconds"] > 0

    torch.manual_seed(1234)  # scramble the global RNG: resume must restore it from the checkpoint
    torch.rand(100)
    resumed = Trainer(tiny_model(seed=5), data, val, _config(tmp_path / "cut")).fit()

    full_state, full_weights = _state(tmp_path / "full")
    cut_state, cut_weights = _state(tmp_path / "cut")
    _assert_identical(full_weights, cut_weights)
    for key in ("model", "ema", "optimizer", "scheduler", "step", "epoch", "batch_in_epoch", "best_step"):
        _assert_identical({key: full_state[key]}, {key: cut_state[key]})
    assert resumed.best_psnr == full.best_psnr and resumed.final_loss == full.final_loss
    # training time adds up over the resume: the killed run's seconds up to step 6 count too
    assert resumed.total_seconds == pytest.approx(resumed.seconds + cut_state_at_6["seconds"])
    assert _metrics(tmp_path / "cut") == _metrics(tmp_path / "full")


def _metrics(out_dir):
    """metrics.jsonl without the timing field (a resumed run must log the same steps and values)."""
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "patches_per_s"} for r in records]


def test_finished_run_resumes_to_nothing(tmp_path, tiny_model, pairs):
    cfg = _config(tmp_path / "run")
    Trainer(tiny_model(), pairs(40), None, cfg).fit()
    before = (tmp_path / "run" / "last.pt").read_bytes()
    result = Trainer(tiny_model(), pairs(40), None, cfg).fit()
    assert result.steps == 12 and (tmp_path / "run" / "last.pt").read_bytes() == before


def test_epoch_budget_and_set_epoch(tmp_path, tiny_model, pairs, augmented):
    data = augmented(pairs(24))
    cfg = TrainConfig(epochs=3, batch_size=8, progress=False, tensorboard=False)
    result = Trainer(tiny_model(), data, None, cfg).fit()
    assert result.steps == 9 and data.epochs_seen == [0, 1, 2]


def test_weights_only_checkpoint_cannot_resume(tmp_path, tiny_model, pairs):
    out = tmp_path / "run"
    cfg = _config(out)
    Trainer(tiny_model(), pairs(40), pairs(4, seed=2), cfg).fit()
    (out / "best.pt").replace(out / "last.pt")
    with pytest.raises(ValueError, match="weights only"):
        Trainer(tiny_model(), pairs(40), None, cfg).fit()


def test_metrics_of_a_killed_run_do_not_pile_up(tmp_path, tiny_model, pairs):
    """A run killed before its first checkpoint (or mid-line) leaves metrics.jsonl behind: the next run
    must not append to stale lines, and a line cut short must not stop the resume."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.jsonl").write_text('{"step": 2, "loss": 9.0}\n{"step": 4, "lo')
    cfg = _config(out).replace(log_every=2, val_every=None)
    Trainer(tiny_model(), pairs(40), None, cfg).fit()
    steps = [r["step"] for r in _metrics(out)]
    assert steps == list(range(2, 13, 2)) and _metrics(out)[0]["loss"] != 9.0
    with (out / "metrics.jsonl").open("a") as handle:
        handle.write('{"step": 13, "lo')  # killed while writing, after last.pt (step 12)
    Trainer(tiny_model(), pairs(40), None, cfg).fit()
    assert [r["step"] for r in _metrics(out)] == steps


def test_resume_loads_the_checkpoint_on_the_cpu(tmp_path, tiny_model, pairs, monkeypatch):
    """RNG states must stay CPU byte tensors (torch.set_rng_state refuses CUDA ones); load_state_dict
    moves weights and optimiser state to the model's device."""
    import sr_train.trainer

    cfg = _config(tmp_path / "run")
    Trainer(tiny_model(), pairs(40), None, cfg.replace(steps=3)).fit()
    seen = []

    def spy(path, map_location="cpu"):
        seen.append(map_location)
        return load_checkpoint(path, map_location)

    monkeypatch.setattr(sr_train.trainer, "load_checkpoint", spy)
    Trainer(tiny_model(), pairs(40), None, cfg.replace(steps=4)).fit()
    assert seen == ["cpu"]  # not the trainer's device (which on a GPU machine is cuda:N)
