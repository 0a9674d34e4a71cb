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

from sr_eval import EvalTable, evaluate, psnr_reference, ssim_reference


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
