"""`run_search`: a generational evolutionary search on DEAP that knows nothing of super-resolution.

Composed the way DEAP's examples do it: fitness/individual classes made once by `creator` (at
import, so worker processes can unpickle them) and the operators registered on a `base.Toolbox`.
The loop is our own so that it can checkpoint and resume: each candidate's result comes from the
history (its cache), never from the order evaluations finished in, and the one random generator
is saved with the population, so a resumed search ends exactly where an uninterrupted one would.

An optional `screen` runs in the main process on every new candidate of a generation before any
training is dispatched (a latency measurement, say): its result joins the candidate's record, is
cached by key in screened.jsonl (a resumed search never screens a candidate twice), and a result
with "rejected" keeps the candidate from training at all.

With TensorBoard installed, the search also writes event files into `out_dir/tensorboard`
(`sr_train.eventlog`): per candidate, at step = its line number in history.jsonl,
candidate/generation, candidate/psnr, candidate/params, candidate/macs and candidate/latency_ms
(those the record holds); per generation, at step = the generation, generation/best_psnr and
generation/front_size (the Pareto front of every candidate so far over PSNR and the costs the
search ranks by: `fronts.run_costs`).
"""

from __future__ import annotations

import json
import math
import os
import random
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

from deap import base, creator, tools

from sr_eval.runtime import EnvironmentFault
from sr_search_evo import fronts
from sr_search_evo.checkpoint import (
    CHECKPOINT_NAME,
    RESUMABLE_CHANGES,
    check_same,
    load_checkpoint,
    rng_from_json,
    rng_state_to_json,
    save_checkpoint,
)
from sr_search_evo.history import History
from sr_search_evo.operators import (
    block_credit,
    select_crowded_tournament,
    select_roulette,
    select_roulette_distinct,
    select_tournament,
)
from sr_search_evo.result import SearchResult, pareto
from sr_search_evo.settings import OBJECTIVE_KEYS, EvoSettings
from sr_search_evo.space import SearchSpace
from sr_train.eventlog import EVENTS_DIR, open_event_log

# Objectives: PSNR up; for NSGA-II also parameters and MACs down (other subsets: `_individual_class`).
if not hasattr(creator, "EvoFitnessPSNR"):
    creator.create("EvoFitnessPSNR", base.Fitness, weights=(1.0,))
    creator.create("EvoFitnessNSGA2", base.Fitness, weights=(1.0, -1.0, -1.0))
    creator.create("EvoIndividual", list, fitness=creator.EvoFitnessPSNR)
    creator.create("EvoIndividualNSGA2", list, fitness=creator.EvoFitnessNSGA2)

NSGA2_WORST = 1e30  # objective values of a failed evaluation in NSGA-II mode
NOVELTY_TRIES = 20  # re-mutations allowed to turn a child already trained into a new one
SCREENED_NAME = "screened.jsonl"  # the screen's results, by candidate key
CANDIDATE_SCALARS = ("generation", "psnr", "params", "macs", "latency_ms")  # record keys drawn per candidate


def _number(record: dict, name: str, worst: float) -> float:
    value = record.get(name)
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else worst


def _weights(objectives: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(1.0 if name == "psnr" else -1.0 for name in objectives)


def _individual_class(objectives: tuple[str, ...]) -> type:
    """DEAP's individual class for these objectives (made once per process, like DEAP's examples)."""
    weights = _weights(objectives)
    if weights == (1.0,):
        return creator.EvoIndividual
    if weights == (1.0, -1.0, -1.0):
        return creator.EvoIndividualNSGA2
    suffix = "".join("Up" if w > 0 else "Down" for w in weights)
    if not hasattr(creator, f"EvoIndividual{suffix}"):
        creator.create(f"EvoFitness{suffix}", base.Fitness, weights=weights)
        creator.create(f"EvoIndividual{suffix}", list, fitness=getattr(creator, f"EvoFitness{suffix}"))
    return getattr(creator, f"EvoIndividual{suffix}")


def fitness_values(record: dict, objectives: tuple[str, ...]) -> tuple[float, ...]:
    """The DEAP fitness values of an evaluation record (failures get the worst values).

    `objectives` are names of `settings.OBJECTIVE_KEYS` (("psnr",) for a PSNR search). NSGA-II's
    crowding distance subtracts objective values, so there a failure gets large finite values
    instead of infinities (which would turn distances into NaN).
    """
    if objectives == ("psnr",):
        return (_number(record, "psnr", -math.inf),)
    keys = [OBJECTIVE_KEYS[name] for name in objectives]
    if _number(record, "psnr", -math.inf) > -math.inf and record.get("rejected") is None:
        missing = [key for key in keys if not isinstance(record.get(key), (int, float))]
        if missing:
            raise ValueError(
                f"objectives {list(objectives)} need {missing} in every result; got {sorted(record)}"
                + (
                    " (latency_ms comes from a latency screen: sr_search_evo.build_esr_screen)"
                    if "latency_ms" in missing
                    else ""
                )
            )
    return tuple(_number(record, key, -NSGA2_WORST if key == "psnr" else NSGA2_WORST) for key in keys)


def _json_roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value))


