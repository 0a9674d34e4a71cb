"""The search's penalty normalisation, sparsity regularisers, schedules and settings sections."""

import math

import pytest
import torch

from sr_search_quantnas.losses import (
    HardwarePenalty,
    alpha_entropy,
    entropy_weight,
    sparsity_loss,
    temperature_at,
)
from sr_search_quantnas.settings import ArchSettings, SearchSettings, TrainSettings
from sr_train import ConfigError, section_from_dict


def test_penalty_is_zero_at_80_percent_and_penalty_at_125_percent_of_the_uniform_bitops():
    penalty = HardwarePenalty(1e-2)
    with pytest.raises(RuntimeError, match="calibrate"):
        penalty(torch.tensor(1.0))
    penalty.calibrate(torch.tensor(1000.0))
    assert penalty(torch.tensor(800.0)).item() == pytest.approx(0.0, abs=1e-12)
    assert penalty(torch.tensor(1250.0)).item() == pytest.approx(1e-2)
    # linear in between, with the reference's spread n = 5 / 4
    assert penalty(torch.tensor(1000.0)).item() == pytest.approx(1e-2 * (1000 - 800) / (1250 - 800))
    restored = HardwarePenalty(1e-2)
    restored.load_state_dict(penalty.state_dict())
    assert restored(torch.tensor(900.0)).item() == penalty(torch.tensor(900.0)).item()


def test_entropy_schedule_matches_the_reference_formula():
    epochs = 20
    for epoch in range(epochs):
        w1 = epoch / (epochs - 1)
        w2 = 0 if epoch < epochs // 4 else math.log(epoch - epochs // 4 + 2, epochs - epochs // 4 + 1)
        assert entropy_weight(epoch, epochs, 0) == pytest.approx(w1 * w2)
    assert entropy_weight(19, 20, 0) == pytest.approx(1.0)
    # alphas frozen for warm_up epochs: the schedule starts after them
    assert entropy_weight(3, 20, 4) == 0.0
    assert entropy_weight(19, 20, 4) == pytest.approx(1.0)
    assert entropy_weight(0, 1, 0) == 0.0


def test_temperature_goes_linearly_from_max_to_min_after_warm_up():
    assert temperature_at(0, 10, 2, 10.0, 0.1) == 10.0
    assert temperature_at(2, 10, 2, 10.0, 0.1) == 10.0
    assert temperature_at(9, 10, 2, 10.0, 0.1) == pytest.approx(0.1)
    assert temperature_at(0, 1, 0, 10.0, 0.1) == 10.0


def test_sparsity_regularisers():
    alphas = [torch.zeros(4), torch.tensor([1.0, -2.0])]
    assert alpha_entropy(alphas).item() == pytest.approx(
        math.log(4) + (-(torch.softmax(alphas[1], 0) * torch.log_softmax(alphas[1], 0)).sum()).item()
    )
    assert sparsity_loss(alphas, "l1", 0.5).item() == pytest.approx(1.5)
    assert sparsity_loss(alphas, "l1_softmax", 1.0).item() == pytest.approx(4 + math.e + math.exp(-2))
    assert sparsity_loss(alphas, "none", 1.0).item() == 0.0
    assert sparsity_loss(alphas, "entropy", 2.0, weight=0.25).item() == pytest.approx(
        0.5 * alpha_entropy(alphas).item()
    )
    with pytest.raises(ValueError, match="sparse_type"):
        sparsity_loss(alphas, "l2", 1.0)


def test_entropy_descent_makes_the_alphas_sparser():
    alpha = torch.nn.Parameter(torch.tensor([0.1, 0.0, -0.1, 0.05]))
    optimiser = torch.optim.Adam([alpha], 1e-2)
    start = alpha_entropy([alpha]).item()
    for _ in range(50):
        optimiser.zero_grad()
        sparsity_loss([alpha], "entropy", 1.0).backward()
        optimiser.step()
    assert alpha_entropy([alpha]).item() < start - 0.1


def test_sections_reject_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match=r"search\.penalti.*cfg\.yaml"):
        section_from_dict(SearchSettings, {"penalti": 1}, "search", "cfg.yaml")
    with pytest.raises(ConfigError, match=r"search\.sparse_type.*'l3'"):
        section_from_dict(SearchSettings, {"sparse_type": "l3"}, "search")
    with pytest.raises(ConfigError, match="quant_noise and separate_weights"):
        SearchSettings(quant_noise=True, separate_weights=True)
    with pytest.raises(ConfigError, match="arch_pattern: unknown block type 'neck'"):
        ArchSettings(arch_pattern={"neck": 1})
    with pytest.raises(ConfigError, match="warm_up"):
        TrainSettings(epochs=2, warm_up=3)
    assert section_from_dict(SearchSettings, {"sparse_coef": "1e-4"}, "search").sparse_coef == 1e-4
    assert SearchSettings(quant_noise=True).quant_mode == "noise"
    assert ArchSettings(arch_pattern={"head": 1, "body": 1, "skip": 1, "upsample": 1}).pattern()["tail"] == 0
