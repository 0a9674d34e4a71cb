"""sr_deploy: from a trained checkpoint to a shipped artifact.

Rebuild a model from a checkpoint, a run folder or an official weights file (`find_weights`,
`load_trained`; `check_out_of_official_folder` keeps results out of the authors' folder), deploy it and
verify the gap to its training form (`deploy_verified`), export ONNX atomically with an onnxruntime
check (`export_onnx_checked`, `onnx_available`), do all of it plus the benchmark table for a
finished run in one call (`ship_trained`), run a network on images (`open_engine`, `TorchEngine`,
`OnnxEngine`) and upscale files and folders (`plan_jobs`, `upscale_files`). int8 PTQ/QAT/QCDQ lives
in `sr_deploy.quant` (the `quant` extra: Brevitas); importing `sr_deploy` does not need it.
"""

from sr_deploy.engines import Engine, OnnxEngine, TorchEngine, checked_tiling, engine_from_spec, open_engine
from sr_deploy.loading import check_out_of_official_folder, find_weights, is_official, load_trained
from sr_deploy.onnx_export import (
    ONNX_INSTALL_HINT,
    OnnxReport,
    export_onnx_checked,
    onnx_available,
    onnx_missing_reason,
)
from sr_deploy.ship import benchmark, deploy_and_export, measure, ship_trained
from sr_deploy.upscale import UpscaleJob, UpscaleReport, plan_jobs, upscale_files, upscale_rgb
from sr_deploy.verify import DeployCheck, check_input, deploy_verified
from sr_deploy.version import __version__

__all__ = [
    "ONNX_INSTALL_HINT",
    "DeployCheck",
    "Engine",
    "OnnxEngine",
    "OnnxReport",
    "TorchEngine",
    "UpscaleJob",
    "UpscaleReport",
    "__version__",
    "benchmark",
    "check_input",
    "check_out_of_official_folder",
    "checked_tiling",
    "deploy_and_export",
    "deploy_verified",
    "engine_from_spec",
    "export_onnx_checked",
    "find_weights",
    "is_official",
    "load_trained",
    "measure",
    "onnx_available",
    "onnx_missing_reason",
    "open_engine",
    "plan_jobs",
    "ship_trained",
    "upscale_files",
    "upscale_rgb",
]
