"""Results of an evaluation: per-image PSNR/SSIM rows and per-dataset means, as Markdown/JSON/CSV."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic


@dataclass(frozen=True)
class ImageResult:
    image: str
    psnr: float
    ssim: float


@dataclass
class DatasetResult:
    """The rows of one test set; its figure is the mean over images (as in the papers)."""

    name: str
    rows: list[ImageResult] = field(default_factory=list)

    @property
    def psnr(self) -> float:
        return statistics.fmean(row.psnr for row in self.rows)

    @property
    def ssim(self) -> float:
        return statistics.fmean(row.ssim for row in self.rows)


@dataclass
class EvalTable:
    """PSNR/SSIM per dataset and per image, with the settings that produced them.

    ``settings`` holds the protocol (scale, crop border, channel, tiling, self-ensemble) and
    anything the caller adds (model name, parameters, MACs); it is written into every format.
    """

    datasets: list[DatasetResult]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, dict[str, float]]:
        """{dataset: {"psnr": mean dB, "ssim": mean, "images": count}}."""
        return {d.name: {"psnr": d.psnr, "ssim": d.ssim, "images": len(d.rows)} for d in self.datasets}

    def to_markdown(self, per_image: bool = False) -> str:
        """A summary table (PSNR to 2 decimals, SSIM to 4, as papers print them), optionally per image."""
        lines = ["| dataset | images | PSNR (dB) | SSIM |", "|---|---:|---:|---:|"]
        lines += [f"| {d.name} | {len(d.rows)} | {d.psnr:.2f} | {d.ssim:.4f} |" for d in self.datasets]
        if per_image:
            for d in self.datasets:
                lines += ["", f"**{d.name}**", "", "| image | PSNR (dB) | SSIM |", "|---|---:|---:|"]
                lines += [f"| {r.image} | {r.psnr:.4f} | {r.ssim:.6f} |" for r in d.rows]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "summary": self.summary,
            "images": {d.name: [vars(r) for r in d.rows] for d in self.datasets},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_csv(self) -> str:
        """One line per image: dataset, image, psnr, ssim (full precision)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["dataset", "image", "psnr", "ssim"])
        for d in self.datasets:
            writer.writerows([d.name, r.image, repr(r.psnr), repr(r.ssim)] for r in d.rows)
        return buffer.getvalue()

    def save(self, out_dir: str | Path, stem: str = "results") -> list[Path]:
        """Write ``<stem>.json``, ``.csv`` and ``.md`` (per image too) atomically into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for suffix, text in (
            ("json", self.to_json()),
            ("csv", self.to_csv()),
            ("md", self.to_markdown(True)),
        ):
            path = out / f"{stem}.{suffix}"
            write_text_atomic(path, text)
            written.append(path)
        return written
