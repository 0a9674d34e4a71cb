"""The official SESR code's flags parse with its names and defaults; bad values are refused by name."""

import pytest

from sr_sesr.cli import build_parser, request_from_args
from sr_sesr.settings import RECIPE

# the official SESR README, "Flag description and location": flag -> default
OFFICIAL_FLAGS = {
    "epochs": 300,
    "batch_size": 32,
    "learning_rate": 2e-4,
    "model_name": "SESR",
    "scale": 2,
    "feature_size": 256,
    "int_features": 16,
    "m": 5,
    "linear_block_type": "collapsed",
}


def parse(*argv):
    return request_from_args(build_parser().parse_args(list(argv)))


def test_the_official_flags_have_their_defaults():
    args = build_parser().parse_args([])
    assert {flag: getattr(args, flag) for flag in OFFICIAL_FLAGS} == OFFICIAL_FLAGS
    request = parse()
    assert request.network.run_name == "SESR_m5_f16_x2_fs256_collapsedTraining"
    assert request.network.model_kwargs() == {
        "m": 5,
        "f": 16,
        "feature_size": 256,
        "in_channels": 1,
        "out_channels": 1,
        "training_mode": "collapsed",
    }
    assert request.int8.qat_bits is None and request.int8.qat_epochs == 30
    recipe = request.recipe
    assert (recipe.epochs, recipe.batch_size, recipe.learning_rate, recipe.seed) == (300, 32, 2e-4, 0)
    assert RECIPE == {"loss": "l1", "optimizer": "adam", "amsgrad": True, "scheduler": "constant"}
    assert str(request.device) in ("cpu", "cuda:0")  # auto


def test_every_official_flag_is_read():
    request = parse(
        "--epochs",
        "7",
        "--batch_size",
        "8",
        "--learning_rate",
        "1e-3",
        "--model_name",
        "SESR",
        "--scale",
        "4",
        "--feature_size",
        "64",
        "--int_features",
        "32",
        "--m",
        "11",
        "--linear_block_type",
        "expanded",
    )
    assert request.network.run_name == "SESR_m11_f32_x4_fs64_expandedTraining"
    assert (request.recipe.epochs, request.recipe.batch_size, request.recipe.learning_rate) == (7, 8, 1e-3)
    assert (
        request.network.run_dir(request.out).as_posix()
        == "logs/x4_models/SESR_m11_f32_x4_fs64_expandedTraining"
    )


def test_the_recipe_of_the_official_code():
    recipe = parse().recipe
    assert (recipe.hr_patch_size(2), recipe.hr_patch_size(4)) == (128, 200)
    assert recipe.patches_per_epoch(800) == 64 * 800
    shrunk = parse("--steps_per_epoch", "3", "--batch_size", "4", "--patch_size", "16").recipe
    assert (shrunk.patches_per_epoch(800), shrunk.hr_patch_size(4)) == (12, 16)


@pytest.mark.parametrize(
    "argv, bits",
    [
        (["--quant_W", "8", "--quant_A", "8"], (8, 8)),
        (["--quant_W", "--quant_A"], (8, 8)),  # bare flags, like the official booleans
        (["--quant_W=True", "--quant_A=True"], (8, 8)),
        (["--quant_W", "4", "--quant_A", "4"], (4, 4)),
        (["--quant_W", "4", "--quant_A", "8"], (4, 8)),
        (["--quant_W=false", "--quant_A=false"], None),
    ],
)
def test_quant_flags(argv, bits):
    assert parse(*argv).int8.qat_bits == bits


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--quant_W", "8"], "give both"),
        (["--model_name", "EDSR"], "--model_name 'EDSR'"),
        (["--m", "0"], "--m must be >= 1"),
        (["--epochs", "0"], "--epochs must be >= 1"),
        (["--x2_model", "x2.pt"], "--x2_model is for --scale 4"),
        (["--calibration_patches", "0"], "--calibration_patches must be >= 1"),
        (["--device", "tpu"], "unknown device 'tpu'"),
    ],
)
def test_bad_flags_are_named(argv, message):
    with pytest.raises(ValueError, match=message):
        parse(*argv)


@pytest.mark.parametrize("argv", [["--scale", "3"], ["--linear_block_type", "folded"], ["--quant_W", "9"]])
def test_values_outside_the_choices_exit(argv):
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)
