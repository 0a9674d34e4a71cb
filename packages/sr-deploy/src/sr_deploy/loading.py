"""Trained weights back into a model: find a run folder's weights, rebuild the model they belong to.

Two kinds of file load. An sr_toolkit checkpoint (sr_train's, or `deployed_checkpoint`'s) names its
model and is read with `sr_train.load_checkpoint` and rebuilt with `sr_eval.models.model_from_checkpoint`.
Any other file is an official checkpoint (the IMDN, RFDN, EDSR-PyTorch, BasicSR and ECBSR layouts of
`sr_blocks.official`) or a bare state dict: the model is the one given by name, else the one the file's
tensors show. Every file is read with ``weights_only=True``: no code runs from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from torch import nn

from sr_blocks.official import identify_weights
from sr_eval.models import create_model, model_from_checkpoint
from sr_reparam import deploy
from sr_train import load_checkpoint

RUN_WEIGHTS = ("best.pt", "last.pt")  # what a finished sr_train run stands for, in order of preference


def find_weights(path: str | Path) -> Path:
    """The checkpoint ``path`` stands for: the file itself, or a run folder's best.pt, else its last.pt.

    best.pt holds the weights of the best validation PSNR; a run without validation has only last.pt.
    """
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        for name in RUN_WEIGHTS:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"{path}: no best.pt or last.pt in this run folder (has it been trained?)")
    raise FileNotFoundError(f"no such checkpoint or run folder: {path}")


def load_trained(
    path: str | Path,
    deployed: bool = False,
    *,
    model: str | None = None,
    scale: int | None = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, checkpoint) rebuilt from a checkpoint file, a run folder (`find_weights`)
    or an official weights file.

    An sr_toolkit checkpoint names its model (``model_name``, ``model_kwargs``, ``scale``); ``model`` and
    ``scale``, when given, must agree with it. An official file (or a bare state dict) is loaded into
    ``model`` at ``scale``; either may be left out when the file's tensors tell it (IMDN x4, RFDN x4,
    ...). Its checkpoint dict is made up the same way, plus ``weights_file`` and ``layout``.
    ``deployed=True`` also deploys a training checkpoint's model after loading, for inference.
    Errors are one line naming the file.
    """
    weights = find_weights(path)
    ckpt = load_checkpoint(weights)
    if not isinstance(ckpt, dict):
        raise ValueError(f"{weights}: holds a {type(ckpt).__name__}, not a checkpoint dict")
    if ckpt.get("model_name"):
        _check_agrees(weights, ckpt, model, scale)
        net = model_from_checkpoint(ckpt, weights)
    else:
        net, ckpt = _load_official(weights, model, scale)
    if deployed and not ckpt.get("deployed"):
        net = deploy(net)
    return net.eval(), ckpt


def _load_official(weights: Path, model: str | None, scale: int | None) -> tuple[nn.Module, dict[str, Any]]:
    found = identify_weights(weights)
    name = model or found.model
    if name is None:
        raise ValueError(
            f"{weights}: the file seems to hold {found.holds}; say which model with --model NAME"
        )
    if model is not None and found.model is not None and model != found.model:
        raise ValueError(f"{weights}: the file seems to hold {found.holds}, not --model {model!r}")
    if scale is not None and found.scale is not None and scale != found.scale:
        raise ValueError(
            f"{weights}: the file seems to hold {found.holds}, which upscales x{found.scale}, not x{scale}"
        )
    scale = scale or found.scale
    if scale is None:
        raise ValueError(f"{weights}: the file seems to hold {found.holds}; say which scale with --scale N")
    kwargs = found.model_kwargs if name == found.model else {}
    net = create_model(name, scale, weights=weights, **kwargs)
    ckpt = {
        "model_name": name,
        "model_kwargs": dict(kwargs),
        "scale": scale,
        "deployed": False,
        "weights_file": str(weights),
        "layout": found.layout,
    }
    return net, ckpt


def is_official(ckpt: dict[str, Any]) -> bool:
    """Whether `load_trained` made ``ckpt`` up for an official weights file (not an sr_toolkit one)."""
    return "weights_file" in ckpt


def check_out_of_official_folder(ckpt: dict[str, Any], out: str | Path) -> None:
    """Refuse an output path (file or folder) in or under the folder of an official weights file: the
    authors' files stay as they are (a shared, often read-only folder); what is derived goes elsewhere."""
    if not is_official(ckpt):
        return
    folder = Path(ckpt["weights_file"]).resolve().parent
    if Path(out).resolve().is_relative_to(folder):
        raise ValueError(
            f"{out}: in the folder of the official weights {Path(ckpt['weights_file']).name}; "
            "write the results elsewhere (--out)"
        )


def _check_agrees(weights: Path, ckpt: dict[str, Any], model: str | None, scale: int | None) -> None:
    if model is not None and model != ckpt["model_name"]:
        raise ValueError(f"{weights} holds {ckpt['model_name']!r}, not --model {model!r}")
    if scale is not None and scale != ckpt.get("scale"):
        raise ValueError(f"{weights} upscales x{ckpt.get('scale')}, not x{scale} as --scale says")


def copy_weights(model: nn.Module, source: nn.Module, skip: Sequence[str] = ()) -> dict[str, list[str]]:
    """Copy into ``model`` every tensor of ``source`` except those whose name starts with a prefix in
    ``skip``: a network starts from another one's weights where they fit (x4 from x2 but its output
    block, say). Returns the names copied and skipped; a tensor to copy that ``source`` lacks or holds
    in another shape is a ValueError naming it (nothing is copied then)."""
    state, given = model.state_dict(), source.state_dict()
    skipped = [name for name in state if name.startswith(tuple(skip))]
    copied = [name for name in state if name not in skipped]
    for name in copied:
        if name not in given or given[name].shape != state[name].shape:
            found = f"shape {tuple(given[name].shape)}" if name in given else "no such tensor"
            raise ValueError(f"cannot copy {name!r} {tuple(state[name].shape)} from the source: {found}")
    model.load_state_dict({**state, **{name: given[name] for name in copied}})
    return {"copied": copied, "skipped": skipped}
