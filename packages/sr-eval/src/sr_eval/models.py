"""Build the model to evaluate from a registered name or a checkpoint file, without importing sr_blocks.

Model factories are found through the entry-point group ``sr_toolkit.models``: each entry is a
callable ``create_model(name, scale=2, **kwargs) -> nn.Module`` that raises ``KeyError`` for a name
it does not know (sr-blocks declares ``sr_blocks = "sr_blocks.registry:create_model"``).

Checkpoint format (a ``.pt``/``.pth`` file read with ``torch.load(weights_only=True)``)::

    {"model_name": str, "model_kwargs": dict, "scale": int, "state_dict": dict[str, Tensor]}

A checkpoint marked ``"deployed": True`` holds re-parameterised weights; its model is built with
``deployed=True`` (the factory returns the inference form). A plain state dict is also accepted
for ``--weights`` when the model is given by name. A factory marked ``loads_weights = True`` (sr-blocks')
is handed ``weights=PATH`` and reads the file itself, which lets ``--weights`` take the official
checkpoints it knows (IMDN, RFDN, EDSR-PyTorch, BasicSR, ECBSR); other factories' models get the
file's state dict loaded here, strictly.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_data import load_weights_only

ENTRY_POINT_GROUP = "sr_toolkit.models"
CHECKPOINT_KEYS = ("model_name", "model_kwargs", "scale", "state_dict")
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def model_factories() -> dict[str, Callable[..., nn.Module]]:
    """Installed factories by entry-point name."""
    return {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}


def create_model(name: str, scale: int, weights: str | Path | None = None, **kwargs: Any) -> nn.Module:
    """Build ``name`` with the first installed factory that knows it, with ``weights`` loaded if given
    (by the factory when it ``loads_weights``, else here, strictly: module docstring)."""
    factories = model_factories()
    if not factories:
        raise LookupError(
            f"no model factory installed (entry-point group {ENTRY_POINT_GROUP!r}); "
            "install sr-blocks, or pass a checkpoint whose model a factory can build"
        )
    unknown = []
    for provider, factory in factories.items():
        loads_weights = weights is not None and getattr(factory, "loads_weights", False)
        try:
            if loads_weights:
                return factory(name, scale=scale, weights=weights, **kwargs)
            model = factory(name, scale=scale, **kwargs)
        except KeyError as error:
            unknown.append(f"{provider}: {error.args[0] if error.args else error}")
            continue
        if weights is not None:
            content = read_checkpoint(weights)
            if content.get("model_name") not in (None, name):
                raise ValueError(
                    f"--weights {weights} belong to model {content['model_name']!r}, not {name!r}"
                )
            _load_weights(model, _state_dict_of(content, Path(weights)), weights)
        return model
    raise KeyError(f"unknown model {name!r} ({'; '.join(unknown)})")


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and validate a checkpoint dict (format in the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    content = load_weights_only(path)
    if not isinstance(content, dict):
        raise ValueError(f"checkpoint {path} holds a {type(content).__name__}, not a dict")
    return content


def _state_dict_of(content: dict[str, Any], path: Path) -> dict[str, torch.Tensor]:
    if "state_dict" in content:
        return content["state_dict"]
    if content and all(isinstance(v, torch.Tensor) for v in content.values()):
        return content
    raise ValueError(f"{path}: neither a checkpoint with 'state_dict' nor a plain state dict")


def _load_weights(model: nn.Module, state_dict: dict[str, torch.Tensor], path: str | Path) -> None:
    """``load_state_dict`` (strict), its errors naming the file the weights came from."""
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as error:
        raise ValueError(f"weights in {path} do not fit {type(model).__name__}: {error}") from error


def model_from_checkpoint(content: dict[str, Any], source: str | Path) -> nn.Module:
    """The model a checkpoint dict describes (format in the module docstring), weights loaded strictly.

    A checkpoint marked ``"deployed": True`` is built in its deployed form. Errors name ``source``.
    """
    missing = [key for key in CHECKPOINT_KEYS if key not in content]
    if missing:
        raise ValueError(
            f"checkpoint {source} lacks {', '.join(missing)} (needs {', '.join(CHECKPOINT_KEYS)})"
        )
    if content["model_name"] is None:
        raise ValueError(
            f"checkpoint {source} does not name its model (model_name is None): "
            f"pass --model NAME --weights {source}"
        )
    deployed = {"deployed": True} if content.get("deployed") else {}
    model = create_model(content["model_name"], content["scale"], **deployed, **content["model_kwargs"])
    _load_weights(model, content["state_dict"], source)
    return model


def load_model(
    spec: str, scale: int, weights: str | Path | None = None, **model_kwargs: Any
) -> tuple[nn.Module, str]:
    """(model, display name) from a registered name or a checkpoint path, weights loaded strictly.

    ``model_kwargs`` (e.g. ``in_channels=1``) go to the factory of a model given by name; so does
    ``weights`` when that factory reads weights files itself (sr-blocks': official layouts too).
    """
    if Path(spec).suffix in CHECKPOINT_SUFFIXES or Path(spec).is_file():
        if weights is not None:
            raise ValueError("give either a checkpoint as the model or --weights, not both")
        content = read_checkpoint(spec)
        if "model_name" not in content and "state_dict" not in content:
            raise ValueError(
                f"{spec}: not an sr_toolkit checkpoint (it names no model); for another project's "
                f"weights file (IMDN, RFDN, EDSR, ...) pass --model NAME --weights {spec}"
            )
        if "scale" in content and content["scale"] != scale:
            raise ValueError(f"checkpoint {spec} is for scale {content['scale']}, not {scale}")
        model = model_from_checkpoint(content, spec)
        return model, content["model_name"]
    return create_model(spec, scale, weights=weights, **model_kwargs), spec
