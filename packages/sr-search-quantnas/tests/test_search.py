"""Tiny searches on the CPU with a fixed seed: the penalty lowers BitOps, the entropy term sparsifies the
alphas, and a search killed mid-way resumes to the same end as an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from sr_data import SampleImages
from sr_deploy.testing import one_thread  # noqa: F401 (autouse: one torch thread per test)
from sr_eval.runtime import Interrupted
from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network
from sr_search_quantnas.search import run_search
from sr_search_quantnas.search_data import make_search_data
from sr_search_quantnas.search_state import STATE_FILE, read_history
from sr_search_quantnas.settings import SearchSettings
from sr_search_quantnas.supernet import Supernet
from sr_train import SettingsChanged
from sr_train.eventlog import EVENTS_DIR, tensorboard_installed

TINY = {
    "scale": 2,
    "c_fixed": 8,
    "arch_pattern": {"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 0},
    "body_cells": 1,
    "bits": [8, 4],
    "primitives": {
        "head": ["simple_3x3", "simple_1x1"],
        "body": ["simple_3x3", "simple_1x1"],
        "skip": ["simple_1x1", "simple_3x3"],
        "upsample": ["simple_3x3", "simple_1x1"],
        "tail": ["simple_3x3"],
    },
    "skip_mode": False,
}
SEED = 3


def tiny_run(
    out: Path, cache: Path, log=lambda line: None, print_freq: int = 1000, act_bits=None, **search
) -> list[dict]:
    """A search of the tiny supernet on 12x12 LR crops of the sample photos; returns its history."""
    torch.manual_seed(SEED)
    supernet = Supernet(**TINY, quant_mode="shared", act_bits=act_bits)
    data = make_search_data(
        SampleImages("train", 2),
        crop_size=12,
        batch_size=4,
        search_subsample=1.0,
        seed=SEED,
        patches_per_epoch=32,
        cache_dir=cache,
    )
    settings = SearchSettings(
        **{"epochs": 3, "alpha_lr": 3e-2, "w_lr": 3e-3, "sparse_type": "none", **search}
    )

    def count(genotype, lr_size):
        net = build_network(genotype, scale=2, c_fixed=8, body_cells=1, skip_mode=False)
        return bitops(net, lr_size=lr_size).total

    run_search(supernet, data, settings, out, seed=SEED, bitops_of=count, log=log, print_freq=print_freq)
    return read_history(out)


def test_a_higher_penalty_finds_a_genotype_with_fewer_bitops(tmp_path):
    free = tiny_run(tmp_path / "p0", tmp_path / "cache", penalty=0.0)
    cheap = tiny_run(tmp_path / "p1", tmp_path / "cache", penalty=1e-2)
    assert cheap[-1]["genotype_bitops"] < free[-1]["genotype_bitops"]
    assert cheap[-1]["expected_bitops"] < free[-1]["expected_bitops"]
    for name in ("best_arch.gen", "last_arch.gen", "alpha_history.jsonl", STATE_FILE):
        assert (tmp_path / "p1" / name).is_file()


def test_searched_activation_bits_move_to_the_cheaper_width_under_a_penalty(tmp_path):
    history = tiny_run(tmp_path / "act", tmp_path / "cache", act_bits=[8, 4], penalty=1e-1)
    last = history[-1]
    genotype = parse_genotype(last["genotype"])
    entries = genotype.head + genotype.body + genotype.skip + genotype.upsample
    assert {len(entry) for entry in entries} == {3} and {entry[2] for entry in entries} == {4}
    act_rows = [i for i, name in enumerate(last["layers"]) if name.endswith(".act")]
    assert [last["layers"][i] for i in act_rows] == [
        "head.0.act",
        "body.0.act",
        "skip.0.act",
        "upsample.0.act",
    ]
    assert all(last["candidates"][i] == ["act@8", "act@4"] for i in act_rows)
    assert all(last["alpha_probs"][i][1] > 0.5 for i in act_rows)  # the 4-bit activations gained
    assert parse_genotype((tmp_path / "act" / "last_arch.gen").read_text()) == genotype


def test_the_entropy_regulariser_lowers_the_alphas_entropy_over_epochs(tmp_path):
    plain = tiny_run(tmp_path / "none", tmp_path / "cache", epochs=4)
    sparse = tiny_run(tmp_path / "ent", tmp_path / "cache", epochs=4, sparse_type="entropy", sparse_coef=1.0)
    entropy = [row["alpha_entropy"] for row in sparse]
    assert entropy[-1] < entropy[0]
    assert all(b <= a + 1e-6 for a, b in zip(entropy[1:], entropy[2:], strict=False))
    assert sparse[-1]["alpha_entropy"] < plain[-1]["alpha_entropy"]
    assert [row["entropy_weight"] for row in sparse][0] == 0.0


KILLABLE = """
import sys, time, torch
sys.path.insert(0, {tests!r})
from test_search import tiny_run
torch.set_num_threads(1)
def slow(line):
    if line.startswith("epoch"):
        print(line, flush=True)
        time.sleep(30)
tiny_run(__import__("pathlib").Path({out!r}), __import__("pathlib").Path({cache!r}), log=slow, epochs=4,
         sparse_type="entropy", sparse_coef=0.1, alpha_selector="gumbel")
