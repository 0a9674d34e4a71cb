"""`EvoSettings`: the knobs of the evolutionary loop (ESR_EA's `policy` plus selection and modes)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

SELECTIONS = ("tournament", "roulette")
OBJECTIVES = ("psnr", "nsga2")


@dataclass(frozen=True)
class EvoSettings:
    """How the search evolves its population.

    `num_generation` generations of `num_individual` candidates (generation 0 is sampled), so at most
    num_generation * num_individual trainings. The best `num_elitism` candidates seen so far are kept
    as elites and take part in parent selection. Each child comes from two parents by crossover with
    probability `crossover_rate`, else from one parent by mutation (`mutation_rate` per gene).
    `guided_mutation` biases mutation by block credit (the space must provide `units`).
    `objective="nsga2"` ranks by (psnr up, params down, macs down) with NSGA-II instead of PSNR.
    """

    num_generation: int = 20
    num_individual: int = 8
    num_elitism: int = 4
    mutation_rate: float = 0.05
    selection: str = "tournament"
    tournament_size: int = 2
    crossover_rate: float = 0.5
    guided_mutation: bool = False
    objective: str = "psnr"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("num_generation", "num_individual", "tournament_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(
                    f"EvoSettings.{name} must be a positive integer, got {getattr(self, name)!r}"
                )
        if not isinstance(self.num_elitism, int) or self.num_elitism < 0:
            raise ValueError(f"EvoSettings.num_elitism must be an integer >= 0, got {self.num_elitism!r}")
        for name in ("mutation_rate", "crossover_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"EvoSettings.{name} must be a probability in [0, 1], got {value!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"EvoSettings.selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"EvoSettings.objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if not isinstance(self.seed, int):
            raise ValueError(f"EvoSettings.seed must be an integer, got {self.seed!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> EvoSettings:
        """Settings from a mapping; an unknown key is an error naming it."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown EvoSettings key(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
