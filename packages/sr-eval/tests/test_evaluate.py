"""evaluate() on in-memory sets, EvalTable formats, tiling/self-ensemble settings."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from sr_eval import EvalTable, evaluate, psnr_reference, rgb_to_y, ssim_reference


class NearestUp(nn.Module):
    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(lr, scale_factor=self.scale, mode="nearest")


class TinySet(Dataset):
    """Random HR images with their 2x2-mean LR, in sr_data's item format."""

    name = "tiny"

    def __init__(self, sizes=((24, 32), (30, 20)), scale: int = 2):
        rng = np.random.default_rng(0)
        self.items = []
        for i, (h, w) in enumerate(sizes):
            hr = torch.from_numpy(rng.random((3, h, w)).astype(np.float32))
            lr = torch.nn.functional.avg_pool2d(hr[None], scale)[0]
            self.items.append({"lr": lr, "hr": hr, "name": f"img{i}"})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        return self.items[index]


def test_evaluate_matches_per_image_reference():
    data = TinySet()
    table = evaluate(NearestUp(2), [data], scale=2)
    rows = table.datasets[0].rows
    assert [r.image for r in rows] == ["img0", "img1"]
    for row, item in zip(rows, data.items, strict=True):
        sr = NearestUp(2)(item["lr"][None])[0].permute(1, 2, 0).numpy()
        hr = item["hr"].permute(1, 2, 0).numpy()
        assert row.psnr == pytest.approx(psnr_reference(sr, hr, 2), abs=1e-10)
        assert row.ssim == pytest.approx(ssim_reference(sr, hr, 2), abs=1e-10)
    summary = table.summary["tiny"]
    assert summary["psnr"] == pytest.approx(np.mean([r.psnr for r in rows]))
    assert summary["images"] == 2
    assert table.settings["crop_border"] == 2 and table.settings["channel"] == "Y"


def test_tiling_and_self_ensemble_do_not_change_an_equivariant_model():
    data = TinySet()
    plain = evaluate(NearestUp(2), data, scale=2)
    other = evaluate(NearestUp(2), data, scale=2, tile=8, overlap=2, self_ensemble=True)
    assert other.settings["tile"] == 8 and other.settings["self_ensemble"] is True
    for a, b in zip(plain.datasets[0].rows, other.datasets[0].rows, strict=True):
        assert a.psnr == pytest.approx(b.psnr, abs=1e-9) and a.ssim == pytest.approx(b.ssim, abs=1e-12)


def test_wrong_output_size_names_the_image():
    with pytest.raises(ValueError, match="tiny/img0"):
        evaluate(NearestUp(3), TinySet(), scale=2)


def test_metric_errors_name_the_image():
    with pytest.raises(ValueError, match=r"tiny/img1: SSIM needs images of at least 11x11"):
        evaluate(NearestUp(2), TinySet(sizes=((30, 30), (14, 30))), scale=2)
    with pytest.raises(ValueError, match=r"tiny/img0: crop_border 12"):
        evaluate(NearestUp(2), TinySet(), scale=2, crop_border=12)


def test_table_formats(tmp_path):
    table: EvalTable = evaluate(NearestUp(2), TinySet(), scale=2)
    markdown = table.to_markdown(per_image=True)
    assert markdown.splitlines()[0] == "| dataset | images | PSNR (dB) | SSIM |"
    assert f"| tiny | 2 | {table.summary['tiny']['psnr']:.2f} |" in markdown and "| img1 |" in markdown
    as_json = json.loads(table.to_json())
    assert as_json["summary"]["tiny"]["ssim"] == table.summary["tiny"]["ssim"]
    assert as_json["images"]["tiny"][0]["image"] == "img0"
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert [r["image"] for r in rows] == ["img0", "img1"] and float(rows[0]["psnr"]) == table.datasets[
        0
    ].rows[0].psnr
    written = table.save(tmp_path / "out")
    assert sorted(p.name for p in written) == ["results.csv", "results.json", "results.md"]


class LumaUp(nn.Module):
    """A Y-only model (its first convolution takes 1 channel): nearest upscaling of its input."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale
        self.identity = nn.Conv2d(1, 1, 1, bias=False)
        nn.init.ones_(self.identity.weight)
        self.seen: list[torch.Tensor] = []

    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        self.seen.append(lr.clone())
        return torch.nn.functional.interpolate(self.identity(lr), scale_factor=self.scale, mode="nearest")


def _luma_255(rgb_uint8: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr Y (0..255, unrounded) of a (3, H, W) uint8-valued array, written out by hand."""
    r, g, b = rgb_uint8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b