def build_toolbox(
    space: SearchSpace, evaluator: Any, settings: EvoSettings, rng: random.Random
) -> base.Toolbox:
    """Initialisation, evaluation, variation (always followed by repair) and selection, bound to `rng`."""
    individual_class = _individual_class(settings.objective_names())
    toolbox = base.Toolbox()

    def feasible(ind: list) -> Any:
        repaired = individual_class(space.repair(list(ind), rng))
        if not space.feasible(repaired):
            raise RuntimeError(
                f"the search space's repair returned an infeasible individual: {list(repaired)}"
            )
        return repaired

    # Initialisation
    toolbox.register("individual", lambda: feasible(space.sample(rng)))
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("wrap", individual_class)
    # Evaluation: the evaluator's map, in whatever order results finish (in-process, pool, Ray)
    toolbox.register("map_unordered", evaluator.imap_unordered)
    # Variation
    toolbox.register("mate", lambda a, b: tuple(feasible(c) for c in space.crossover(list(a), list(b), rng)))
    toolbox.register(
        "mutate",
        lambda ind, credit=None: feasible(space.mutate(list(ind), rng, settings.mutation_rate, credit)),
    )
    # Parent selection: indices into the parent pool
    if settings.objective == "nsga2":
        toolbox.register("select", _select_nsga2_parents, rng=rng)
        toolbox.register("survive", _survive_nsga2, size=settings.num_individual)
    else:
        if settings.selection == "roulette":
            toolbox.register("select_by_fitness", select_roulette, rng=rng)
        else:
            toolbox.register("select_by_fitness", select_tournament, size=settings.tournament_size, rng=rng)
        toolbox.register(
            "select",
            lambda pool, count: toolbox.select_by_fitness([ind.fitness.values[0] for ind in pool], count),
        )
        toolbox.register("survive", _survive_elites, size=settings.num_elitism)
    return toolbox


def _unique(individuals: Iterable[Any], key: Callable[[Any], str]) -> list:
    seen: dict[str, Any] = {}
    for ind in individuals:
        seen.setdefault(key(ind), ind)
    return list(seen.values())


def _survive_elites(candidates: list, size: int) -> list:
    """The `size` fittest (stable: earlier candidates win ties)."""
    return sorted(candidates, key=lambda ind: -ind.fitness.values[0])[:size]


def _survive_nsga2(candidates: list, size: int) -> list:
    return tools.selNSGA2(candidates, min(size, len(candidates)))


def _select_nsga2_parents(pool: list, count: int, rng: random.Random) -> list[int]:
    ranks = [0] * len(pool)
    index = {id(ind): i for i, ind in enumerate(pool)}
    for rank, front in enumerate(tools.sortNondominated(pool, len(pool))):
        tools.emo.assignCrowdingDist(front)
        for ind in front:
            ranks[index[id(ind)]] = rank
    crowding = [ind.fitness.crowding_dist for ind in pool]
    return select_crowded_tournament(ranks, crowding, count, rng)


