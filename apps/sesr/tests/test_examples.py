"""The official SESR README's example commands (SESR-M5, M11, XL; x2 then x4; collapsed and
expanded) run as written, shrunk by the flags in conftest.SHRINK, on tiny photo folders."""

import json

import pytest

# the official SESR README, "Training x2 SISR" (the x4 commands are the same plus --scale 4)
OFFICIAL_COMMANDS = {
    "SESR_m5_f16_x{}_fs256_collapsedTraining": "",
    "SESR_m5_f16_x{}_fs256_expandedTraining": "--linear_block_type expanded",
    "SESR_m11_f16_x{}_fs64_collapsedTraining": "--m 11 --feature_size 64",
    "SESR_m11_f32_x{}_fs64_collapsedTraining": "--m 11 --int_features 32 --feature_size 64",
}


@pytest.fixture
def x2_runs(sesr, tmp_path_factory):
    """The x2 commands, run once (into one results root shared by the tests of this module)."""
    out = tmp_path_factory.getbasetemp() / "examples"
    if not out.exists():
        for command in OFFICIAL_COMMANDS.values():
            assert sesr(command.split(), out) == 0, command
    return out


@pytest.mark.parametrize("name", OFFICIAL_COMMANDS)
def test_x2_commands(x2_runs, name):
    results = json.loads((x2_runs / "x2_models" / name.format(2) / "results.json").read_text())
    assert results["train"]["steps"] == 2 and results["train"]["x2_source"] is None
    assert results["fp32"]["benchmarks"]["test"]["images"] == 3
    assert results["fp32"]["deploy_max_abs_diff"] < 1e-5  # collapsed == trained form, either mode
    assert results["int8"]["ptq_w8a8"]["onnx_within_2_255"]


@pytest.mark.parametrize("name", OFFICIAL_COMMANDS)
def test_x4_commands_start_from_their_x2_model(sesr, x2_runs, name):
    assert sesr(OFFICIAL_COMMANDS[name].split() + ["--scale", "4"], x2_runs) == 0
    results = json.loads((x2_runs / "x4_models" / name.format(4) / "results.json").read_text())
    assert results["train"]["x2_source"] == str(x2_runs / "x2_models" / name.format(2) / "best.pt")
    assert results["network"]["scale"] == 4