def test_y_only_model_is_fed_lr_luma_and_scored_against_unrounded_hr_luma():
    data = TinySet(sizes=((36, 40), (30, 26)))
    model = LumaUp(2)
    table = evaluate(model, data, scale=2)  # 1 channel detected from the first convolution
    assert table.settings["model_input"] == "Y"
    for row, item, seen in zip(table.datasets[0].rows, data.items, model.seen, strict=True):
        lr_u8 = item["lr"].double().numpy()
        assert seen.shape == (1, 1, *item["lr"].shape[1:])
        expected_input = (16.0 + 65.481 * lr_u8[0] + 128.553 * lr_u8[1] + 24.966 * lr_u8[2]) / 255.0
        assert np.allclose(seen[0, 0].numpy(), expected_input, atol=1e-6)  # Y of the LR, not rounded
        sr_y = np.repeat(np.repeat(seen[0, 0].double().numpy(), 2, axis=0), 2, axis=1)
        sr_255 = np.round(np.clip(sr_y, 0, 1) * 255.0)[2:-2, 2:-2]  # SR Y on the uint8 grid
        hr_255 = _luma_255(np.round(item["hr"].double().numpy() * 255.0))[2:-2, 2:-2]  # HR Y unrounded
        expected = 10 * np.log10(255.0**2 / np.mean((sr_255 - hr_255) ** 2))
        assert row.psnr == pytest.approx(expected, abs=1e-6)
        both_rounded = 10 * np.log10(255.0**2 / np.mean((sr_255 - np.round(hr_255)) ** 2))
        assert abs(row.psnr - both_rounded) > 1e-3  # the HR's Y is not rounded
        sr_np = sr_y.astype(np.float32)
        hr_np = item["hr"].permute(1, 2, 0).numpy()
        assert row.ssim == pytest.approx(ssim_reference(sr_np, hr_np, 2), abs=1e-10)


def test_y_only_oracle_scores_the_rounding_of_its_output_only():
    data = TinySet(sizes=((24, 24),))
    hr = data.items[0]["hr"][None]
    hr_y = rgb_to_y(torch.round(hr * 255) / 255)

    class Oracle(nn.Module):
        def forward(self, lr: torch.Tensor) -> torch.Tensor:
            return hr_y

    row = evaluate(Oracle(), data, scale=2, in_channels=1).datasets[0].rows[0]
    target = rgb_to_y(torch.round(hr.double() * 255) / 255) * 255  # float64, unrounded
    error = (torch.round(hr_y.double() * 255) - target)[..., 2:-2, 2:-2]
    assert row.psnr == pytest.approx((10 * torch.log10(255.0**2 / error.square().mean())).item(), abs=1e-6)
    assert 55 < row.psnr < 65  # the Y of a uint8 image is off the uint8 grid by ~1/sqrt(12) on average


def test_y_only_model_with_tiling_and_self_ensemble():
    data = TinySet(sizes=((36, 40),))
    plain = evaluate(LumaUp(2), data, scale=2)
    other = evaluate(LumaUp(2), data, scale=2, tile=8, overlap=2, self_ensemble=True)
    assert other.datasets[0].rows[0].psnr == pytest.approx(plain.datasets[0].rows[0].psnr, abs=1e-9)


def test_input_channel_errors():
    with pytest.raises(ValueError, match="in_channels=2 input channels"):
        evaluate(NearestUp(2), TinySet(), scale=2, in_channels=2)
    with pytest.raises(ValueError, match="Sequential takes 4 input channels"):
        evaluate(nn.Sequential(nn.Conv2d(4, 4, 1)), TinySet(), scale=2)
    with pytest.raises(ValueError, match="test_y_channel=True"):
        evaluate(LumaUp(2), TinySet(), scale=2, test_y_channel=False)

    class LumaToRgb(NearestUp):
        def forward(self, lr: torch.Tensor) -> torch.Tensor:
            return super().forward(lr).expand(-1, 3, -1, -1)

    with pytest.raises(ValueError, match=r"tiny/img0: SR \(1, 3, 24, 32\).*1 input channel"):
        evaluate(LumaToRgb(2), TinySet(), scale=2, in_channels=1)


def test_half_precision_model_gets_half_precision_input():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2))
    data = TinySet(sizes=((24, 24),))
    full = evaluate(model, data, scale=2).datasets[0].rows[0]
    half = evaluate(model.to(torch.bfloat16), data, scale=2).datasets[0].rows[0]
    assert half.psnr == pytest.approx(full.psnr, abs=0.5)
