"""run_search on cheap deterministic fitnesses: elitism, cache, modes, resume, settings checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import (
    QUIET,
    SMALL,
    BitSpace,
    CountingFitness,
    HistoryWatcher,
    esr_space,
    failing_fitness,
    fake_fitness,
    onemax,
)

from sr_search_evo import EvoSettings, InProcessEvaluator, SearchResult, run_search


def read_history(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def test_generic_space_and_elitism_keeps_the_best(tmp_path: Path) -> None:
    settings = EvoSettings(num_generation=8, num_individual=8, num_elitism=2, mutation_rate=0.1, seed=0)
    best_so_far = []

    def log(line: str) -> None:
        if "done: best psnr" in line:
            best_so_far.append(float(line.rsplit(" ", 1)[1]))

    result = run_search(BitSpace(), InProcessEvaluator(onemax), settings, tmp_path, log=log)
    assert best_so_far == sorted(best_so_far)  # the elites never lose their best
    assert best_so_far[-1] == max(r["psnr"] for r in result.history)
    assert result.elites[0]["psnr"] == best_so_far[-1]
    assert best_so_far[-1] > best_so_far[0]  # it does search
    assert len(result.history) <= 8 * 8


def test_cache_trains_each_architecture_once_also_after_resume(tmp_path: Path) -> None:
    space, fitness = esr_space(), CountingFitness()
    result = run_search(space, InProcessEvaluator(fitness), EvoSettings(**SMALL), tmp_path, **QUIET)
    assert len(fitness.calls) == len(set(fitness.calls)) == len(result.history)
    again = CountingFitness()
    extended = EvoSettings(**{**SMALL, "num_generation": 6})
    run_search(space, InProcessEvaluator(again), extended, tmp_path, **QUIET)
    assert not set(again.calls) & set(fitness.calls)
    records = read_history(tmp_path)
    assert len(records) == len({r["key"] for r in records}) == len(fitness.calls) + len(again.calls)
    assert {r["generation"] for r in records} <= set(range(6))


def test_history_records_and_checkpoint(tmp_path: Path) -> None:
    space = esr_space()
    result = run_search(space, InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), tmp_path, **QUIET)
    record = read_history(tmp_path)[0]
    assert {"generation", "key", "individual", "decoded", "psnr", "params", "macs"} <= set(record)
    assert record["key"] == ",".join(record["decoded"]) == space.key(record["individual"])
    state = json.loads((tmp_path / "population.json").read_text())
    assert state["generation"] == 4 and len(state["population"]) == 6 and len(state["elites"]) == 2
    assert all(space.feasible(ind) for ind in state["population"] + state["elites"])
    best = result.best(3)
    assert [r["psnr"] for r in best] == sorted((r["psnr"] for r in best), reverse=True)
    assert best[0]["psnr"] == max(r["psnr"] for r in result.history)
    loaded = SearchResult.load(tmp_path)
    assert loaded.history == result.history and loaded.elites == result.elites
    front = result.pareto()
    assert all(
        not any(o["psnr"] > f["psnr"] and o["params"] < f["params"] for o in result.history) for f in front
    )


def test_each_evaluation_is_in_the_history_before_the_next_starts(tmp_path: Path) -> None:
    watcher = HistoryWatcher(str(tmp_path / "history.jsonl"))
    run_search(esr_space(), InProcessEvaluator(watcher), EvoSettings(**SMALL), tmp_path, **QUIET)
    assert watcher.lines_seen == list(range(len(watcher.lines_seen)))


def test_every_evaluated_individual_is_feasible(tmp_path: Path) -> None:
    space = esr_space()
    settings = EvoSettings(**{**SMALL, "selection": "roulette", "crossover_rate": 0.8})
    result = run_search(space, InProcessEvaluator(fake_fitness), settings, tmp_path, **QUIET)
    assert all(space.feasible(r["individual"]) for r in result.history)


@pytest.mark.parametrize(
    "changes",
    [dict(objective="nsga2"), dict(guided_mutation=True), dict(selection="roulette", num_elitism=0)],
)
def test_modes_run_and_are_reproducible(tmp_path: Path, changes: dict) -> None:
    settings = EvoSettings(**{**SMALL, **changes})
    runs = [
        run_search(esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path / str(i), **QUIET)
        for i in range(2)
    ]
    assert runs[0].history == runs[1].history
    assert len({r["key"] for r in runs[0].history}) > SMALL["num_individual"]
    if changes.get("objective") == "nsga2":
        elites = runs[0].elites
        assert len(elites) == SMALL["num_individual"]
        # The archive is NSGA-II's first fronts: no evaluated candidate dominates its first member.
        first = max(elites, key=lambda r: r["psnr"])
        assert first["psnr"] == max(r["psnr"] for r in runs[0].history)


def test_guided_mutation_needs_units(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="units"):
        run_search(
            BitSpace(), InProcessEvaluator(onemax), EvoSettings(guided_mutation=True), tmp_path, **QUIET
        )


def test_failed_evaluations_are_recorded_and_never_chosen(tmp_path: Path) -> None:
    result = run_search(
        esr_space(), InProcessEvaluator(failing_fitness), EvoSettings(**SMALL), tmp_path, **QUIET
    )
    failed = [r for r in result.history if r.get("error")]
    assert failed and all(r["psnr"] is None and "odd networks fail" in r["error"] for r in failed)
    assert all(len(r["decoded"]) % 2 == 0 for r in result.best(100))


def test_changed_settings_on_resume_name_the_key(tmp_path: Path) -> None:
    run_search(esr_space(), InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), tmp_path, **QUIET)
    with pytest.raises(ValueError, match=r"settings\.mutation_rate was 0\.1 and is now 0\.2"):
        run_search(
            esr_space(),
            InProcessEvaluator(fake_fitness),
            EvoSettings(**{**SMALL, "mutation_rate": 0.2}),
            tmp_path,
            **QUIET,
        )
    from fakes import SPACE_KWARGS

    from sr_search_evo import ESRSpace

    with pytest.raises(ValueError, match=r"space\.max_params"):
        run_search(
            ESRSpace(**{**SPACE_KWARGS, "max_params": 216_000}),
            InProcessEvaluator(fake_fitness),
            EvoSettings(**SMALL),
            tmp_path,
            **QUIET,
        )


RESUME_SCRIPT = """
import sys
from fakes import DyingFitness, esr_space
from sr_search_evo import EvoSettings, InProcessEvaluator, SearchResult, run_search
settings = EvoSettings(num_generation=4, num_individual=6, num_elitism=2, mutation_rate=0.1, seed=3,
                       guided_mutation=True, crossover_rate=0.5)
