"""ONNX files of deployed models: written atomically, then checked against PyTorch in onnxruntime.

The onnx packages are an optional extra (``pip install 'sr-deploy[onnx]'``): `onnx_available` is the
one check for them, and the export returns None (saying why) when they are missing, so a pipeline
finishes without them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import torch
from torch import nn

from sr_data import atomic_write
from sr_deploy.verify import check_input
from sr_reparam import export_onnx, onnxruntime_max_difference

ONNX_INSTALL_HINT = "pip install 'sr-deploy[onnx]'"
FLOAT_PACKAGES = ("onnx",)  # what torch's exporter needs
INT8_PACKAGES = ("onnx", "onnxoptimizer")  # Brevitas' QCDQ export also runs onnxoptimizer passes
CHECK_PACKAGE = "onnxruntime"
FLOAT_TOLERANCE = 1e-4  # onnxruntime vs PyTorch for a float export: a larger gap is reported as a warning


def missing_onnx_packages(int8: bool = False) -> list[str]:
    """The packages an (int8) ONNX export needs that are not installed."""
    needed = INT8_PACKAGES if int8 else FLOAT_PACKAGES
    return [name for name in needed if find_spec(name) is None]


def onnx_available(int8: bool = False) -> bool:
    """True when an ONNX export (``int8``: a QCDQ int8 export) can run; see `onnx_missing_reason`."""
    return not missing_onnx_packages(int8)


def onnx_missing_reason(int8: bool = False) -> str:
    """Why an export is skipped, with the install hint (for logs)."""
    missing = ", ".join(missing_onnx_packages(int8)) or "the onnx packages"
    return f"ONNX export skipped: {missing} not installed ({ONNX_INSTALL_HINT})"


def onnxruntime_available() -> bool:
    """True when onnxruntime is installed (the exported file can be checked)."""
    return find_spec(CHECK_PACKAGE) is not None


@dataclass(frozen=True)
class OnnxReport:
    """An exported file and the largest |onnxruntime - PyTorch| output difference (None: unchecked,
    onnxruntime is not installed)."""

    path: Path
    max_abs_diff: float | None

    def to_dict(self) -> dict[str, object]:
        return {"onnx": str(self.path), "onnx_max_abs_diff": self.max_abs_diff}


def export_onnx_checked(
    model: nn.Module,
    path: str | os.PathLike,
    example: torch.Tensor | None = None,
    log: Callable[[str], None] = print,
) -> OnnxReport | None:
    """Export a deployed ``model`` to ``path`` (`sr_reparam.export_onnx`: input "lr", output "sr",
    dynamic batch/height/width) atomically, then run ``example`` through the file in onnxruntime and
    through ``model`` and report the largest difference.

    ``example`` defaults to a fixed random input of an odd size with the model's channels (another
    size than the export's, so the dynamic axes are exercised). The export and the check run on the
    CPU; ``model`` is returned to its device. Without the onnx package nothing is written: the reason
    is logged and None returned. Without onnxruntime the file is written, unchecked.
    """
    if not onnx_available():
        log(onnx_missing_reason())
        return None
    path = Path(path)
    home = next(iter([*model.parameters(), *model.buffers()]), torch.empty(0)).device
    example = check_input(model) if example is None else example
    try:
        model.cpu()
        with atomic_write(path) as stream, warnings.catch_warnings():
            # the TorchScript tracer's notes (constant Python branches, Slice folding) are not about the model
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message="Constant folding")
            export_onnx(model, stream)
        gap = onnxruntime_max_difference(model, path, example) if onnxruntime_available() else None
    finally:
        model.to(home)
    if gap is None:
        log(f"ONNX written to {path} (not checked: onnxruntime is not installed)")
    elif gap > FLOAT_TOLERANCE:
        log(f"WARNING: {path}: onnxruntime differs from PyTorch by {gap:.2e} (> {FLOAT_TOLERANCE:g})")
    else:
        log(f"ONNX written to {path} (onnxruntime vs PyTorch max difference {gap:.2e})")
    return OnnxReport(path, gap)
