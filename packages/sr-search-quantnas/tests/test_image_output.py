"""The image output: the upsampled input added at the output, the clip at inference, in the derived
network, the supernet, the settings and the checkpoints."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sr_data import RandomPatches, SampleImages
from sr_deploy.quant import export_onnx_int8, onnx_int8_agreement
from sr_search_quantnas.genotype import parse_genotype
from sr_search_quantnas.image_output import ImageOutput
from sr_search_quantnas.network import build_network
from sr_search_quantnas.search import build_supernet
from sr_search_quantnas.settings import ArchSettings, SearchSettings, TrainSettings
from sr_search_quantnas.train_genotype import load_trained_network, network_kwargs, train_genotype
from sr_train import ConfigError, stack_patches

GENOTYPE = parse_genotype(
    "Genotype_SR(head=[('simple_3x3', 8)], body=[('simple_3x3', 8)], tail=[('simple_1x1', 8)], "
    "skip=[('simple_1x1', 8)], upsample=[('simple_3x3', 8)])"
)
ARGS = {"scale": 2, "c_fixed": 6, "body_cells": 1, "skip_mode": False}


@pytest.mark.parametrize("mode", ["nearest", "bicubic"])
def test_a_zero_output_gives_the_upsampled_input(mode: str) -> None:
    lr = torch.rand(2, 3, 5, 7)
    expected = F.interpolate(
        lr, scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bicubic" else {})
    )
    torch.testing.assert_close(ImageOutput(2, mode)(torch.zeros(2, 3, 10, 14), lr), expected)
    out = torch.randn(2, 3, 10, 14)
    torch.testing.assert_close(ImageOutput(2, "none")(out, lr), out)


def test_the_clip_holds_in_eval_only() -> None:
    head = ImageOutput(2, "none", clip=True)
    out = torch.tensor([-0.5, 0.25, 1.5]).view(1, 1, 1, 3)
    torch.testing.assert_close(head.train()(out, torch.zeros(1, 1, 1, 1)), out)  # gradient kept in training
    torch.testing.assert_close(
        head.eval()(out, torch.zeros(1, 1, 1, 1)), torch.tensor([0.0, 0.25, 1.0]).view(1, 1, 1, 3)
    )


def test_unknown_modes_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="image_residual.*'linear'"):
        ImageOutput(2, "linear")
    with pytest.raises(ConfigError, match="image_residual"):
        ArchSettings(image_residual="linear")


def test_network_and_supernet_add_the_bicubic_input() -> None:
    lr = torch.rand(1, 3, 8, 8)
    plain = build_network(GENOTYPE, **ARGS).eval()
    with_input = build_network(GENOTYPE, **ARGS, image_residual="bicubic").eval()
    with_input.load_state_dict(plain.state_dict())  # no new parameters
    bicubic = F.interpolate(lr, scale_factor=2, mode="bicubic", align_corners=False)
    torch.testing.assert_close(with_input(lr), plain(lr) + bicubic)
    ops = {"head": ["simple_3x3"], "body": ["simple_3x3"], "skip": ["simple_1x1"], "upsample": ["simple_3x3"]}
    arch = ArchSettings(
        bits=[8], c_fixed=6, scale=2, body_cells=1, image_residual="nearest", clip_output=True,
        arch_pattern={"head": 1, "body": 1, "skip": 1, "upsample": 1, "tail": 1},
        primitives={**ops, "tail": ["simple_1x1"]},
    )  # fmt: skip
    supernet = build_supernet(arch, SearchSettings()).eval()
    assert supernet.image_output.mode == "nearest" and supernet.image_output.clip
    out = supernet(lr)
    assert out.shape == (1, 3, 16, 16) and 0.0 <= out.min() and out.max() <= 1.0


def test_checkpoint_keys_name_the_image_output_only_when_set() -> None:
    kwargs = network_kwargs(GENOTYPE, 2, 6, 1, False)
    assert "image_residual" not in kwargs and "clip_output" not in kwargs  # old checkpoints read as before
    kwargs = network_kwargs(GENOTYPE, 2, 6, 1, False, image_residual="nearest", clip_output=True)
    assert kwargs["image_residual"] == "nearest" and kwargs["clip_output"] is True
    assert "image_residual" not in ArchSettings().network_args()
    assert ArchSettings(image_residual="bicubic").network_args()["image_residual"] == "bicubic"


@pytest.mark.parametrize("mode", ["nearest", "bicubic"])
def test_a_network_with_the_image_output_trains_reloads_and_exports(mode: str, tmp_path) -> None:
    images = SampleImages("train", 2)
    train = RandomPatches(images, 24, 8, seed=1)
    val = stack_patches(RandomPatches(images, 24, 4, seed=2))
    settings = TrainSettings(epochs=1, lr=1e-3, print_freq=1)
    run = {"batch_size": 4, "out_dir": tmp_path / "train", "device": "cpu", "progress": False}
    result = train_genotype(
        GENOTYPE, train, val, settings, **ARGS, image_residual=mode, clip_output=True, **run
    )
    net = load_trained_network(result.checkpoint)
    assert net.image_output.mode == mode and net.image_output.clip
    x = torch.rand(1, 3, 8, 8)
    path = export_onnx_int8(net, tmp_path / "net.onnx", x)
    assert onnx_int8_agreement(net, path, x)["max_diff_255"] < 255e-5
