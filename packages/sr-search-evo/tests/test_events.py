"""The search's TensorBoard event files: a point per candidate, a point per generation, and the same
curves after a kill and a resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import QUIET, SMALL, esr_space, fake_fitness
from test_engine import read_history, run_script

from sr_search_evo import EvoSettings, InProcessEvaluator, SearchResult, run_search
from sr_train.eventlog import EVENTS_DIR

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402


def _read(folder: Path) -> EventAccumulator:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    events.Reload()
    return events


def _raw_steps(folder: Path) -> list[tuple[str, int]]:
    return [
        (value.tag, event.step)
        for path in sorted(folder.glob("events.out.tfevents.*"))
        for event in EventFileLoader(str(path)).Load()
        for value in event.summary.value
    ]


def test_a_point_per_candidate_and_per_generation(tmp_path: Path) -> None:
    best = []

    def log(line: str) -> None:
        if "done: best psnr" in line:
            best.append(float(line.rsplit(" ", 1)[1]))

    result = run_search(
        esr_space(), InProcessEvaluator(fake_fitness), EvoSettings(**SMALL), tmp_path, log=log
    )
    events = _read(tmp_path / EVENTS_DIR)
    history = read_history(tmp_path)
    steps = list(range(1, len(history) + 1))
    for key in ("generation", "psnr", "params", "macs"):
        points = events.Scalars(f"candidate/{key}")
        assert [p.step for p in points] == steps
        assert [p.value for p in points] == pytest.approx([r[key] for r in history])
    assert "candidate/latency_ms" not in events.Tags()["scalars"]  # no latency screen: no curve
    assert [p.step for p in events.Scalars("generation/best_psnr")] == [0, 1, 2, 3]
    assert [p.value for p in events.Scalars("generation/best_psnr")] == pytest.approx(best)
    sizes = [p.value for p in events.Scalars("generation/front_size")]
    assert sizes[-1] == len(SearchResult(result.history).pareto(["params"]))


def test_a_killed_search_continues_its_curves(tmp_path: Path) -> None:
    assert run_script(tmp_path / "straight", 10_000) == 0
    resumed = tmp_path / "resumed"
    for die_at in (4, 6, 5):  # killed like a SIGKILL in generation 0, then 1, then 2
        assert run_script(resumed, die_at) == 17
    assert run_script(resumed, 10_000) == 0
    raw = _raw_steps(resumed / EVENTS_DIR)
    assert len(raw) == len(set(raw)), "a step was written twice"
    straight, again = _read(tmp_path / "straight" / EVENTS_DIR), _read(resumed / EVENTS_DIR)
    for tag in ("candidate/psnr", "candidate/generation", "generation/best_psnr", "generation/front_size"):
        assert [(p.step, p.value) for p in again.Scalars(tag)] == [
            (p.step, p.value) for p in straight.Scalars(tag)
        ]


def test_switched_off(tmp_path: Path) -> None:
    settings = EvoSettings(**{**SMALL, "num_generation": 1})
    run_search(esr_space(), InProcessEvaluator(fake_fitness), settings, tmp_path, tensorboard=False, **QUIET)
    assert (tmp_path / "history.jsonl").exists() and not (tmp_path / EVENTS_DIR).exists()