class _Search:
    """One search's state: the history (its cache), the random generator and the DEAP toolbox.

    `start` either begins a search (seeded generator, sampled generation 0) or picks one up from
    population.json; the generation loop lives in `run_search`.
    """

    def __init__(
        self,
        space: SearchSpace,
        settings: EvoSettings,
        out_dir: Path,
        log: Callable,
        screen: Any = None,
        tensorboard: bool = True,
    ) -> None:
        self.tensorboard = tensorboard
        self.events = None  # the event log, opened by `start`
        self.space, self.settings, self.out_dir, self.log = space, settings, out_dir, log
        self.history = History(out_dir)
        self.space_config = _json_roundtrip(space.config())
        self.screen = screen
        self.screened = History(out_dir, SCREENED_NAME) if screen is not None else None
        config = getattr(screen, "config", None)
        self.screen_config = _json_roundtrip(config()) if callable(config) else None
        self.origins: dict[str, str] = {}  # key -> how the candidate was made (sample/mutation/crossover)

    def start(self, evaluator: Any) -> tuple[int, list, list]:
        """(generation to evaluate next, its population, the elites), fresh or from the checkpoint."""
        state = load_checkpoint(self.out_dir)
        self.events = open_event_log(self.out_dir / EVENTS_DIR, self.tensorboard, fresh=state is None)
        for step, record in enumerate(self.history.records, 1):  # those a kill kept from the log
            self.log_candidate(step, record)
        if state is None:
            self.rng = random.Random(self.settings.seed)
            self.toolbox = build_toolbox(self.space, evaluator, self.settings, self.rng)
            size = self.settings.num_individual
            initial = getattr(self.space, "initial_population", list)()[:size]
            population = [self.toolbox.wrap(ind) for ind in initial]
            population += self.toolbox.population(n=size - len(population))
            origins = ["initial"] * len(initial) + ["sample"] * (size - len(initial))
            self.save(0, population, [], origins)
            return 0, population, [], origins
        path = self.out_dir / CHECKPOINT_NAME
        check_same(path, "settings", state["settings"], self.settings.to_dict(), RESUMABLE_CHANGES)
        check_same(path, "space", state["space"], self.space_config)
        if state.get("screen") is not None or self.screen_config is not None:
            check_same(path, "screen", state.get("screen") or {}, self.screen_config or {})
        self.rng = rng_from_json(state["rng_state"])
        self.toolbox = build_toolbox(self.space, evaluator, self.settings, self.rng)
        elites = [self.toolbox.wrap(ind) for ind in state["elites"]]
        self.assign_fitness(elites)
        population = [self.toolbox.wrap(ind) for ind in state["population"]]
        trained = len(self.history.by_key)
        self.log(f"resuming {self.out_dir} at generation {state['generation']} ({trained} trained)")
        origins = state.get("origins") or [None] * len(population)
        return state["generation"], population, elites, origins

    def assign_fitness(self, individuals: list) -> None:
        objectives = self.settings.objective_names()
        for ind in individuals:
            ind.fitness.values = fitness_values(self.history[self.space.key(ind)], objectives)

    def screen_all(self, items: list[tuple[str, list]], generation: int) -> list[tuple[str, list]]:
        """Screen the new candidates (cached results first); record the rejected ones, return the rest."""
        if self.screen is None:
            return items
        fresh = [key for key, _ in items if key not in self.screened]
        if fresh:
            self.log(f"generation {generation}: screening {len(fresh)} candidates before training")
        accepted = []
        for key, ind in items:
            if key not in self.screened:
                result = self.screen(self.space.decode(ind))
                if not isinstance(result, dict):
                    raise TypeError(f"the screen must return a dict, got {result!r}")
                self.screened.append({**result, "key": key})
            screened = {k: v for k, v in self.screened[key].items() if k != "key"}
            if screened.get("rejected"):
                record = self.record(key, ind, generation, {**screened, "psnr": None})
                self.log(_describe(self.add(record), 0, 0))
            else:
                accepted.append((key, ind))
        return accepted

    def record(self, key: str, ind: list, generation: int, result: dict) -> dict:
        """A history line: the screen's and the fitness's results, where and how the candidate came."""
        screened = {k: v for k, v in self.screened[key].items() if k != "key"} if self.screened else {}
        origin = {"origin": self.origins[key]} if self.origins.get(key) else {}
        return {
            **screened,
            **result,
            **origin,
            "generation": generation,
            "key": key,
            "individual": ind,
            "decoded": self.space.decode(ind),
        }

    def evaluate(self, population: list, generation: int, origins: list) -> None:
        """Train every candidate whose key is not in the history yet; results stream into it."""
        pending: dict[str, list] = {}
        for ind, origin in zip(population, origins, strict=True):
            key = self.space.key(ind)
            if key not in self.history and key not in pending:
                pending[key] = list(ind)
                self.origins[key] = origin
        items = self.screen_all(list(pending.items()), generation)
        cached = len({self.space.key(ind) for ind in population}) - len(pending)
        rejected = len(pending) - len(items)
        self.log(
            f"generation {generation}: {len(items)} to train, {cached} cached"
            + (f", {rejected} rejected by the screen" if rejected else "")
        )
        decoded = [self.space.decode(ind) for _, ind in items]
        done = 0
        try:
            for index, result in self.toolbox.map_unordered(decoded):
                key, ind = items[index]
                record = self.record(key, ind, generation, result)
                done += 1
                self.log(_describe(self.add(record), done, len(items)))
        except EnvironmentFault as fault:
            raise EnvironmentFault(
                f"search stopped in generation {generation}: {fault}; {done} of {len(items)} candidates "
                f"recorded, the others not: fix this and rerun, the rerun evaluates them"
            ) from fault
        self.assign_fitness(population)

    def add(self, record: dict) -> dict:
        """Append `record` to the history (and its point to the event log); returns the stored form."""
        stored = self.history.append(record)
        self.log_candidate(len(self.history.records), stored)
        return stored

    def log_candidate(self, step: int, record: dict) -> None:
        """The event log's point of the history's `step`-th line (one already logged is skipped)."""
        if self.events is not None:
            self.events.scalars(step, {f"candidate/{k}": record.get(k) for k in CANDIDATE_SCALARS})
            self.events.flush()

    def log_generation(self, generation: int, best: float) -> None:
        """The event log's points of a finished generation: its elites' best PSNR and the front's size."""
        if self.events is None:
            return
        scored = SearchResult(list(self.history.records)).scored()
        costs = fronts.run_costs(self.settings, fronts.costs_of(scored))
        front = pareto(scored, costs)
        self.events.scalars(generation, {"generation/best_psnr": best, "generation/front_size": len(front)})
        self.events.flush()

    def close(self) -> None:
        if self.events is not None:
            self.events.close()
            self.events = None

    def credit(self) -> dict[Hashable, float] | None:
        """Block credit from every evaluation so far (guided mutation), else None."""
        if not self.settings.guided_mutation:
            return None
        return block_credit(
            (self.space.units(record["individual"]), _number(record, "psnr", -math.inf))
            for record in self.history.by_key.values()
        )

    def breed(self, pool: list, elites: list) -> tuple[list, list[str]]:
        """`num_individual` children and how each was made ("mutation" or "crossover"), repaired and
        preferably untrained: from `pool` by `settings.breeding="tournament"`, or vega's counts."""
        credit = self.credit()
        if self.settings.breeding == "vega":
            offspring = self._offspring_vega(pool, elites, credit)
        else:
            offspring = self._offspring_tournament(pool, credit)
        children: list = []
        for child, _ in offspring:
            taken = {self.space.key(c) for c in children}
            for _ in range(NOVELTY_TRIES):
                key = self.space.key(child)
                if key not in self.history and key not in taken:
                    break
                child = self.toolbox.mutate(child, credit)
            children.append(child)
        return children, [origin for _, origin in offspring]

    def _offspring_tournament(self, pool: list, credit: Any) -> list[tuple[Any, str]]:
        """Ours: per child a crossover (probability crossover_rate) or a mutant; `select` picks parents."""
        toolbox, rng, size = self.toolbox, self.rng, self.settings.num_individual
        offspring: list[tuple[Any, str]] = []
        while len(offspring) < size:
            if len(pool) > 1 and rng.random() < self.settings.crossover_rate:
                first, second = toolbox.select(pool, 2)
                for _ in range(NOVELTY_TRIES):
                    if second != first:
                        break
                    second = toolbox.select(pool, 1)[0]
                made = [(c, "crossover") for c in toolbox.mate(pool[first], pool[second])]
            else:
                made = [(toolbox.mutate(pool[toolbox.select(pool, 1)[0]], credit), "mutation")]
            offspring += made[: size - len(offspring)]
        return offspring

    def _offspring_vega(self, pool: list, elites: list, credit: Any) -> list[tuple[Any, str]]:
        """ESR_EA's reference breeding: N - 2*floor(N/4) mutants of the elites (each elite in turn when
        there are N/2 of them, else a random elite each), then floor(N/4) crossover pairs of two
        distinct parents drawn by roulette over `pool` (the elites and the generation just evaluated)."""
        toolbox, rng, size = self.toolbox, self.rng, self.settings.num_individual
        pairs = size // 4
        in_turn = len(elites) == size // 2
        offspring: list[tuple[Any, str]] = []
        for i in range(size - 2 * pairs):
            parent = elites[i % len(elites)] if in_turn else elites[rng.randrange(len(elites))]
            offspring.append((toolbox.mutate(parent, credit), "mutation"))
        fitnesses = [ind.fitness.values[0] for ind in pool]
        for _ in range(pairs):
            picked = select_roulette_distinct(fitnesses, 2, rng)
            first, second = picked if len(picked) == 2 else (picked[0], picked[0])
            offspring += [(c, "crossover") for c in toolbox.mate(pool[first], pool[second])]
        return offspring

    def save(self, generation: int, population: list, elites: list, origins: list) -> None:
        state = {
            "generation": generation,
            "settings": self.settings.to_dict(),
            "space": self.space_config,
            "population": [list(ind) for ind in population],
            "origins": list(origins),
            "elites": [list(ind) for ind in elites],
            "elite_keys": [self.space.key(ind) for ind in elites],
            "rng_state": rng_state_to_json(self.rng),
        }
        if self.screen_config is not None:
            state["screen"] = self.screen_config
        save_checkpoint(self.out_dir, state)


