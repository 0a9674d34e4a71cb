"""Model registry: presets are plain functions registered by name, built by `create_model`.

Importing `sr_blocks` registers every model; there is no discovery by file name. A name sr_blocks
does not define is asked of the other factories installed in the entry-point group
``sr_toolkit.models`` (each `factory(name, scale=..., deployed=..., **kwargs)` raises KeyError for a
name it does not know), so a model that lives in a package sr_blocks may not import -- sr-data's
parameter-free "bicubic" -- is still built by `create_model("bicubic", scale=s)` once installed.
"""

from __future__ import annotations

import fnmatch
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from torch import nn

from sr_blocks.official import load_weights
from sr_reparam import deploy

ModelFn = Callable[..., nn.Module]
ENTRY_POINT_GROUP = "sr_toolkit.models"


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
    """Sorted names of every model `create_model` builds (those registered here and those the
    installed factories declare in their `model_names`), optionally filtered by a shell pattern."""
    names = sorted(set(_REGISTRY) | set(installed_model_names()))
    return fnmatch.filter(names, pattern) if pattern else names


def model_entry(name: str) -> ModelEntry:
    """The registry entry for `name` (an installed factory's model lists the factory's
    `model_scales`, default 2, 3, 4); an unknown name is a KeyError that lists the known ones."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    provider = installed_model_names().get(name)
    if provider is None:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}")
    factory = installed_factories()[provider]
    scales = tuple(getattr(factory, "model_scales", (2, 3, 4)))
    return ModelEntry(name, lambda scale, **kw: factory(name, scale=scale, **kw), scales)


def installed_factories() -> dict[str, ModelFn]:
    """The other packages' factories in the entry-point group ``sr_toolkit.models``, by entry name."""
    factories = {ep.name: ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {provider: f for provider, f in factories.items() if f is not create_model}


def installed_model_names() -> dict[str, str]:
    """{model name: factory entry name} of the names the installed factories declare."""
    return {
        name: provider
        for provider, factory in installed_factories().items()
        for name in getattr(factory, "model_names", ())
    }


def _create_installed(name: str, scale: int, deployed: bool, kwargs: dict[str, Any]) -> nn.Module:
    """`name` built by the first installed factory that knows it, else the unknown-model KeyError."""
    factories = installed_factories()
    for factory in factories.values():
        try:
            return factory(name, scale=scale, deployed=deployed, **kwargs)
        except KeyError:
            continue
    asked = (
        f"; nor do the installed {ENTRY_POINT_GROUP} factories ({', '.join(factories)})" if factories else ""
    )
    raise KeyError(f"unknown model {name!r}; registered models: {', '.join(list_models())}{asked}")


def create_model(
    name: str,
    scale: int = 2,
    deployed: bool = False,
    weights: str | os.PathLike | None = None,
    **kwargs,
) -> nn.Module:
    """Build the registered model `name` for upscaling factor `scale`.

    Keyword arguments that are None are dropped, so a command line's unset options never override
    a preset's defaults. An unsupported scale (including a non-integer such as 2.0) is a ValueError
    naming the supported ones. `weights` is a file to load: an official checkpoint (the IMDN, RFDN,
    EDSR-PyTorch, BasicSR or ECBSR repositories' layouts, recognised from the file), an sr_toolkit
    checkpoint or a state dict of this model (`sr_blocks.official.load_weights`; a file that does
    not fit is a one-line ValueError naming it). `deployed=True` builds the re-parameterised
    (inference) form, `sr_reparam.deploy(model)`, after loading; a checkpoint of deployed weights
    always gives that form. A name that is not registered here goes to the installed
    ``sr_toolkit.models`` factories (module docstring), which take no `weights`.
    """
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if name not in _REGISTRY:
        if weights is not None:
            raise ValueError(
                f"model {name!r} is not one of sr_blocks' models; it takes no weights ({weights})"
            )
        return _create_installed(name, scale, deployed, kwargs)
    entry = _REGISTRY[name]
    is_integer = isinstance(scale, numbers.Integral) and not isinstance(scale, bool)
    if not is_integer or scale not in entry.scales:
        raise ValueError(f"model {name!r} supports scales {list(entry.scales)}, not {scale!r}")
    model = entry.fn(scale=int(scale), **kwargs)
    if weights is not None:
        model = load_weights(model, weights, target=f"{name} x{scale}")
    return deploy(model, inplace=True) if deployed else model


#: `sr_eval.models` hands a model's weights file to a factory that says it loads them itself.
create_model.loads_weights = True


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
