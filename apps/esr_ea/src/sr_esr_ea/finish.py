"""After full training: benchmark a candidate, deploy it and export it to ONNX, into its folder.

ESRN has no multi-branch training form (its blocks are plain convolutions, 1x1 projections, channel
shuffles and pooling), so `sr_reparam.deploy` returns the same network: the step checks that and
says so, and writes `deployed.pt` only for a model that did change.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_eval import EvalTable, evaluate, profile
from sr_eval.models import model_from_checkpoint
from sr_reparam import Reparameterizable, deploy, export_onnx
from sr_train import deployed_checkpoint, load_checkpoint, save_checkpoint


def load_trained(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, checkpoint) rebuilt from an sr_train checkpoint that names its model."""
    ckpt = load_checkpoint(path)
    return model_from_checkpoint(ckpt, path).eval(), ckpt


def benchmark(
    model: nn.Module, tests: list, scale: int, folder: Path, device: torch.device | str | None
) -> EvalTable:
    """PSNR/SSIM (Y, crop = scale) on every test set; written to folder/benchmark.{md,json,csv}."""
    table = evaluate(model, tests, scale, device=device)
    model.cpu()
    table.save(folder, "benchmark")
    return table


def deploy_and_export(
    model: nn.Module, ckpt: dict[str, Any], folder: Path, log: Callable[[str], None]
) -> dict[str, Any]:
    """Deploy (re-parameterise where blocks allow) and export ONNX; what was done, for the table."""
    trained_form = [name for name, m in model.named_modules() if isinstance(m, Reparameterizable)]
    deployed = deploy(model)
    with torch.no_grad():
        x = torch.rand(1, 3, 24, 20, generator=torch.Generator().manual_seed(0))
        gap = (model(x) - deployed(x)).abs().max().item()
    info: dict[str, Any] = {"deploy_max_abs_diff": gap}
    if trained_form:
        path = folder / "deployed.pt"
        save_checkpoint(path, deployed_checkpoint(ckpt, deployed))
        info["deployed"] = str(path)
        log(f"{folder.name}: re-parameterised {len(trained_form)} blocks (max output difference {gap:.1e})")
    else:
        info["deployed"] = None
        log(
            f"{folder.name}: deploy is the identity for ESRN (no block has a re-parameterisable training "
            f"form); max output difference {gap:.1e}"
        )
    info["onnx"] = export(deployed, folder / "model.onnx", log)
    return info


def export(model: nn.Module, path: Path, log: Callable[[str], None]) -> str | None:
    """ONNX of a deployed model; None (with the reason logged) when the onnx package is missing."""
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError:
        log(f"{path.parent.name}: ONNX export skipped, the onnx package is not installed (pip install onnx)")
        return None
    with warnings.catch_warnings():  # the TorchScript exporter's tracer notes, not about this model
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="Constant folding")
        export_onnx(model, path)
    log(f"{path.parent.name}: ONNX written to {path}")
    return str(path)


def measure(model: nn.Module, scale: int) -> dict[str, int]:
    """Parameters and MACs for a 1280x720 output."""
    prof = profile(model, scale=scale)
    return {"params": prof.params, "macs_720p": prof.macs}
