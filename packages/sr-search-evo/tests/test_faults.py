"""Errors of the environment stop a search without being recorded; a candidate's own errors are recorded.

Every case runs through `run_search` with a fitness that makes the real call (a tensor on an absent
device, an import of a missing module), on each evaluator: in-process, process pool and Ray.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch
from fakes import (
    ABSENT_DEVICE,
    QUIET,
    BlockOrFault,
    CountingFitness,
    DeviceFitness,
    ImportingFitness,
    cuda_oom_fitness,
    esr_space,
    fake_fitness,
    nonfinite_loss_fitness,
    unbuildable_fitness,
)
from process_helpers import wait_until_gone

from sr_eval.runtime import DeviceError
from sr_search_evo import (
    EnvironmentFault,
    ESRFitness,
    EvoSettings,
    InProcessEvaluator,
    ProcessPoolEvaluator,
    environment_fault,
    make_evaluator,
    run_search,
)
from sr_train import NonFiniteLossError

SETTINGS = EvoSettings(num_generation=2, num_individual=6, num_elitism=2, mutation_rate=0.1, seed=5)
MISSING_MODULE = "sr_search_evo_no_such_module"
FAULTS = {  # fitness -> the cause the fault must name
    "absent device": (DeviceFitness(ABSENT_DEVICE), "the device is not available"),
    "missing module": (ImportingFitness(MISSING_MODULE), "a module cannot be imported"),
    "CUDA out of memory": (cuda_oom_fitness, "the device ran out of memory"),
}


def history_lines(out: Path) -> list[dict]:
    path = out / "history.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def absent_device_error() -> Exception:
    """What torch itself raises for a tensor on a device this machine does not have."""
    try:
        torch.zeros(1, device=ABSENT_DEVICE)
    except Exception as err:  # noqa: BLE001 - the type differs between CPU and CUDA builds
        return err
    pytest.skip(f"this machine has {ABSENT_DEVICE}")


def host_allocation_error() -> RuntimeError:
    """What torch's CPU allocator itself raises when host memory cannot hold a tensor."""
    try:
        torch.empty(1 << 62, dtype=torch.uint8)
    except RuntimeError as err:
        return err
    raise AssertionError("torch allocated 4 EiB")


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (ModuleNotFoundError("No module named 'x'"), "a module cannot be imported"),
        (ImportError("cannot import name 'y'"), "a module cannot be imported"),
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 8 GiB"), "ran out of memory"),
        (RuntimeError("CUDA out of memory. Tried to allocate 8 GiB"), "ran out of memory"),
        (MemoryError(), "the machine ran out of memory"),
        (host_allocation_error(), "the machine ran out of memory"),
        (RuntimeError("could not create a primitive"), "the machine ran out of memory"),
        (DeviceError("device 'cuda' is not available"), "the device is not available"),
        (AssertionError("Torch not compiled with CUDA enabled"), "the device is not available"),
    ],
)
def test_environment_errors_are_faults_naming_the_cause(error: Exception, cause: str) -> None:
    fault = environment_fault(error)
    assert isinstance(fault, EnvironmentFault) and isinstance(fault, RuntimeError)
    assert cause in str(fault) and type(error).__name__ in str(fault)
    assert "\n" not in str(fault)


def test_torchs_own_absent_device_error_is_a_fault() -> None:
    assert "the device is not available" in str(environment_fault(absent_device_error()))


@pytest.mark.parametrize(
    "error",
    [RuntimeError("odd networks fail"), ValueError("gene 'X': bad"), NonFiniteLossError(3, float("nan"))],
)
def test_a_candidates_own_errors_are_not_faults(error: Exception) -> None:
    assert environment_fault(error) is None


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_inprocess_fault_stops_the_search_and_records_nothing(tmp_path: Path, case: str) -> None:
    fitness, cause = FAULTS[case]
    with pytest.raises(EnvironmentFault) as err:
        run_search(esr_space(), InProcessEvaluator(fitness), SETTINGS, tmp_path, **QUIET)
    message = str(err.value)
    assert cause in message and "generation 0" in message and "0 of 6 candidates recorded" in message
    assert "rerun" in message and "\n" not in message
    assert history_lines(tmp_path) == []


@pytest.mark.parametrize("fitness", [nonfinite_loss_fitness, unbuildable_fitness])
def test_a_candidates_failure_is_still_recorded_and_the_search_goes_on(tmp_path: Path, fitness) -> None:
    result = run_search(esr_space(), InProcessEvaluator(fitness), SETTINGS, tmp_path, **QUIET)
    records = history_lines(tmp_path)
    assert len(records) == len(result.history) >= SETTINGS.num_individual
    expected = "NonFiniteLossError" if fitness is nonfinite_loss_fitness else "ValueError"
    assert all(r["psnr"] is None and r["error"].startswith(expected) for r in records)


