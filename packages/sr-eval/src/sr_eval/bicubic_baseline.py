"""The bicubic baseline row of every SR table: sr-data's `BicubicUpsampler` (MATLAB imresize).

Run ``python -m sr_eval.bicubic_baseline [--data Set5 Set14 BSD68] [--scales 2 3 4]`` to print
the PSNR/SSIM table of bicubic upscaling; it needs only sr-eval and sr-data.
"""

from __future__ import annotations

import argparse
import warnings

from sr_data.upsampler import BicubicUpsampler as _BicubicUpsampler
from sr_eval.evaluate import evaluate


def __getattr__(name: str):
    """`BicubicUpsampler` moved to `sr_data.upsampler`; this alias goes in the next release."""
    if name == "BicubicUpsampler":
        warnings.warn(
            "sr_eval.bicubic_baseline.BicubicUpsampler moved to sr_data.upsampler.BicubicUpsampler",
            DeprecationWarning,
            stacklevel=2,
        )
        return _BicubicUpsampler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def bicubic_table(datasets: list[str], scales: list[int], data_root: str | None = None) -> str:
    """Markdown table: one row per dataset, "PSNR / SSIM" per scale."""
    header = "| set | " + " | ".join(f"x{s} PSNR / SSIM" for s in scales) + " |"
    lines = [header, "|---|" + "---|" * len(scales)]
    cells: dict[str, list[str]] = {name: [] for name in datasets}
    for scale in scales:
        table = evaluate(_BicubicUpsampler(scale), datasets, scale, data_root=data_root, progress=True)
        for name, row in zip(datasets, table.summary.values(), strict=True):
            cells[name].append(f"{row['psnr']:.2f} / {row['ssim']:.4f}")
    lines += [f"| {name} | " + " | ".join(cells[name]) + " |" for name in datasets]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="PSNR/SSIM (Y, crop = scale) of bicubic upscaling.")
    parser.add_argument(
        "--data", nargs="+", default=["Set5", "Set14", "BSD68"], help="benchmark names or folders"
    )
    parser.add_argument("--scales", nargs="+", type=int, default=[2, 3, 4])
    parser.add_argument("--data-root", default=None, help="folder holding the benchmark folders")
    args = parser.parse_args(argv)
    print(bicubic_table(args.data, args.scales, args.data_root), end="")


if __name__ == "__main__":
    main()
