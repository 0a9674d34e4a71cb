"""The fault suite's way of running a command: the real CLI in a fresh interpreter (one thread),
optionally with faults injected (inject/sitecustomize.py), bounded in time so that a hang fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

INJECT = Path(__file__).parent / "inject"
HANG_BOUND_S = 240.0  # a run that takes longer hangs: a bound, not a measure of speed
CLIS = {"esr-ea": "sr_esr_ea.cli", "zoo": "sr_zoo.cli", "sesr": "sr_sesr.cli", "quantnas": "sr_quantnas.cli"}
CLIS["sr-eval"] = "sr_eval.cli"

# an ESR_EA search small enough for seconds: 2 generations of 4 candidates, 1 epoch of 8 patches each
TINY_DATA = {"patch_size": 16, "batch_size": 4, "patches_per_epoch": 8, "val": "holdout:1", "val_crop": 32}
ESR_SEARCH = f"""
nas:
    dataset: {json.dumps(TINY_DATA)}
    search_space:
        esrbody: {{block_type: [S, C], conv_num: [2], growth_rate: [8], type_prob: [1, 1], conv_prob: [1],
                  growth_prob: [1], G0: 8, scale: 2}}
    search_algorithm:
        policy: {{num_generation: 2, num_individual: 4, num_elitism: 1, mutation_rate: 0.5}}
        range: {{node_num: 3, min_active: 1, max_params: null, min_params: null}}
    trainer: {{epochs: 1}}
fully_train: {{top_k: 0, dataset: {json.dumps({**TINY_DATA, "val_crop": 0})}}}
evaluate: {{test: [samples]}}
"""


def command(cli: str, *args: object) -> list[str]:
    """The command line of `cli` (esr-ea, zoo, sesr, quantnas, sr-eval) with `args`."""
    return [sys.executable, "-m", CLIS[cli], *map(str, args)]


def environment(inject: bool = False, **faults: str) -> dict[str, str]:
    """One thread; with `inject`, the fault-injecting sitecustomize and the `faults` it reads."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **faults}
    if inject:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(INJECT), os.environ.get("PYTHONPATH")]))
    return env


def run(
    cli: str, *args: object, cwd: Path, inject: bool = False, **faults: str
) -> subprocess.CompletedProcess:
    """Run `cli args` to its end; a run past HANG_BOUND_S fails the test as a hang."""
    return subprocess.run(
        command(cli, *args),
        cwd=cwd,
        env=environment(inject, **faults),
        capture_output=True,
        text=True,
        timeout=HANG_BOUND_S,
    )


def start(cli: str, *args: object, cwd: Path, **popen: object) -> subprocess.Popen:
    """Start `cli args` in the background, its stderr captured."""
    return subprocess.Popen(
        command(cli, *args), cwd=cwd, env=environment(), stderr=subprocess.PIPE, text=True, **popen
    )


def finish(process: subprocess.Popen) -> str:
    """Wait for `process` to end and return its stderr; one still running after HANG_BOUND_S hangs:
    it is killed (its pool workers end with it) and the test fails."""
    try:
        return process.communicate(timeout=HANG_BOUND_S)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(f"hung: still running after {HANG_BOUND_S} s") from None


def wait_until(ready: Callable[[], object], process: subprocess.Popen, what: str) -> object:
    """Poll until `ready()` returns something true (returned), failing if the run ends first."""
    deadline = time.monotonic() + HANG_BOUND_S
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        assert process.poll() is None, f"the run ended (exit {process.returncode}) before {what}"
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {HANG_BOUND_S} s")


def pool_workers(process: subprocess.Popen) -> list[int]:
    """The process ids of the pool workers `process` has spawned so far."""
    found = subprocess.run(
        ["pgrep", "-P", str(process.pid), "-f", "multiprocessing-fork"], capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def history(out: Path) -> list[dict]:
    """The search's history.jsonl records."""
    path = out / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
