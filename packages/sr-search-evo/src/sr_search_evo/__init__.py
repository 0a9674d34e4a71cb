"""sr_search_evo: evolutionary architecture search on DEAP, and ESR_EA's search space.

The engine (`run_search`, `EvoSettings`, the evaluators) knows nothing of super-resolution; a
`SearchSpace` (here `ESRSpace`) and a picklable fitness function (here `ESRFitness`) plug in.
`EnvironmentFault` (from `sr_eval.runtime`) is what a search raises when the environment, not a
candidate, failed: nothing is recorded for it, and the rerun evaluates what was left. ESR_EA's
config sections (`sr_search_evo.esr_config`: `ESRSearchSpace`, `ESRSearchAlgorithm` with
`EvoSettings` as its `policy`, `LatencySettings` as its `latency`) are read with
`sr_train.section_from_dict`. Hardware-aware search: `esrn_macs` (exact MACs, the `range.max_flops`
window), `measure_latency_ms` and `ESRLatencyTable` (measured latency, whole or summed per block),
`build_esr_screen` (latency measured before training, as `run_search`'s `screen`). The second
space, `RepStackSpace`, searches re-parameterisable plain stacks (`sr_blocks.repstack`) whose
deployed form is a plain conv stack; `GeneFitness` trains either kind of candidate, and
`sr_search_evo.fitness_variants` holds the ways of spending the budget that
`benchmarks/bench_fitness_rank.py` compares.
"""

from sr_eval.runtime import EnvironmentFault
from sr_search_evo.devices import current_device
from sr_search_evo.engine import run_search
from sr_search_evo.esr_config import (
    ESRBody,
    ESRRange,
    ESRSearchAlgorithm,
    ESRSearchSpace,
    RepStackBody,
    build_esr_space,
)
from sr_search_evo.esr_fitness import ESRFitness, GeneFitness, candidate_seed
from sr_search_evo.esr_latency import ESRLatencyScreen, build_esr_screen
from sr_search_evo.esr_macs import block_macs, esrn_macs
from sr_search_evo.esr_params import block_params, esrn_params
from sr_search_evo.esr_space import ESRSpace
from sr_search_evo.evaluator_base import Evaluator
from sr_search_evo.evaluators import (
    EVALUATORS,
    InProcessEvaluator,
    ProcessPoolEvaluator,
    evaluator_options,
    make_evaluator,
)
from sr_search_evo.fitness_call import call_fitness, environment_fault
from sr_search_evo.fitness_data import CenterCrops, fitness_tensors
from sr_search_evo.latency import LatencySettings, measure_latency_ms
from sr_search_evo.latency_table import ESRLatencyTable
from sr_search_evo.operators import (
    block_credit,
    roulette_weights,
    select_roulette_distinct,
    two_point_crossover,
)
from sr_search_evo.repstack_space import RepStackSpace, repstack_macs, repstack_params
from sr_search_evo.result import SearchResult
from sr_search_evo.settings import OBJECTIVE_KEYS, EvoSettings
from sr_search_evo.space import SearchSpace
from sr_search_evo.version import __version__


def __getattr__(name: str):
    """`RayEvaluator` is imported on first use, so Ray stays optional."""
    if name == "RayEvaluator":
        from sr_search_evo.ray_evaluator import RayEvaluator

        return RayEvaluator
    raise AttributeError(f"module 'sr_search_evo' has no attribute {name!r}")


__all__ = [
    "CenterCrops",
    "ESRBody",
    "ESRFitness",
    "ESRLatencyScreen",
    "ESRLatencyTable",
    "ESRRange",
    "ESRSearchAlgorithm",
    "ESRSearchSpace",
    "ESRSpace",
    "EVALUATORS",
    "EnvironmentFault",
    "Evaluator",
    "EvoSettings",
    "GeneFitness",
    "InProcessEvaluator",
    "LatencySettings",
    "OBJECTIVE_KEYS",
    "ProcessPoolEvaluator",
    "RayEvaluator",
    "RepStackBody",
    "RepStackSpace",
    "SearchResult",
    "SearchSpace",
    "__version__",
    "block_credit",
    "block_macs",
    "block_params",
    "build_esr_screen",
    "build_esr_space",
    "call_fitness",
    "candidate_seed",
    "current_device",
    "environment_fault",
    "esrn_macs",
    "esrn_params",
    "evaluator_options",
    "fitness_tensors",
    "make_evaluator",
    "repstack_macs",
    "repstack_params",
    "measure_latency_ms",
    "roulette_weights",
    "run_search",
    "select_roulette_distinct",
    "two_point_crossover",
]
