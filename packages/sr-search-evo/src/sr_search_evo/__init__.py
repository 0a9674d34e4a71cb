"""sr_search_evo: evolutionary architecture search on DEAP, and ESR_EA's search space.

The engine (`run_search`, `EvoSettings`, the evaluators) knows nothing of super-resolution; a
`SearchSpace` (here `ESRSpace`) and a picklable fitness function (here `ESRFitness`) plug in.
`EnvironmentFault` (from `sr_eval.runtime`) is what a search raises when the environment, not a
candidate, failed: nothing is recorded for it, and the rerun evaluates what was left. ESR_EA's
config sections (`sr_search_evo.esr_config`: `ESRSearchSpace`, `ESRSearchAlgorithm` with
`EvoSettings` as its `policy`) are read with `sr_train.section_from_dict`.
"""

from sr_eval.runtime import EnvironmentFault
from sr_search_evo.devices import current_device
from sr_search_evo.engine import run_search
from sr_search_evo.esr_config import ESRBody, ESRRange, ESRSearchAlgorithm, ESRSearchSpace, build_esr_space
from sr_search_evo.esr_fitness import ESRFitness, candidate_seed
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
from sr_search_evo.operators import block_credit, roulette_weights, two_point_crossover
from sr_search_evo.result import SearchResult
from sr_search_evo.settings import EvoSettings
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
    "ESRRange",
    "ESRSearchAlgorithm",
    "ESRSearchSpace",
    "ESRSpace",
    "EVALUATORS",
    "EnvironmentFault",
    "Evaluator",
    "EvoSettings",
    "InProcessEvaluator",
    "ProcessPoolEvaluator",
    "RayEvaluator",
    "SearchResult",
    "SearchSpace",
    "__version__",
    "block_credit",
    "block_params",
    "build_esr_space",
    "call_fitness",
    "candidate_seed",
    "current_device",
    "environment_fault",
    "esrn_params",
    "evaluator_options",
    "fitness_tensors",
    "make_evaluator",
    "roulette_weights",
    "run_search",
    "two_point_crossover",
]
