"""The `SearchSpace` protocol: everything the generic engine needs to know about a search space."""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class SearchSpace(Protocol):
    """A space of candidates encoded as JSON-serialisable lists.

    `sample`, `mutate` and `crossover` may return infeasible encodings; the engine always passes
    them through `repair`, which must return a feasible one (`feasible(ind)` true). `decode` gives
    what the fitness function receives (picklable); `key` identifies the decoded candidate, so two
    encodings with the same key are trained once. `mutate` receives `credit` (unit -> score in
    [0, 1], higher is better) when guided mutation is on; spaces that support it also define
    `units(ind) -> list` (the building blocks credit is given to). `config()` describes the space
    (compared when a search resumes). A space may also define `initial_population() -> list` (feasible
    encodings): a new search's first generation starts with them and draws the rest by `sample`.
    """

    def sample(self, rng: random.Random) -> list: ...

    def mutate(
        self, ind: list, rng: random.Random, rate: float, credit: Mapping[Hashable, float] | None = None
    ) -> list: ...

    def crossover(self, a: list, b: list, rng: random.Random) -> tuple[list, list]: ...

    def repair(self, ind: list, rng: random.Random) -> list: ...

    def feasible(self, ind: list) -> bool: ...

    def decode(self, ind: list) -> Any: ...

    def key(self, ind: list) -> str: ...

    def config(self) -> dict: ...
