"""x4 SESR starts from the x2 model of the same configuration (the official SESR README, "Training x4 SISR").

Every layer is copied from the x2 checkpoint except the last linear block (``conv_last``), whose
output width is scale**2. The official code meant to do this but assigns ``layer.set_weights = ...``
instead of calling it, so its x4 models silently start from scratch; here the weights really load,
and a missing x2 model or one of another configuration is an error that says what to do or what
differs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from torch import nn

from sr_deploy import find_weights, load_trained
from sr_deploy.loading import copy_weights
from sr_sesr.settings import MODEL, Network

LAST_BLOCK = "conv_last."  # the last linear block: scale-specific, never copied
FLAGS = {
    "m": "--m",
    "f": "--int_features",
    "feature_size": "--feature_size",
    "training_mode": "--linear_block_type",
}


def find_x2_checkpoint(network: Network, out: Path, x2_model: Path | None = None) -> Path:
    """The x2 checkpoint for an x4 ``network``: ``x2_model`` (a checkpoint or a run folder) when
    given, else the run of the same configuration at x2 under ``out``."""
    if x2_model is not None:
        try:
            return find_weights(x2_model)
        except FileNotFoundError as err:
            raise FileNotFoundError(f"--x2_model: {err}") from None
    run_dir = replace(network, scale=2).run_dir(out)
    try:
        return find_weights(run_dir)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"x4 training starts from the x2 model of the same configuration, and there is none: "
            f"{run_dir} holds no best.pt or last.pt. Train it first (the same flags with --scale 2 and "
            f"--out {out}), or point --x2_model at an x2 checkpoint or run folder."
        ) from None


def check_x2_checkpoint(ckpt: dict[str, Any], network: Network, source: Path) -> None:
    """Refuse a checkpoint that is not SESR at x2 with the same m, f, feature_size and block type."""
    expected = replace(network, scale=2).model_kwargs()
    problems = []
    if ckpt.get("model_name") != MODEL:
        problems.append(f"model {ckpt.get('model_name')!r} (expected {MODEL!r})")
    if ckpt.get("scale") != 2:
        problems.append(f"scale {ckpt.get('scale')!r} (expected 2)")
    found = ckpt.get("model_kwargs") or {}
    for key in sorted(set(expected) | set(found)):
        if found.get(key) != expected.get(key):
            flag = FLAGS.get(key, key)
            problems.append(f"{flag} {found.get(key)!r} (this run: {expected.get(key)!r})")
    if problems:
        raise ValueError(f"{source} is not the x2 model of this configuration: {'; '.join(problems)}")


def load_x2_weights(model: nn.Module, network: Network, source: Path) -> dict[str, Any]:
    """Copy every tensor but the last linear block's from the x2 checkpoint ``source`` into ``model``;
    returns transfer.json's record: the source and the names of the copied and skipped tensors."""
    x2, ckpt = load_trained(source)  # one-line errors for an unreadable or incomplete checkpoint
    check_x2_checkpoint(ckpt, network, source)
    return {"source": str(source), **copy_weights(model, x2, skip=[LAST_BLOCK])}
