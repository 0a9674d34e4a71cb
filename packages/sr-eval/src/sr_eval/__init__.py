"""sr_eval: PSNR/SSIM as SR papers report them, params/MACs, latency and benchmark tables."""

from sr_eval.color import rgb_to_y, rgb_to_ycbcr, ycbcr_to_rgb
from sr_eval.evaluate import evaluate
from sr_eval.latency import Latency, interleaved_times_ms, latency, synchronize, time_calls_ms
from sr_eval.metrics import psnr, psnr_ssim, ssim
from sr_eval.profiling import Profile, count_parameters, profile
from sr_eval.reference import psnr_reference, ssim_reference
from sr_eval.table import EvalTable
from sr_eval.tiling import tiled_forward
from sr_eval.version import __version__

__all__ = [
    "EvalTable",
    "Latency",
    "Profile",
    "__version__",
    "count_parameters",
    "evaluate",
    "interleaved_times_ms",
    "latency",
    "synchronize",
    "time_calls_ms",
    "profile",
    "psnr",
    "psnr_reference",
    "psnr_ssim",
    "rgb_to_y",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "ssim",
    "ssim_reference",
    "tiled_forward",
]
