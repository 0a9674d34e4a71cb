"""`load_trained` of files the toolkit did not write (official checkpoints, bare state dicts): the
model and scale inferred from the file or checked against it, and results kept out of the folder of
such a file (`check_out_of_official_folder`, `ship_trained`).

The official checkpoints are looked up in $SR_WEIGHTS, else ../shared/weights beside this checkout;
the tests that need them skip with a reason when absent. A bare state dict (no official layout)
stands in for them where only the plumbing is tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sr_blocks import create_model
from sr_deploy import (
    check_out_of_official_folder,
    engine_from_spec,
    is_official,
    load_trained,
    open_engine,
    ship_trained,
)
from sr_deploy.testing import needs_official_weights, official_weights


@pytest.fixture
def bare_state_dict(tmp_path: Path) -> Path:
    """A plain state dict of sesr_m3 x2 (no official layout, no model name) in its own folder."""
    torch.manual_seed(0)
    path = tmp_path / "authors" / "sesr.pth"
    path.parent.mkdir()
    torch.save(create_model("sesr_m3", 2).state_dict(), path)
    return path


def test_a_bare_state_dict_needs_its_model_and_is_checked_against_it(bare_state_dict):
    with pytest.raises(ValueError, match=r"sesr\.pth: .*say which model with --model NAME"):
        load_trained(bare_state_dict)
    with pytest.raises(ValueError, match=r"sesr\.pth: tensor .* does not fit sesr_m3 x3"):
        load_trained(bare_state_dict, model="sesr_m3", scale=3)
    model, ckpt = load_trained(bare_state_dict, model="sesr_m3", scale=2)
    assert is_official(ckpt) and ckpt["model_name"] == "sesr_m3" and ckpt["scale"] == 2
    reference = create_model("sesr_m3", 2)
    reference.load_state_dict(torch.load(bare_state_dict, weights_only=True))
    x = torch.rand(1, 3, 8, 9)
    torch.testing.assert_close(model(x), reference.eval()(x))


def test_results_never_go_into_the_folder_of_such_a_file(bare_state_dict, tmp_path, make_checkpoint):
    _, ckpt = load_trained(bare_state_dict, model="sesr_m3", scale=2)
    folder = bare_state_dict.parent
    for out in (folder, folder / "deploy", folder / "model.onnx"):
        with pytest.raises(ValueError, match="folder of the official weights sesr.pth"):
            check_out_of_official_folder(ckpt, out)
    check_out_of_official_folder(ckpt, tmp_path / "elsewhere")  # no error
    _, own = load_trained(make_checkpoint())
    assert not is_official(own)
    check_out_of_official_folder(own, tmp_path)  # a toolkit checkpoint's folder is a run folder: fine


@needs_official_weights
def test_ship_trained_of_an_official_file_needs_an_out_folder(tmp_path):
    weights = official_weights("model_RTC.pth")
    with pytest.raises(ValueError, match="model_RTC.pth: official weights; say where the results go"):
        ship_trained(weights, [], log=lambda _: None)


@needs_official_weights
def test_model_and_scale_are_inferred_or_checked(tmp_path):
    weights = official_weights("IMDN_x4.pth")
    model, ckpt = load_trained(weights)
    assert (ckpt["model_name"], ckpt["scale"], ckpt["layout"]) == ("imdn", 4, "Zheng222/IMDN IMDN")
    assert sum(p.numel() for p in model.parameters()) == 715_176
    with pytest.raises(ValueError, match=r"IMDN_x4.pth: the file seems to hold imdn x4 .* not x2"):
        load_trained(weights, scale=2)
    with pytest.raises(
        ValueError, match=r"IMDN_x4.pth: the file seems to hold imdn x4 .* not --model 'rfdn'"
    ):
        load_trained(weights, model="rfdn")
    with pytest.raises(ValueError, match=r"IMDN_AS.pth: .*say which scale with --scale N"):
        load_trained(official_weights("IMDN_AS.pth"))
    _, as_ckpt = load_trained(official_weights("IMDN_AS.pth"), scale=2)
    assert (as_ckpt["model_name"], as_ckpt["scale"]) == ("imdn_as", 2)


@needs_official_weights
def test_engines_take_official_files(tmp_path):
    engine = engine_from_spec(str(official_weights("RFDN_AIM.pth")))
    assert (engine.name, engine.scale, engine.in_channels) == ("rfdn", 4, 3)
    lr = torch.rand(10, 12, 3).numpy()
    assert engine(lr).shape == (40, 48, 3)
    with pytest.raises(ValueError, match="RFDN_AIM.pth: .* not x2"):
        engine_from_spec(str(official_weights("RFDN_AIM.pth")), scale=2)
    rtc = open_engine(weights=official_weights("model_RTC.pth"), model="imdn_rtc", scale=2, device="cpu")
    assert rtc.scale == 2 and rtc(lr).shape == (20, 24, 3)
