"""ESR_EA's search sections with vega's keys, read with `sr_train.section_from_dict`:

```yaml
search_space:                 # ESRSearchSpace
    type: SearchSpace
    modules: ['esrbody']
    esrbody: {type: ESRN, block_type: [S,G,C], conv_num: [4,6,8], growth_rate: [8,16,24,32],
              type_prob: [1,1,1], conv_prob: [1,1,1], growth_prob: [1,1,1,1], G0: 32, scale: 2}
search_algorithm:             # ESRSearchAlgorithm
    type: ESRSearch
    codec: ESRCodec
    policy: {num_generation: 20, num_individual: 8, num_elitism: 4, mutation_rate: 0.05}   # EvoSettings
    range: {node_num: 20, min_active: 16, max_params: 325000, min_params: 315000}
    # ours, all optional: a MACs window (vega's key names; MACs for a flops_lr_size input) and a
    # latency limit, e.g. range: {..., max_flops: 7.0e10, min_flops: 5.0e10, flops_lr_size: [360, 640],
    # max_latency_ms: 900}, and how latency is measured (LatencySettings):
    latency: {device: cpu, threads: 1, lr_size: [360, 640], warmup: 3, repeats: 10, engine: torch,
              use_table: false, table: null}
```

The plain-stack space (`RepStackSpace`) is the other module: `modules: ['repstack']` with
`repstack: {type: RepStack, depth: [2, 8], width: [8, 12, 16, 24, 32], block: [conv, ecb, rep, lin256],
act: [relu, prelu, none], head_kernel: [3, 5], tail_kernel: [3, 5], residual: [none, nearest, bicubic],
long: [false, true], center: [false, true], clip: [false, true], scale: 2,
fitness_start: unit_variance, initial: [ecbsr_m4c16, sesr_m5]}`: the fitness starts each candidate
from unit-variance weights (`GeneFitness`'s start) and the first generation from the named presets
or comma-joined gene lists (the rest drawn). `range` then holds its parameter, MACs and latency
limits (node_num and min_active are ESRN's).

An unknown key, a value of the wrong type or an impossible combination (a probability list of
another length than its choices, a block that cannot be built, `min_params` above `max_params`,
`num_elitism` above `num_individual`) is a ConfigError naming the key and the file. `build_esr_space`
builds the `ESRSpace` the two sections describe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from sr_blocks.repstack import REPSTACK_PRESETS
from sr_search_evo.esr_space import FLOPS_LR_SIZE, ESRSpace
from sr_search_evo.latency import LatencySettings
from sr_search_evo.repstack_space import IMAGE_RESIDUALS, RepStackSpace
from sr_search_evo.settings import EvoSettings
from sr_train import ConfigError, check_types


def _checked(**knobs: Any) -> ESRSpace:
    """ESRSpace(**knobs), its objections as ConfigErrors that start with the key they concern."""
    try:
        return ESRSpace(**knobs)
    except ValueError as err:
        raise ConfigError(str(err).removeprefix("ESRSpace: ")) from None


@dataclass
class ESRBody:
    """`search_space.esrbody`: the block choices, their probabilities and the network's frame."""

    type: Literal["ESRN"] = "ESRN"
    block_type: list[str] = field(default_factory=lambda: ["S", "G", "C"])
    conv_num: list[int] = field(default_factory=lambda: [4, 6, 8])
    growth_rate: list[int] = field(default_factory=lambda: [8, 16, 24, 32])
    type_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    conv_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    growth_prob: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0, 1.0])
    G0: int = 32
    scale: int = 2

    def __post_init__(self) -> None:
        check_types(self)
        _checked(**self.knobs(), node_num=1, min_active=1)  # every block choice and the frame can be built

    def knobs(self) -> dict[str, Any]:
        """ESRSpace's arguments for these choices (all but the limits of `range`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "type"}


@dataclass
class RepStackBody:
    """`search_space.repstack`: the choices of the plain-stack space (`RepStackSpace`'s knobs)."""

    type: Literal["RepStack"] = "RepStack"
    depth: list[int] = field(default_factory=lambda: [2, 8])
    width: list[int] = field(default_factory=lambda: [8, 12, 16, 24, 32])
    block: list[str] = field(default_factory=lambda: ["conv", "ecb", "rep", "lin256"])
    act: list[str] = field(default_factory=lambda: ["relu", "prelu", "none"])
    head_kernel: list[int] = field(default_factory=lambda: [3, 5])
    tail_kernel: list[int] = field(default_factory=lambda: [3, 5])
    residual: list[str] = field(default_factory=lambda: list(IMAGE_RESIDUALS))
    long: list[bool] = field(default_factory=lambda: [False, True])
    center: list[bool] = field(default_factory=lambda: [False, True])
    clip: list[bool] = field(default_factory=lambda: [False, True])
    scale: int = 2
    # how the fitness starts each candidate: from unit-variance weights (`GeneFitness`'s start),
    # which ranks plain stacks by their fully trained PSNR far better than the default weights
    fitness_start: Literal["default", "unit_variance"] = "unit_variance"
    # networks the first generation starts from: names of `REPSTACK_PRESETS` or comma-joined genes
    initial: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_types(self)
        self.space()

    def knobs(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("type", "fitness_start", "initial")
        }

    def space(self, **limits: Any) -> RepStackSpace:
        """The space of these choices within `limits` (a bad choice is a ConfigError naming it)."""
        initial = [REPSTACK_PRESETS.get(name) or name.split(",") for name in self.initial]
        try:
            return RepStackSpace(**self.knobs(), **limits, initial=initial)
        except ValueError as err:
            raise ConfigError(str(err).removeprefix("RepStackSpace: ")) from None


@dataclass
class ESRSearchSpace:
    """`search_space`: vega's wrapper around one module, `esrbody` (ESR_EA's ESRN cells) or
    `repstack` (re-parameterisable plain stacks)."""

    type: Literal["SearchSpace"] = "SearchSpace"
    modules: list[Literal["esrbody", "repstack"]] = field(default_factory=lambda: ["esrbody"])
    esrbody: ESRBody = field(default_factory=ESRBody)
    repstack: RepStackBody | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if len(self.modules) != 1:
            raise ConfigError(f"modules must name one module, esrbody or repstack, got {self.modules}")
        if self.modules == ["repstack"] and self.repstack is None:
            self.repstack = RepStackBody()

    @property
    def kind(self) -> str:
        """'esrbody' or 'repstack': the module searched."""
        return self.modules[0]

    @property
    def scale(self) -> int:
        return self.repstack.scale if self.kind == "repstack" else self.esrbody.scale

    def candidate_model(self) -> tuple[str, dict[str, Any]]:
        """(registry name, keyword arguments besides `genes`) of the networks this space's genes build."""
        if self.kind == "repstack":
            return "repstack", {}
        return "esrn", {"G0": self.esrbody.G0}

    @property
    def fitness_start(self) -> str:
        """`GeneFitness`'s start for this space's candidates (ESRN cells: their own weights)."""
        return self.repstack.fitness_start if self.kind == "repstack" else "default"


@dataclass
class ESRRange:
    """`search_algorithm.range`: how many blocks (`min_active`..`node_num`), parameters and MACs a
    candidate has, and how slow it may be.

    `max_flops`/`min_flops` bound the multiply-accumulates (MACs; vega's key names) of one forward
    pass on a `flops_lr_size` [height, width] LR input (360x640 by default: a 1280x720 output at
    x2); like the parameter window they are exact counts that repair holds. `max_latency_ms`
    rejects, before any training, a candidate whose latency (measured as `latency` says) is above it.
    """

    node_num: int = 20
    min_active: int = 16
    max_params: int | None = 325000
    min_params: int | None = 315000
    max_flops: float | None = None  # a float so that YAML's 7.0e10 reads; compared with exact counts
    min_flops: float | None = None
    flops_lr_size: list[int] = field(default_factory=lambda: list(FLOPS_LR_SIZE))
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        check_types(self)
        if self.max_latency_ms is not None and self.max_latency_ms <= 0:
            raise ConfigError(f"max_latency_ms must be above 0, got {self.max_latency_ms!r}")
        _checked(**self.limits())

    def limits(self) -> dict[str, Any]:
        """ESRSpace's arguments for these limits (all but the latency limit, which the screen holds)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "max_latency_ms"}


@dataclass
class ESRSearchAlgorithm:
    """`search_algorithm`: the evolution (`policy`, an EvoSettings), the candidates' `range` and
    how their `latency` is measured (a LatencySettings; used when `policy.objectives` has latency
    or `range.max_latency_ms` is set, see `sr_search_evo.build_esr_screen`)."""

    type: Literal["ESRSearch"] = "ESRSearch"
    codec: Literal["ESRCodec"] = "ESRCodec"
    policy: EvoSettings = field(default_factory=EvoSettings)
    range: ESRRange = field(default_factory=ESRRange)
    latency: LatencySettings = field(default_factory=LatencySettings)

    def __post_init__(self) -> None:
        check_types(self)


def build_esr_space(search_space: ESRSearchSpace, bounds: ESRRange) -> ESRSpace | RepStackSpace:
    """The space `search_space` names (ESRN cells or plain stacks) within `search_algorithm.range`."""
    if search_space.kind == "repstack":
        limits = {k: v for k, v in bounds.limits().items() if k not in ("node_num", "min_active")}
        return search_space.repstack.space(**limits)
    return _checked(**search_space.esrbody.knobs(), **bounds.limits())