"""


def test_a_killed_search_resumes_from_its_last_epoch_and_ends_like_an_uninterrupted_one(tmp_path):
    out, cache = tmp_path / "killed", tmp_path / "cache"
    script = KILLABLE.format(tests=str(Path(__file__).parent), out=str(out), cache=str(cache))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()  # the first epoch's line: its files are written, it sleeps now
        assert line.startswith("epoch 1/4"), line
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(read_history(out)) == 1
    state_epoch = torch.load(out / STATE_FILE, weights_only=True)["epoch"]
    assert state_epoch == 1
    lines: list[str] = []
    resumed = tiny_run(
        out,
        cache,
        log=lines.append,
        epochs=4,
        sparse_type="entropy",
        sparse_coef=0.1,
        alpha_selector="gumbel",
    )
    assert lines[0].startswith("search: 16 weight / 16 alpha / 16 selection patches of 12x12 LR per epoch")
    assert lines[1].startswith("resuming the search at epoch 2/4")
    whole = tiny_run(
        tmp_path / "whole", cache, epochs=4, sparse_type="entropy", sparse_coef=0.1, alpha_selector="gumbel"
    )
    assert len(resumed) == len(whole) == 4
    for a, b in zip(resumed, whole, strict=True):
        assert a["genotype"] == b["genotype"]
        assert a["train_l1"] == pytest.approx(b["train_l1"], rel=1e-5)
        torch.testing.assert_close(
            torch.tensor(a["alpha_probs"]), torch.tensor(b["alpha_probs"]), rtol=1e-5, atol=1e-7
        )
    saved = [torch.load(d / STATE_FILE, weights_only=True)["supernet"] for d in (out, tmp_path / "whole")]
    for key in saved[0]:
        torch.testing.assert_close(saved[0][key], saved[1][key], rtol=1e-5, atol=1e-6)
    best = (out / "best_arch.gen").read_text()
    assert best == (tmp_path / "whole" / "best_arch.gen").read_text()
    assert json.loads((out / "alpha_history.jsonl").read_text().splitlines()[-1])["epoch"] == 4
    if tensorboard_installed():  # the event log continues its curves, no step twice
        raw = raw_event_steps(out / EVENTS_DIR)
        assert len(raw) == len(set(raw)) and sorted(raw) == sorted(
            raw_event_steps(tmp_path / "whole" / EVENTS_DIR)
        )


def raw_event_steps(folder: Path) -> list[tuple[str, int]]:
    """(tag, step) of every point in `folder`'s event files, as written."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    return [
        (value.tag, event.step)
        for path in sorted(folder.glob("events.out.tfevents.*"))
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
    ]


def test_the_event_log_draws_entropy_penalty_and_bitops_per_step(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    history = tiny_run(tmp_path / "run", tmp_path / "cache", epochs=2, penalty=1e-2, warm_up=1, print_freq=2)
    events = EventAccumulator(str(tmp_path / "run" / EVENTS_DIR), size_guidance={"scalars": 0})
    events.Reload()
    for tag in ("search/train_l1", "search/alpha_entropy", "search/genotype_bitops"):
        assert [e.step for e in events.Scalars(tag)] == [1, 3, 5, 7]  # 4 steps an epoch, a point every 2
    assert [e.step for e in events.Scalars("search/bitops_penalty")] == [5, 7]  # after the warm-up epoch
    assert all(e.value > 0 for e in events.Scalars("search/genotype_bitops"))
    for key in ("selection_l1", "temperature", "expected_bitops"):
        points = events.Scalars(f"epoch/{key}")
        assert [e.step for e in points] == [4, 8]
        assert [e.value for e in points] == pytest.approx([row[key] for row in history])


def test_resuming_with_other_settings_is_an_error(tmp_path):
    tiny_run(tmp_path / "run", tmp_path / "cache", epochs=1)
    with pytest.raises(SettingsChanged, match=r"other settings \(penalty: 0\.0 -> 1\.0\)"):
        tiny_run(tmp_path / "run", tmp_path / "cache", epochs=1, penalty=1.0)


def test_ctrl_c_stops_with_the_saved_epochs_named_and_the_rerun_resumes(tmp_path):
    def interrupt_after_epoch_1(line: str) -> None:
        if line.startswith("epoch 1/"):
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match=r"search epoch 2 of 2 \(1 finished epoch\(s\) saved"):
        tiny_run(tmp_path / "run", tmp_path / "cache", log=interrupt_after_epoch_1, epochs=2)
    lines: list[str] = []
    history = tiny_run(tmp_path / "run", tmp_path / "cache", log=lines.append, epochs=2)
    assert "resuming the search at epoch 2/2" in lines and [row["epoch"] for row in history] == [1, 2]


def test_alphas_stay_frozen_during_warm_up_and_load_path_starts_from_a_saved_supernet(tmp_path):
    history = tiny_run(tmp_path / "warm", tmp_path / "cache", epochs=3, warm_up=2, penalty=1e-2)
    uniform = [[1 / len(p)] * len(p) for p in history[0]["alpha_probs"]]
    for row in history[:2]:
        torch.testing.assert_close(torch.tensor(row["alpha_probs"]), torch.tensor(uniform))
    assert history[2]["alpha_probs"] != history[1]["alpha_probs"]
    assert [row["temperature"] for row in history][:2] == [10.0, 10.0]
    loaded = tiny_run(
        tmp_path / "loaded",
        tmp_path / "cache",
        epochs=1,
        warm_up=1,
        load_path=str(tmp_path / "warm" / STATE_FILE),
    )
    torch.testing.assert_close(
        torch.tensor(loaded[0]["alpha_probs"]), torch.tensor(history[2]["alpha_probs"])
    )
