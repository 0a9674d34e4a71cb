"""Space-agnostic variation and selection operators, all driven by an explicit `random.Random`.

DEAP's own operators draw from the global `random` module; these take the search's generator so a
search is reproducible and its random state can be checkpointed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable, Sequence


def two_point_crossover(a: list, b: list, rng: random.Random, min_length: int = 1) -> tuple[list, list]:
    """Swap one segment [start, start+length) between copies of `a` and `b` (equal lengths).

    The segment length is drawn from [min_length, len // 2] (at least 1), as ESR_EA swaps segments
    of nodes rather than single genes.
    """
    if len(a) != len(b):
        raise ValueError(f"two_point_crossover needs equal lengths, got {len(a)} and {len(b)}")
    size = len(a)
    longest = max(1, size // 2)
    length = rng.randint(min(min_length, longest), longest)
    start = rng.randint(0, size - length)
    child_a, child_b = list(a), list(b)
    child_a[start : start + length], child_b[start : start + length] = (
        b[start : start + length],
        a[start : start + length],
    )
    return child_a, child_b


def select_tournament(fitnesses: Sequence[float], count: int, size: int, rng: random.Random) -> list[int]:
    """Indices of `count` tournament winners, each the fittest of `size` distinct random entrants."""
    size = min(size, len(fitnesses))
    return [
        max(rng.sample(range(len(fitnesses)), size), key=lambda i: (fitnesses[i], -i)) for _ in range(count)
    ]


def roulette_weights(fitnesses: Sequence[float]) -> list[float]:
    """Selection weights fitness - min(fitness) over finite values; uniform when they are all equal.

    Non-finite fitnesses (failed evaluations) get weight 0 unless nothing else is left.
    """
    finite = [f for f in fitnesses if math.isfinite(f)]
    if not finite:
        return [1.0] * len(fitnesses)
    low = min(finite)
    weights = [f - low if math.isfinite(f) else 0.0 for f in fitnesses]
    if sum(weights) <= 0.0:
        return [1.0 if math.isfinite(f) else 0.0 for f in fitnesses]
    return weights


def select_roulette(fitnesses: Sequence[float], count: int, rng: random.Random) -> list[int]:
    """Indices of `count` fitness-proportional draws (shifted by the minimum, never dividing by zero)."""
    weights = roulette_weights(fitnesses)
    return rng.choices(range(len(fitnesses)), weights=weights, k=count)


def select_roulette_distinct(fitnesses: Sequence[float], count: int, rng: random.Random) -> list[int]:
    """Indices of up to `count` distinct fitness-proportional draws (ESR_EA's roulette for parents).

    Each draw is over the entries not drawn yet, weighted as `roulette_weights` weights them all;
    when the entries left all weigh 0, the draw is uniform over them.
    """
    weights = roulette_weights(fitnesses)
    left = list(range(len(fitnesses)))
    chosen: list[int] = []
    for _ in range(min(count, len(left))):
        left_weights = [weights[i] for i in left]
        if sum(left_weights) <= 0.0:
            left_weights = [1.0] * len(left)
        pick = rng.choices(left, weights=left_weights)[0]
        chosen.append(pick)
        left.remove(pick)
    return chosen


def select_crowded_tournament(
    ranks: Sequence[int], crowding: Sequence[float], count: int, rng: random.Random
) -> list[int]:
    """NSGA-II binary tournaments: lower front rank wins, then larger crowding distance."""

    def better(i: int, j: int) -> int:
        return min((i, j), key=lambda k: (ranks[k], -crowding[k], k))

    return [better(*rng.sample(range(len(ranks)), 2)) if len(ranks) > 1 else 0 for _ in range(count)]


def block_credit(evaluated: Iterable[tuple[Sequence[Hashable], float]]) -> dict[Hashable, float]:
    """Credit of every unit (block) in [0, 1]: the rank of the mean fitness of the candidates holding it.

    ESR_EA's block credit: a block that appears in better networks earns more credit, and guided
    mutation replaces low-credit blocks first. `evaluated` yields (units, fitness); non-finite
    fitnesses are skipped. Order-independent (sorted before summing), so a resumed search computes
    the same credit.
    """
    totals: dict[Hashable, list[float]] = {}
    for units, fitness in sorted(evaluated, key=lambda pair: (repr(list(pair[0])), pair[1])):
        if not math.isfinite(fitness):
            continue
        for unit in set(units):
            totals.setdefault(unit, []).append(fitness)
    if not totals:
        return {}
    means = sorted(((sum(v) / len(v), repr(u), u) for u, v in totals.items()))
    if len(means) == 1:
        return {means[0][2]: 0.5}
    return {unit: rank / (len(means) - 1) for rank, (_, _, unit) in enumerate(means)}
