"""Training a found genotype: full-precision warm-up steps, then quantised; a reloadable best.pt."""

import pytest
import torch

from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.network import build_network
from sr_search_quantnas.settings import TrainSettings
from sr_search_quantnas.train_genotype import (
    FullPrecisionWarmUp,
    load_trained_network,
    set_quantization,
    train_genotype,
    validation_report,
)
from sr_train import stack_patches

GENOTYPE = parse_genotype(
    "Genotype_SR(head=[('simple_3x3', 4)], body=[('simple_1x1', 4)], tail=[], "
    "skip=[('simple_1x1', 8)], upsample=[('simple_3x3', 8)])"
)
ARCH = {"scale": 2, "c_fixed": 8, "body_cells": 1, "skip_mode": False}


def test_the_warm_up_runs_in_full_precision_then_quantised_and_eval_is_always_quantised():
    torch.manual_seed(0)
    net = build_network(GENOTYPE, **ARCH)
    x = torch.rand(2, 3, 10, 10)
    with torch.no_grad():  # train mode: the ADM BatchNorms use batch statistics, so outputs are comparable
        net.train()
        quantised = net(x)
        set_quantization(net, False)
        float_out = net(x)
        set_quantization(net, True)
        assert not torch.allclose(quantised, float_out)
        wrapped = FullPrecisionWarmUp(net, fp_steps=2).train()
        outputs = [wrapped(x) for _ in range(3)]
        wrapped.eval()
        evaluated = wrapped(x)
        net.eval()
        expected_eval = net(x)
    assert int(wrapped.steps_done) == 3
    torch.testing.assert_close(outputs[0], float_out)
    torch.testing.assert_close(outputs[1], float_out)
    torch.testing.assert_close(outputs[2], quantised)
    torch.testing.assert_close(evaluated, expected_eval)


def test_train_genotype_writes_a_best_checkpoint_that_rebuilds_the_quantised_network(tmp_path):
    from sr_data import RandomPatches, SampleImages

    images = SampleImages("train", 2)
    train = RandomPatches(images, 24, 16, seed=1)
    val = stack_patches(RandomPatches(images, 24, 8, seed=2))
    settings = TrainSettings(epochs=2, warm_up=1, lr=1e-3, print_freq=2)
    result = train_genotype(
        GENOTYPE,
        train,
        val,
        settings,
        **ARCH,
        batch_size=4,
        out_dir=tmp_path,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert result.checkpoint == tmp_path / "best.pt" and result.checkpoint.is_file()
    assert 5 < result.best_psnr < 60
    reloaded = load_trained_network(tmp_path / "best.pt")
    x = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), result.network(x))
    assert reloaded(x).shape == (1, 3, 18, 22)
    summary, table = validation_report(reloaded, [SampleImages("test", 2)], lr_sizes=((8, 8), (16, 16)))
    assert summary["genotype"] == str(GENOTYPE) and summary["params"] > 0
    assert summary["bitops_16x16"] == pytest.approx(4 * summary["bitops_8x8"])
    assert summary["psnr"] == {"samples-test": table.summary["samples-test"]["psnr"]}
    assert 5 < summary["psnr"]["samples-test"] < 60
