"""Reading a weights file safely and taking it out of its wrapper.

Every file is read with ``torch.load(..., weights_only=True)`` onto the CPU, so no code in it can
run; each way a file can be wrong (missing, truncated, not a torch file, holding code, holding no
state dict) is a one-line error naming the file. The wrappers taken off: an sr_toolkit checkpoint
(``state_dict`` beside ``model_name``, ``scale``, ...), BasicSR's ``params_ema`` / ``params``
(the EMA weights when both are there, as BasicSR's test configs pick), any other ``state_dict``
wrapper, and the ``module.`` prefix of a network saved inside ``nn.DataParallel``.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

#: Keys of an sr_toolkit checkpoint (sr_train's) besides its state dict that describe the model.
CHECKPOINT_FIELDS = ("model_name", "model_kwargs", "scale", "deployed")
BASICSR_KEYS = ("params_ema", "params")
PARALLEL_PREFIX = "module."


@dataclass(frozen=True)
class WeightsFile:
    """A state dict read from ``path``, out of its wrapper.

    ``state``: tensor name -> tensor, without ``prefix``. ``wrapper``: what held it ("" for a bare
    state dict, "params_ema" / "params" for BasicSR, "state_dict" for an sr_toolkit checkpoint or
    another wrapper). ``checkpoint``: the model description of an sr_toolkit checkpoint, else empty.
    """

    path: Path
    state: dict[str, torch.Tensor]
    wrapper: str = ""
    prefix: str = ""
    checkpoint: dict[str, Any] = field(default_factory=dict)

    def file_key(self, key: str) -> str:
        """``key`` as it is spelled in the file (with its prefix), for messages."""
        return self.prefix + key


def _is_state_dict(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and bool(value)
        and all(isinstance(v, torch.Tensor) for v in value.values())
    )


def load_file(path: Path) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; failures as one-line ``ValueError``s."""
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    try:
        with warnings.catch_warnings():  # torch warns about a plain pickle's protocol before refusing it
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = str(error)
        refused = "Weights only load failed" in text  # torch's text goes on to advise an unsafe load
        if refused and _is_torch_file(path):
            found = re.search(r"GLOBAL (\S+)", text)
            what = f" ({found.group(1)})" if found else ""
            raise ValueError(
                f"{path}: holds Python objects besides tensors{what}, which a safe (weights_only) load "
                "refuses; only state dicts and checkpoints of plain tensors load"
            ) from None
        if refused and _is_pickle(path):
            raise ValueError(
                f"{path}: a plain Python pickle, not a torch.save file; refused, as loading it could run code"
            ) from None
        detail = "not a torch.save file" if refused else _first_line(text)
        raise ValueError(f"{path}: cannot be read, truncated or not a torch file ({detail})") from None
    except Exception as error:  # noqa: BLE001 - torch raises many types (EOFError, IndexError, ...)
        detail = _first_line(str(error)) or type(error).__name__
        raise ValueError(f"{path}: cannot be read, truncated or not a torch file ({detail})") from None


def _is_torch_file(path: Path) -> bool:
    """Whether ``path`` opens as one of torch.save's formats does: a zip archive, or the legacy format
    (torch's magic number pickled with protocol 2), also when it is truncated."""
    with open(path, "rb") as stream:
        head = stream.read(14)
    return head == b"\x80\x02\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019") or head.startswith(
        b"PK\x03\x04"
    )


def _is_pickle(path: Path) -> bool:
    """Whether ``path`` opens as a pickle of protocol 2 or later does."""
    with open(path, "rb") as stream:
        return stream.read(1) == b"\x80"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].rstrip(".") if lines else ""


def read_weights(path: str | os.PathLike) -> WeightsFile:
    """The state dict in ``path`` out of its wrapper (module docstring), with its ``module.`` prefix off."""
    path = Path(path)
    content = load_file(path)
    wrapper, checkpoint = "", {}
    if isinstance(content, Mapping) and not _is_state_dict(content):
        if _is_state_dict(content.get("state_dict")):
            wrapper = "state_dict"
            checkpoint = {k: content[k] for k in CHECKPOINT_FIELDS if k in content}
            content = content["state_dict"]
        else:
            wrapper = next((k for k in BASICSR_KEYS if _is_state_dict(content.get(k))), "")
            if not wrapper:
                keys = ", ".join(repr(k) for k in list(content)[:6])
                raise ValueError(f"{path}: holds no state dict of tensors (a dict with keys {keys})")
            content = content[wrapper]
    if not _is_state_dict(content):
        raise ValueError(f"{path}: holds a {type(content).__name__}, not a state dict of tensors")
    prefix = PARALLEL_PREFIX if all(k.startswith(PARALLEL_PREFIX) for k in content) else ""
    state = {k[len(prefix) :]: v for k, v in content.items()}
    return WeightsFile(path, state, wrapper, prefix, checkpoint)
