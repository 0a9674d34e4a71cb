"""Running `esr-ea` as a user does, in a fresh interpreter, and the tiny budgets the tests run with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sr_data import decode_image_with_alpha
from sr_search_evo.fronts import costs_of
from sr_search_evo.plots import plot_fronts

TESTS = Path(__file__).parent
ESR_EA_EXAMPLE = TESTS / "esr_ea_example.yaml"
FAULTY = TESTS / "faulty_esr_ea.py"
GENEROUS_WAIT = 600.0  # seconds: a bound for a hung run, not a measure of speed
TINY_DATA = {"patch_size": 16, "batch_size": 4, "patches_per_epoch": 8, "val": "holdout:1", "val_crop": 32}

# A small space (G0 8, at most 3 blocks of 2 convs) for the runs that test faults, not results
TINY_CONFIG = f"""
nas:
    dataset: {json.dumps(TINY_DATA)}
    search_space:
        esrbody: {{block_type: [S, C], conv_num: [2], growth_rate: [8], type_prob: [1, 1], conv_prob: [1],
                  growth_prob: [1], G0: 8, scale: 2}}
    search_algorithm:
        policy: {{num_generation: 2, num_individual: 3, num_elitism: 1, mutation_rate: 0.5}}
        range: {{node_num: 3, min_active: 1, max_params: null, min_params: null}}
    trainer: {{epochs: 1}}
fully_train:
    dataset: {json.dumps({**TINY_DATA, "val_crop": 0})}
    trainer: {{epochs: 1, val_ssim: false}}
evaluate: {{test: [samples]}}
"""


def example_tiny_budget(test_folder: Path) -> list[str]:
    """--set arguments that shrink ESR_EA's example budget (its search space and parameter window stay)."""
    overrides = {
        "nas.dataset": TINY_DATA,
        "nas.search_algorithm.policy": {"num_generation": 2, "num_individual": 2, "num_elitism": 1},
        "nas.trainer.epochs": 1,
        "fully_train.top_k": 2,
        "fully_train.dataset": TINY_DATA,
        "fully_train.trainer": {"epochs": 2, "lr_scheduler": {"milestones": [1]}, "val_ssim": False},
        "evaluate.test": [str(test_folder)],
    }
    return [arg for key, value in overrides.items() for arg in ("--set", f"{key}={json.dumps(value)}")]


def command(*args: str, via: Path | None = None) -> list[str]:
    """The `esr-ea` command line (or `via`, a script that runs it with a fault injected)."""
    return [sys.executable, *([str(via)] if via else ["-m", "sr_esr_ea.cli"]), *args]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def esr_ea(*args: str, cwd: Path, via: Path | None = None, **extra_env: str) -> subprocess.CompletedProcess:
    """Run `esr-ea` to its end in a fresh interpreter (one thread)."""
    return subprocess.run(
        command(*args, via=via),
        cwd=cwd,
        env=environment(**extra_env),
        capture_output=True,
        text=True,
        timeout=GENEROUS_WAIT,
    )


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """Start `esr-ea` in the background (quiet, output discarded)."""
    return subprocess.Popen(
        command(*args), cwd=cwd, env=environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], what: str) -> None:
    """The handshake: poll until `ready()` (the run has reached a point), then SIGKILL the run at once."""
    deadline = time.monotonic() + GENEROUS_WAIT
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.wait()
    assert ready(), f"the run ended (exit {process.returncode}) or stalled before {what}"


def history(out: Path) -> list[dict]:
    path = out / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def assert_plots_draw_the_run(out: Path, scale: int = 2) -> list[str]:
    """Every pareto_<cost>.png of the run in `out` is, pixel for pixel, what sr_search_evo.plots
    draws from the run's own files (history.jsonl, best_genes.json, front.json): a plot of other
    records, another top or another front fails. Returns the names of the plots."""
    records = history(out)
    by_key = {r["key"]: r for r in records}
    top = [by_key[b["key"]] for b in json.loads((out / "best_genes.json").read_text())]
    front = json.loads((out / "front.json").read_text())
    title, latency = f"ESR_EA search, x{scale}", front["units"].get("latency_ms")
    with tempfile.TemporaryDirectory() as folder:
        paths = plot_fronts(records, costs_of(records), top, front["front"], Path(folder), title, latency)
        for path in paths:
            drawn, expected = decode_image_with_alpha(out / path.name), decode_image_with_alpha(path)
            assert drawn.pixels.shape == expected.pixels.shape, path.name
            assert (drawn.pixels == expected.pixels).all(), f"{path.name} draws other data"
    return [path.name for path in paths]
