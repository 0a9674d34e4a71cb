"""What quantisation costs a model, measured end to end on the bundled sample images (CPU-sized).

`python -m sr_deploy.quant.sample_study --model espcn --steps 1000` trains the registry model
briefly on 64x64 patches of `SampleImages("train")`, deploys it, then prints the PSNR loss of PTQ for
every method at w8a8, w4a8 and w4a4, of PTQ variants (outputs left float, no bias correction, 4-bit
image layers) and of a short w4a4 QAT, on the sample test images (Y channel). A briefly trained
model still improves with any extra training, so the QAT run is also compared with the float model
fine-tuned for the same steps (the fair baseline for what QAT recovers). `--y` trains and
evaluates a one-channel (Y) model, as SESR is meant to be used. The README's table comes from here.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from collections.abc import Sequence

import torch
from torch import nn
from torch.utils.data import Dataset

import sr_blocks
import sr_data
import sr_reparam
import sr_train
from sr_deploy.quant.quantize import ptq, qat
from sr_deploy.quant.quantizers import METHODS
from sr_train.validation import validate

CALIBRATION_PATCHES = 256
QAT_LR = 5e-4
TRAINING_PATCHES = 4096  # reused every epoch: ~250 MB of RGB patches


def ptq_settings() -> list[tuple[str, dict]]:
    """(label, ptq keyword arguments) of every PTQ variant the study measures."""
    settings = [
        (f"PTQ {method} w{wb}a{ab}", dict(weight_bits=wb, act_bits=ab, method=method))
        for method in METHODS
        for wb, ab in ((8, 8), (4, 8), (4, 4))
    ]
    settings += [
        ("PTQ percentile w8a8, outputs float", dict(quantize_outputs=False)),
        ("PTQ percentile w8a8, no bias correction", dict(bias_correction=False)),
        ("PTQ percentile w4a4, image layers at 4 bits too", dict(weight_bits=4, act_bits=4, io_bits=None)),
    ]
    return settings


def run_study(
    model_name: str,
    steps: int,
    qat_steps: int,
    scale: int,
    y_only: bool,
    cache_dir: str,
    training_patches: int = TRAINING_PATCHES,
) -> None:
    """Train, deploy, quantise every way, print one line per variant."""
    channels = {"in_channels": 1, "out_channels": 1} if y_only else {}
    torch.manual_seed(0)
    model = sr_blocks.create_model(model_name, scale=scale, **channels)
    images = sr_data.SampleImages("train", scale)
    crops = sr_data.RandomPatches(images, 64, training_patches, cache_dir=cache_dir)
    patches = sr_train.stack_patches(sr_train.LumaView(crops) if y_only else crops)
    test = sr_data.SampleImages("test", scale)
    val = sr_train.LumaView(test, keys=("lr",)) if y_only else test
    started = time.perf_counter()
    sr_train.train_and_validate(model, patches, steps, val, batch_size=16, lr=1e-3, scheduler="cosine")
    model = sr_reparam.deploy(model).eval()
    calibration = patches.lr[:CALIBRATION_PATCHES]
    float_psnr = _psnr(model, val, scale)
    print(
        f"{model_name} x{scale} ({'Y' if y_only else 'RGB'}), {steps} steps "
        f"({time.perf_counter() - started:.0f} s): float {float_psnr:.3f} dB on the sample test images"
    )
    for label, kwargs in ptq_settings():
        _report(label, float_psnr, _psnr(ptq(model, calibration, keep_float=(), **kwargs), val, scale))
    fine_tuned = copy.deepcopy(model)
    trainable = qat(model, 4, 4, calibration_batches=calibration)
    for network in (trainable, fine_tuned):
        sr_train.train_and_validate(network, patches, qat_steps, val, batch_size=16, lr=QAT_LR)
    tuned_psnr = _psnr(fine_tuned, val, scale)
    print(f"  float fine-tuned for {qat_steps} more steps: {tuned_psnr:.3f} dB")
    qat_psnr = _psnr(trainable, val, scale)
    _report(f"QAT percentile w4a4, {qat_steps} steps", float_psnr, qat_psnr)
    _report("  the same, against the fine-tuned float", tuned_psnr, qat_psnr)


def _psnr(model: nn.Module, data: Dataset, scale: int) -> float:
    return validate(model.eval(), data, scale, torch.device("cpu"), with_ssim=False)["psnr"]


def _report(label: str, float_psnr: float, psnr: float) -> None:
    print(f"  {label:48s} {psnr:.3f} dB  loss {float_psnr - psnr:+.3f} dB", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="espcn", help="registry name (default espcn)")
    parser.add_argument("--steps", type=int, default=1000, help="float training steps (default 1000)")
    parser.add_argument("--qat-steps", type=int, default=300, help="w4a4 QAT steps (default 300)")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--y", action="store_true", help="one-channel (Y) model")
    parser.add_argument("--cache", help="decoded-image cache folder (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sample-study-") as scratch:
        run_study(args.model, args.steps, args.qat_steps, args.scale, args.y, args.cache or scratch)


if __name__ == "__main__":
    main()