def _describe(record: dict, done: int, total: int) -> str:
    parts = [f"  [{done}/{total}] {record['key']}" if total else f"  {record['key']}"]
    if record.get("error"):
        parts.append(f"FAILED: {record['error']}")
    if record.get("rejected"):
        parts.append(f"REJECTED: {record['rejected']}")
    for name, unit in (("psnr", "dB"), ("params", ""), ("macs", ""), ("latency_ms", "ms"), ("seconds", "s")):
        value = record.get(name)
        if isinstance(value, float):
            parts.append(f"{name}={value:.4g}{unit}")
        elif isinstance(value, int):
            parts.append(f"{name}={value:,}{unit}")
    return " ".join(parts)


def run_search(
    space: SearchSpace,
    evaluator: Any,
    settings: EvoSettings,
    out_dir: str | os.PathLike,
    log: Callable[[str], Any] = print,
    screen: Callable[[Any], dict] | None = None,
    tensorboard: bool = True,
) -> SearchResult:
    """Evolve `settings.num_generation` generations of candidates of `space`, trained by `evaluator`.

    `evaluator.imap_unordered(decoded_list)` yields (index, result dict with at least "psnr") as each
    evaluation finishes. `out_dir` receives history.jsonl (a line per evaluation, the moment it
    finishes) and population.json (after every generation); when they exist the search resumes
    from them (same settings and space, or a ValueError naming what differs; num_generation may be
    raised to extend a search). Candidates whose key is already in the history are never retrained.

    `screen(decoded) -> dict`, when given, runs in this process on each new candidate of a
    generation before any of the generation's training is dispatched; its result is cached by key
    in screened.jsonl and merged into the candidate's history record. A result with a "rejected"
    reason is recorded at once ("psnr": None, never chosen) and the candidate is not trained. A
    screen with a `config()` method has it saved in population.json and compared on resume.

    A candidate whose fitness raises is recorded as failed ("psnr": None, "error") and the search
    goes on; an error of the environment (device absent or out of memory, a module that cannot be
    imported) raises `EnvironmentFault` instead, records nothing for the candidates not finished,
    and leaves the search to resume where it stopped once the environment is fixed.

    `tensorboard`: write TensorBoard event files into `out_dir/tensorboard` when the package is
    installed (see the module's docstring); a resumed search appends to them.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if settings.guided_mutation and not callable(getattr(space, "units", None)):
        raise ValueError("guided_mutation needs a search space with a units(ind) method")
    search = _Search(space, settings, out, log, screen, tensorboard)
    try:
        generation, population, elites, origins = search.start(evaluator)
        while generation < settings.num_generation:
            search.evaluate(population, generation, origins)
            elites = search.toolbox.survive(_unique(elites + population, space.key))
            pool = _unique(elites + population, space.key) if settings.objective == "psnr" else elites
            population, origins = search.breed(pool, elites)  # bred before the checkpoint
            best = max(
                (_number(search.history[space.key(i)], "psnr", -math.inf) for i in elites), default=math.nan
            )
            search.log_generation(generation, best)
            generation += 1
            search.save(generation, population, elites, origins)
            made = ", ".join(f"{origins.count(o)} by {o}" for o in ("mutation", "crossover") if o in origins)
            log(f"generation {generation} bred ({settings.breeding}): {made}")
            log(f"generation {generation - 1} done: best psnr {best:.4f}")
    finally:
        search.close()
    elite_records = [search.history[space.key(ind)] for ind in elites]
    return SearchResult(history=list(search.history.records), elites=elite_records, out_dir=out)
