"""Model registry: presets are plain functions registered by name, built by `create_model`.

Importing `sr_blocks` registers every model; there is no discovery by file name.
"""

from __future__ import annotations

import fnmatch
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from sr_reparam import deploy

ModelFn = Callable[..., nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """A registered preset: the function that builds it and the scales it supports."""

    name: str
    fn: ModelFn
    scales: tuple[int, ...]


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    fn: ModelFn | None = None, *, name: str | None = None, scales: Sequence[int] = (2, 3, 4)
) -> ModelFn | Callable[[ModelFn], ModelFn]:
    """Register `fn(scale=..., **kwargs) -> nn.Module` under `name` (default: the function's name).

    Usable bare (`@register_model`) or with options (`@register_model(scales=(2, 4))`).
    Registering a name twice is an error, so two models can never silently shadow each other.
    """

    def decorate(f: ModelFn) -> ModelFn:
        key = name or f.__name__
        if key in _REGISTRY:
            raise ValueError(f"model {key!r} is already registered (by {_REGISTRY[key].fn.__module__})")
        _REGISTRY[key] = ModelEntry(key, f, tuple(scales))
        return f

    return decorate(fn) if fn is not None else decorate


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted names of the registered models, optionally filtered by a shell-style pattern."""
    names = sorted(_REGISTRY)
    return fnmatch.filter(names, pattern) if pattern else names


def model_entry(name: str) -> ModelEntry:
    """The registry entry for `name`; an unknown name is a KeyError that lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}") from None


def create_model(name: str, scale: int = 2, deployed: bool = False, **kwargs) -> nn.Module:
    """Build the registered model `name` for upscaling factor `scale`.

    Keyword arguments that are None are dropped, so a command line's unset options never override
    a preset's defaults. An unsupported scale (including a non-integer such as 2.0) is a ValueError
    naming the supported ones. `deployed=True` builds the re-parameterised (inference) form,
    `sr_reparam.deploy(model)`, the form whose weights a deployed checkpoint holds.
    """
    entry = model_entry(name)
    is_integer = isinstance(scale, numbers.Integral) and not isinstance(scale, bool)
    if not is_integer or scale not in entry.scales:
        raise ValueError(f"model {name!r} supports scales {list(entry.scales)}, not {scale!r}")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    model = entry.fn(scale=int(scale), **kwargs)
    return deploy(model, inplace=True) if deployed else model


def preset_kwargs(
    preset: str, fixed: Mapping[str, Any], kwargs: Mapping[str, Any], general: str
) -> dict[str, Any]:
    """``fixed`` (what the preset ``preset`` defines) merged with the caller's other ``kwargs``.

    A keyword that would change what the preset fixes is a TypeError naming the preset, the keyword
    and the family's general model ``general`` that takes it (rather than Python's "got multiple
    values for argument").
    """
    clashes = sorted(set(fixed) & set(kwargs))
    if clashes:
        fixed_text = ", ".join(f"{key}={value!r}" for key, value in fixed.items())
        raise TypeError(
            f"preset {preset!r} fixes {fixed_text} and cannot take {', '.join(clashes)}; "
            f"use create_model({general!r}, ...) to choose them"
        )
    return {**fixed, **kwargs}