run_search(esr_space(), InProcessEvaluator(DyingFitness(int(sys.argv[2]))), settings, sys.argv[1],
           log=lambda line: None)
"""


def run_script(out: Path, die_at: int) -> int:
    tests = Path(__file__).parent
    return subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(out), str(die_at)], cwd=tests).returncode


def test_a_killed_search_resumes_to_the_same_end(tmp_path: Path) -> None:
    assert run_script(tmp_path / "straight", 10_000) == 0
    straight = read_history(tmp_path / "straight")
    assert len(straight) > 12
    resumed = tmp_path / "resumed"
    for die_at in (4, 6, 5):  # dies in generation 0, then 1, then 2
        assert run_script(resumed, die_at) == 17
    assert run_script(resumed, 10_000) == 0
    assert read_history(resumed) == straight
    population = [json.loads((d / "population.json").read_text()) for d in (tmp_path / "straight", resumed)]
    assert population[0] == population[1]


def test_a_line_cut_by_a_kill_is_dropped_and_retrained(tmp_path: Path) -> None:
    run_search(esr_space(), InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), tmp_path / "a", **QUIET)
    full = (tmp_path / "a" / "history.jsonl").read_text()
    out = tmp_path / "b"
    out.mkdir()
    lines = full.splitlines(keepends=True)
    (out / "history.jsonl").write_text("".join(lines[:3]) + lines[3][:20])
    run_search(esr_space(), InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), out, **QUIET)
    assert (out / "history.jsonl").read_text() == full
