"""`esr-ea --evaluator pool` under faults of its workers: one that cannot import at start-up, one
killed at start-up (as the OOM killer would), host memory exhausted in a worker's training, and
Ctrl-C while the workers start. Each ends the run with one line and its exit status, never a hang,
and keeps what was recorded."""

from __future__ import annotations

import os
import signal

import pytest
from fault_runs import ESR_SEARCH, finish, history, pool_workers, run, start, wait_until

from sr_deploy.testing import one_line_error

# fitness data (patches) of a few MB: more than a pipe holds, as a real search's are
SEARCH = ["--config", "search.yaml", "--data", "samples", "--out", "out", "--quiet", "--evaluator", "pool"]
POOL = [*SEARCH, "--workers", "2", "--set", "nas.dataset.patches_per_epoch=512"]
ONE_WORKER = [*SEARCH, "--workers", "1"]
WORKER_DIED = "a pool worker process died"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@pytest.fixture
def search(tmp_path):
    (tmp_path / "search.yaml").write_text(ESR_SEARCH)
    return tmp_path


def test_a_worker_that_cannot_import_ends_the_run_with_one_line(search):
    result = run("esr-ea", *POOL, cwd=search, inject=True, SR_FAULT_WORKER_IMPORT="sr_train")
    assert result.returncode == 3, result.stderr
    last = result.stderr.strip().splitlines()[-1]  # above it: the worker's own error, why it died
    assert last.startswith("esr-ea: failed: search stopped in generation 0: ") and WORKER_DIED in last, last
    assert "No module named 'sr_train'" in result.stderr
    assert history(search / "out") == [] and (search / "out" / "config.yaml").is_file()


def test_a_worker_killed_as_it_starts_ends_the_run_with_one_line(search):
    search_run = start("esr-ea", *POOL, cwd=search)
    worker = wait_until(lambda: pool_workers(search_run), search_run, "a pool worker")[0]
    os.kill(worker, signal.SIGKILL)  # while the command hands it the fitness data
    err = finish(search_run)
    assert search_run.returncode == 3, err
    assert len(err.strip().splitlines()) == 1 and WORKER_DIED in err, err


def test_ctrl_c_while_the_workers_start_is_one_line_exit_130(search):
    search_run = start("esr-ea", *POOL, cwd=search, start_new_session=True)
    wait_until(lambda: len(pool_workers(search_run)) == 2, search_run, "two pool workers")
    os.killpg(search_run.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    err = finish(search_run)
    assert search_run.returncode == 130, err
    assert err.strip() == "esr-ea: interrupted; rerun the same command to resume", err


def test_host_memory_exhausted_in_a_worker_is_a_fault_not_a_failed_candidate(search):
    """The worker trains one candidate, then torch's CPU allocator fails: exit 3, the candidate
    trained is kept and none is recorded as failed, so the rerun evaluates the others (as after
    CUDA running out of memory: apps/esr_ea/tests/test_cli.py reruns to the end)."""
    result = run("esr-ea", *ONE_WORKER, cwd=search, inject=True, SR_FAULT_HOST_OOM_AFTER="1")
    one_line_error(result, 3, "search stopped in generation", "the machine ran out of memory")
    kept = history(search / "out")
    assert len(kept) == 1 and kept[0]["psnr"] is not None
    assert not (search / "out" / "stages" / "search.json").exists()
