"""ESRFitness: a real (tiny) training of an ESRN, reproducible and picklable."""

from __future__ import annotations

import pickle

import pytest
import torch
import torch.nn.functional as F

from sr_search_evo import ESRFitness, candidate_seed, esrn_params

GENES = ["S_4_8_8", "C_4_8_16"]


def tiny_pairs(count: int, size: int = 16, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    hr = F.interpolate(
        torch.rand(count, 3, size // 4, size // 4, generator=generator), size=size, mode="bicubic"
    )
    hr = hr.clamp(0, 1)
    return F.avg_pool2d(hr, 2), hr


def test_real_training_reports_psnr_params_macs_and_is_reproducible() -> None:
    fitness = ESRFitness(
        tiny_pairs(8),
        tiny_pairs(2, seed=1),
        steps=3,
        scale=2,
        G0=8,
        train_overrides={"batch_size": 4, "lr": 1e-3},
        hr_size=(64, 64),
        device="cpu",
    )
    first = fitness(GENES)
    assert set(first) >= {"psnr", "params", "macs", "macs_hr_size", "seconds", "seed", "genes"}
    assert 5.0 < first["psnr"] < 60.0
    assert first["params"] == esrn_params(GENES, G0=8, scale=2)
    assert first["macs"] > first["params"] * 32 * 32 * 0.5  # most layers run on the 32x32 LR grid
    assert first["macs_hr_size"] == [64, 64] and first["seed"] == candidate_seed(",".join(GENES))
    again = pickle.loads(pickle.dumps(fitness))(GENES)
    assert again["psnr"] == first["psnr"]


def test_seeds_depend_on_the_candidate_only() -> None:
    assert candidate_seed("S_4_8_8") == candidate_seed("S_4_8_8")
    assert candidate_seed("S_4_8_8") != candidate_seed("S_4_8_16")
    assert candidate_seed("S_4_8_8", 1) != candidate_seed("S_4_8_8", 0)


def test_reserved_overrides_are_refused() -> None:
    with pytest.raises(ValueError, match="steps"):
        ESRFitness(tiny_pairs(2), tiny_pairs(2), steps=1, train_overrides={"steps": 5})


def test_a_small_real_search_end_to_end(tmp_path) -> None:
    from sr_search_evo import ESRSpace, EvoSettings, InProcessEvaluator, run_search

    space = ESRSpace(G0=8, conv_num=[4], conv_prob=[1], growth_rate=[8, 16], growth_prob=[1, 1], node_num=3)
    fitness = ESRFitness(
        tiny_pairs(8),
        tiny_pairs(2, seed=1),
        steps=2,
        G0=8,
        train_overrides={"batch_size": 4},
        hr_size=(32, 32),
        device="cpu",
    )
    settings = EvoSettings(num_generation=2, num_individual=2, num_elitism=1, mutation_rate=0.3)
    result = run_search(space, InProcessEvaluator(fitness), settings, tmp_path, log=lambda line: None)
    assert 2 <= len(result.history) <= 4
    assert all(r["params"] == space.count_params(r["decoded"]) for r in result.history)
    assert result.best(1)[0]["psnr"] == max(r["psnr"] for r in result.history)
