"""`EvoSettings`: the knobs of the evolutionary loop (ESR_EA's `policy` plus selection and modes).

It is also the config section `nas.search_algorithm.policy` of ESR_EA (seed 000):
`sr_train.section_from_dict(EvoSettings, data, "policy", path)` reads it, and an unknown key, a value
of the wrong type or an impossible combination is a ConfigError naming the key and the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from sr_train import ConfigError, check_types, section_from_dict

SELECTIONS = ("tournament", "roulette")
OBJECTIVES = ("psnr", "nsga2")


@dataclass
class EvoSettings:
    """How the search evolves its population.

    `num_generation` generations of `num_individual` candidates (generation 0 is sampled), so at most
    num_generation * num_individual trainings. The best `num_elitism` candidates seen so far (at most
    `num_individual`) are kept as elites and take part in parent selection. Each child comes from
    two parents by crossover with probability `crossover_rate`, else from one parent by mutation
    (`mutation_rate` per gene). `guided_mutation` biases mutation by block credit (the space must
    provide `units`). `objective="nsga2"` ranks by (psnr up, params down, macs down) with NSGA-II.
    """

    num_generation: int = 20
    num_individual: int = 8
    num_elitism: int = 4
    mutation_rate: float = 0.05
    selection: Literal["tournament", "roulette"] = "tournament"
    tournament_size: int = 2
    crossover_rate: float = 0.5
    guided_mutation: bool = False
    objective: Literal["psnr", "nsga2"] = "psnr"
    seed: int = 0

    def __post_init__(self) -> None:
        check_types(self)
        for name in ("num_generation", "num_individual", "tournament_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if not 0 <= self.num_elitism <= self.num_individual:
            raise ConfigError(
                f"num_elitism must be in [0, num_individual={self.num_individual}], got {self.num_elitism!r}"
            )
        for name in ("mutation_rate", "crossover_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path | None = None) -> EvoSettings:
        """Settings from a mapping; an unknown key or a bad value is a ConfigError naming it and `source`."""
        return section_from_dict(cls, values, "", source)
