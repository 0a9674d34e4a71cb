"""The authors' checkpoints score here what they score in their papers, through sr_eval.evaluate.

sr_blocks converts the files (../shared/weights, or $SR_WEIGHTS), sr_eval scores them on the
benchmark images (../shared/datasets, or $SR_DATASETS) with the papers' protocol (Y channel, crop =
scale, MATLAB bicubic LR). The IMDN paper's Set5/Set14 table (ACM MM 2019, Table 3) is reproduced
within 0.02 dB / 0.0005 SSIM. RFDN_AIM and IMDN-RTC have no published Set5/Set14/BSD68 figures:
their rows are the ones measured here (packages/sr-blocks/README.md, "Pretrained"), kept as
regression values. Skips without the weights or the images.
"""

from __future__ import annotations

import json

import pytest
import torch

from sr_blocks import create_model
from sr_data import find_datasets_root, find_weights_root
from sr_deploy.testing import one_thread  # noqa: F401 (autouse: one torch thread per test)
from sr_eval import cli, evaluate
from sr_train import model_checkpoint, save_checkpoint

WEIGHTS = find_weights_root()
DATASETS = find_datasets_root()
pytestmark = [
    pytest.mark.skipif(WEIGHTS is None, reason="official checkpoints not found: set SR_WEIGHTS"),
    pytest.mark.skipif(DATASETS is None, reason="benchmark images not found: set SR_DATASETS"),
]

#: IMDN paper, Table 3 (PSNR / SSIM on Y), as ../shared/weights/README.md quotes it.
IMDN_PAPER = {
    (2, "Set5"): (38.00, 0.9605),
    (2, "Set14"): (33.63, 0.9177),
    (3, "Set5"): (34.36, 0.9270),
    (3, "Set14"): (30.32, 0.8417),
    (4, "Set5"): (32.21, 0.8948),
    (4, "Set14"): (28.58, 0.7811),
}

#: Measured here (no published figures on these sets): (model, scale, file) -> {set: (PSNR, SSIM)}.
MEASURED = {
    ("rfdn", 4, "RFDN_AIM.pth"): {
        "Set5": (32.1552, 0.89449),
        "Set14": (28.6453, 0.78253),
        "BSD68": (27.8056, 0.75207),
    },
    ("imdn_rtc", 2, "model_RTC.pth"): {
        "Set5": (37.3204, 0.95847),
        "Set14": (32.9760, 0.91315),
        "BSD68": (32.0081, 0.90344),
    },
}


def _scores(name: str, scale: int, filename: str, sets: list[str]) -> dict[str, tuple[float, float]]:
    model = create_model(name, scale, weights=WEIGHTS / filename)
    table = evaluate(model, sets, scale)
    return {result.name: (result.psnr, result.ssim) for result in table.datasets}


def test_imdn_reproduces_its_paper_table_on_set5_and_set14():
    measured = {}
    for scale in (2, 3, 4):
        for dataset, score in _scores("imdn", scale, f"IMDN_x{scale}.pth", ["Set5", "Set14"]).items():
            measured[scale, dataset] = score
    off = {
        key: (round(psnr - IMDN_PAPER[key][0], 4), round(ssim - IMDN_PAPER[key][1], 5))
        for key, (psnr, ssim) in measured.items()
        if abs(psnr - IMDN_PAPER[key][0]) > 0.02 or abs(ssim - IMDN_PAPER[key][1]) > 0.0005
    }
    assert set(measured) == set(IMDN_PAPER) and not off, f"(scale, set): (dB, SSIM) off the paper: {off}"


@pytest.mark.parametrize(("name", "scale", "filename"), sorted(MEASURED))
def test_rfdn_aim_and_imdn_rtc_keep_their_measured_scores(name, scale, filename):
    expected = MEASURED[name, scale, filename]
    measured = _scores(name, scale, filename, list(expected))
    for dataset, (psnr, ssim) in expected.items():
        assert measured[dataset][0] == pytest.approx(psnr, abs=0.01), (dataset, measured[dataset])
        assert measured[dataset][1] == pytest.approx(ssim, abs=0.0005), (dataset, measured[dataset])


def test_sr_eval_takes_an_official_checkpoint_as_weights(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--model", "imdn", "--scale", "4", "--weights", str(WEIGHTS / "IMDN_x4.pth"), "--data", "Set5"]
    assert cli.main([*argv, "--device", "cpu", "--out", str(out)]) == 0
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert abs(summary["Set5"]["psnr"] - IMDN_PAPER[4, "Set5"][0]) <= 0.02
    capsys.readouterr()
    wrong = ["--model", "imdn", "--scale", "2", "--weights", str(WEIGHTS / "IMDN_x4.pth"), "--data", "Set5"]
    assert cli.main(wrong) != 0
    error = capsys.readouterr().err
    assert "IMDN_x4.pth" in error and "seems to hold imdn x4" in error


def test_an_sr_train_checkpoint_of_official_weights_round_trips(tmp_path):
    model = create_model("imdn_rtc", 2, weights=WEIGHTS / "model_RTC.pth")
    path = tmp_path / "imdn_rtc_x2.pt"
    save_checkpoint(path, model_checkpoint(model, "imdn_rtc", 2))
    again = create_model("imdn_rtc", 2, weights=path)
    for key, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key
