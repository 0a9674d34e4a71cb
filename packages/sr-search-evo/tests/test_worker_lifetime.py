"""Pool workers end when the process that runs the search dies (SIGKILL) or is terminated (SIGTERM).

A child process runs a search on a two-worker pool whose fitness never returns; once both workers
have written their pids (the handshake), the child is signalled and the workers must disappear.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_helpers import GENEROUS_WAIT, is_running, wait_until_gone

CHILD = """
import sys
sys.path.insert(0, {tests!r})
from fakes import PidThenSleep, esr_space
from sr_search_evo import EvoSettings, ProcessPoolEvaluator, run_search

if __name__ == "__main__":
    settings = EvoSettings(num_generation=1, num_individual=4, num_elitism=2, mutation_rate=0.1, seed=0)
    with ProcessPoolEvaluator(PidThenSleep({pids!r}), workers=2, threads_per_worker=1) as pool:
        run_search(esr_space(), pool, settings, {out!r}, log=lambda line: None)
"""


def start_search(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    """The child running the search, and its two workers' pids once both are busy."""
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "search.py"
    script.write_text(
        CHILD.format(tests=str(Path(__file__).parent), pids=str(pids), out=str(tmp_path / "out"))
    )
    child = subprocess.Popen([sys.executable, str(script)], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + GENEROUS_WAIT
    while len(list(pids.glob("[0-9]*[0-9]"))) < 2:
        if child.poll() is not None:
            pytest.fail(f"the search ended before its workers started: {child.stderr.read()}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail("the two workers did not start")
        time.sleep(0.1)
    workers = sorted(int(p.name) for p in pids.glob("[0-9]*[0-9]"))
    assert child.pid not in workers and all(is_running(pid) for pid in workers)
    return child, workers


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_end_with_the_search_process(tmp_path: Path, signum: int) -> None:
    child, workers = start_search(tmp_path)
    child.send_signal(signum)
    assert child.wait(timeout=GENEROUS_WAIT) == -signum
    child.stderr.close()
    lingering = wait_until_gone(workers)
    for pid in lingering:  # do not leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert lingering == [], "pool workers outlived the search process"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_sigterm_guard_stops_the_workers_then_does_what_sigterm_did_before() -> None:
    from sr_search_evo.worker_lifetime import SigtermGuard

    events: list[str] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: events.append("previous handler"))
    try:
        guard = SigtermGuard(lambda: events.append("workers stopped"))
        os.kill(os.getpid(), signal.SIGTERM)
        assert events == ["workers stopped", "previous handler"]
        guard.remove()  # already removed by the signal: a no-op
        os.kill(os.getpid(), signal.SIGTERM)
        assert events == ["workers stopped", "previous handler", "previous handler"]
    finally:
        signal.signal(signal.SIGTERM, previous)