def test_rerun_after_a_fault_evaluates_exactly_the_candidates_not_recorded(tmp_path, monkeypatch) -> None:
    reference = run_search(esr_space(), InProcessEvaluator(fake_fitness), SETTINGS, tmp_path / "ref", **QUIET)
    out = tmp_path / "run"
    module = "sr_search_evo_fixed_later"
    with pytest.raises(EnvironmentFault, match="3 of 6 candidates recorded"):
        run_search(
            esr_space(), InProcessEvaluator(ImportingFitness(module, from_call=4)), SETTINGS, out, **QUIET
        )
    recorded = {r["key"] for r in history_lines(out)}
    assert len(recorded) == 3
    # The user fixes the environment (installs the module) and reruns the same search.
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / f"{module}.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    rerun = CountingFitness()
    result = run_search(esr_space(), InProcessEvaluator(ImportingFitness(module)), SETTINGS, out, **QUIET)
    run_search(esr_space(), InProcessEvaluator(rerun), SETTINGS, out, **QUIET)  # finished: trains nothing
    assert rerun.calls == []
    keys = [r["key"] for r in history_lines(out)]
    assert len(keys) == len(set(keys))  # nothing evaluated twice
    assert sorted(keys) == sorted(r["key"] for r in reference.history)
    assert recorded <= set(keys)
    assert [e["key"] for e in result.elites] == [e["key"] for e in reference.elites]
    assert (out / "population.json").read_text() == (tmp_path / "ref" / "population.json").read_text()


def test_devices_are_checked_before_any_work() -> None:
    for make in (
        lambda: InProcessEvaluator(fake_fitness, device=ABSENT_DEVICE),
        lambda: ProcessPoolEvaluator(fake_fitness, devices=["cpu", ABSENT_DEVICE]),
        lambda: ESRFitness((torch.zeros(1, 3, 4, 4), torch.zeros(1, 3, 8, 8)), None, 1, device=ABSENT_DEVICE),
    ):
        with pytest.raises(DeviceError, match=ABSENT_DEVICE):
            make()
    with pytest.raises(DeviceError, match="unknown device 'gpu0'"):
        InProcessEvaluator(fake_fitness, device="gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_cpu_machine_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="no CUDA device"):
        make_evaluator("pool", fake_fitness, devices=["cuda"])
    assert not any(tmp_path.iterdir())


def test_pool_fault_stops_the_search_and_the_rerun_evaluates_everything(tmp_path: Path) -> None:
    with ProcessPoolEvaluator(DeviceFitness("cpu"), workers=2) as pool:
        reference = run_search(esr_space(), pool, SETTINGS, tmp_path / "ref", **QUIET)
    with pytest.raises(EnvironmentFault, match="the device is not available"):
        with ProcessPoolEvaluator(DeviceFitness(ABSENT_DEVICE), workers=2) as pool:
            run_search(esr_space(), pool, SETTINGS, tmp_path / "run", **QUIET)
    assert history_lines(tmp_path / "run") == []
    with ProcessPoolEvaluator(DeviceFitness("cpu"), workers=2) as pool:  # the environment fixed
        run_search(esr_space(), pool, SETTINGS, tmp_path / "run", **QUIET)
    assert sorted(r["key"] for r in history_lines(tmp_path / "run")) == sorted(
        r["key"] for r in reference.history
    )


def test_pool_fault_does_not_wait_for_a_busy_worker(tmp_path: Path) -> None:
    """One worker sleeps for an hour in its task, the other faults: the search stops now, and the
    busy worker is ended by the abort (the test would hang for an hour otherwise)."""
    with pytest.raises(EnvironmentFault, match="a module cannot be imported"):
        with ProcessPoolEvaluator(BlockOrFault(str(tmp_path)), workers=2) as pool:
            run_search(esr_space(), pool, SETTINGS, tmp_path / "run", **QUIET)
    blocker = int((tmp_path / "blocker").read_text())
    assert blocker != os.getpid()
    assert wait_until_gone([blocker]) == []
    assert history_lines(tmp_path / "run") == []


def test_ray_faults_are_raised_and_candidate_failures_recorded(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'sr-search-evo[ray]')")
    runtime_env = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
    try:
        for case, (fitness, cause) in FAULTS.items():
            with pytest.raises(EnvironmentFault, match=cause):
                with make_evaluator("ray", fitness) as evaluator:
                    run_search(esr_space(), evaluator, SETTINGS, tmp_path / case, **QUIET)
            assert history_lines(tmp_path / case) == [], case
        with make_evaluator("ray", nonfinite_loss_fitness) as evaluator:
            run_search(esr_space(), evaluator, SETTINGS, tmp_path / "diverges", **QUIET)
        records = history_lines(tmp_path / "diverges")
        assert records and all(r["error"].startswith("NonFiniteLossError") for r in records)
    finally:
        ray.shutdown()
