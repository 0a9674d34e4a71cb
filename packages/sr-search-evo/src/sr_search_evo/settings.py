"""`EvoSettings`: the knobs of the evolutionary loop (ESR_EA's `policy` plus selection and modes).

It is also the config section `nas.search_algorithm.policy` of ESR_EA:
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
BREEDINGS = ("tournament", "vega")
# What NSGA-II can rank by: the record key of each objective, and whether it goes up (PSNR) or down.
OBJECTIVE_KEYS = {"psnr": "psnr", "params": "params", "macs": "macs", "latency": "latency_ms"}
NSGA2_DEFAULT_OBJECTIVES = ("psnr", "params", "macs")
# Knobs added after the first release, with the value that keeps the old behaviour: to_dict() leaves
# them out at that value, so a search checkpointed before they existed still resumes.
LATER_KNOBS = {"breeding": "tournament", "objectives": None}


@dataclass
class EvoSettings:
    """How the search evolves its population.

    `num_generation` generations of `num_individual` candidates (generation 0 is sampled), so at most
    num_generation * num_individual trainings. The best `num_elitism` candidates seen so far (at most
    `num_individual`) are kept as elites and take part in parent selection.

    `breeding="tournament"` (ours): each child comes from two parents by crossover with
    probability `crossover_rate`, else from one parent by mutation (`mutation_rate` per gene),
    parents chosen by `selection` over the elites and the generation just evaluated.
    `breeding="vega"` (ESR_EA's reference code): every generation is N - 2*floor(N/4) mutants of
    the elites and floor(N/4) crossover pairs whose parents are drawn by roulette (two distinct
    ones) from the elites and the generation just evaluated; `selection`, `tournament_size` and
    `crossover_rate` do not apply. `guided_mutation` biases mutation by block credit (the space
    must provide `units`).

    `objective="nsga2"` ranks with NSGA-II by `objectives`, two or more of psnr (up), params, macs
    and latency (down; the record's `latency_ms`), default psnr, params, macs.
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
    breeding: Literal["tournament", "vega"] = "tournament"
    objectives: list[Literal["psnr", "params", "macs", "latency"]] | None = None

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
        if self.objectives is not None:
            if self.objective != "nsga2":
                raise ConfigError(
                    f"objectives {self.objectives} needs objective: nsga2, got {self.objective!r}"
                )
            if len(self.objectives) < 2 or len(set(self.objectives)) != len(self.objectives):
                raise ConfigError(f"objectives must be two or more distinct names, got {self.objectives}")
        if self.breeding == "vega":
            if self.objective != "psnr":
                raise ConfigError("breeding 'vega' ranks by PSNR alone: it needs objective: psnr")
            if self.num_elitism < 1:
                raise ConfigError("breeding 'vega' mutates the elites: it needs num_elitism >= 1")

    def objective_names(self) -> tuple[str, ...]:
        """What the search ranks by: ("psnr",), or NSGA-II's objectives."""
        if self.objective == "psnr":
            return ("psnr",)
        return tuple(self.objectives or NSGA2_DEFAULT_OBJECTIVES)

    def to_dict(self) -> dict[str, Any]:
        """The settings (the knobs added later only where they differ from the old behaviour)."""
        values = asdict(self)
        return {k: v for k, v in values.items() if k not in LATER_KNOBS or v != LATER_KNOBS[k]}

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str | Path | None = None) -> EvoSettings:
        """Settings from a mapping; an unknown key or a bad value is a ConfigError naming it and `source`."""
        return section_from_dict(cls, values, "", source)
