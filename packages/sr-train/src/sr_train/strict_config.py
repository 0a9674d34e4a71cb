"""Strict YAML configs: an unknown key or a value of the wrong type is an error naming it and the file.

Every pipeline of the toolkit reads its settings as dataclass "sections" of a YAML file. These
helpers are the one place that reads such files, rejects keys a section does not have, checks (and
lightly coerces) field types against the dataclass annotations, and finds a config given either as a
path or as the name of a config shipped with an app. YAML 1.1 reads `2e-4` as a string, so float
fields also accept a string that parses as a float.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

Section = TypeVar("Section")


class ConfigError(ValueError):
    """A configuration that cannot be used: unknown key, wrong type or inconsistent values."""


def _in(source: str | Path | None) -> str:
    return f" in {source}" if source else ""


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping a YAML file holds ({} for an empty file); not YAML or not a mapping -> ConfigError."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(data).__name__}")
    return data


def check_keys(
    data: Any,
    known: Iterable[str],
    prefix: str = "",
    source: str | Path | None = None,
    what: str = "config key",
) -> None:
    """Raise ConfigError unless `data` is a mapping whose keys are all in `known`.

    `prefix` (e.g. "model.") is put before a key in the message, `source` (the file) after it, and
    `what` names the kind of key ("config key", "config section", ...).
    """
    known = list(known)
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}{_in(source)} must be a mapping, got {data!r}")
    for key in data:
        if key not in known:
            raise ConfigError(
                f"unknown {what} '{prefix}{key}'{_in(source)}; known: {', '.join(sorted(known))}"
            )


def section_from_dict(cls: type[Section], data: Any, name: str, source: str | Path | None = None) -> Section:
    """The dataclass `cls` (config section `name`) built from a mapping (None = all defaults).

    Unknown keys and values the section rejects are ConfigErrors naming `name.key` and `source`.
    """
    data = {} if data is None else data
    check_keys(data, [f.name for f in dataclasses.fields(cls)], f"{name}.", source)
    try:
        return cls(**data)
    except ConfigError as err:
        raise ConfigError(f"{name}.{err}{_in(source)}") from None


def find_config(name_or_path: str | Path, folders: Sequence[Path]) -> Path:
    """`name_or_path` when it is a file, else the shipped `<name>.yaml` in one of `folders`.

    A name may carry its `.yaml`/`.yml` suffix ("imdn" and "imdn.yaml" both find a shipped imdn.yaml).
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    for folder in folders:
        candidate = Path(folder) / f"{stem}.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no config file {str(name_or_path)!r} and no shipped config of that name; "
        f"shipped: {', '.join(shipped_configs(folders))}"
    )


def shipped_configs(folders: Sequence[Path]) -> list[str]:
    """Names (file stems) of the YAML configs in `folders`."""
    return sorted(
        {p.stem for folder in folders if Path(folder).is_dir() for p in Path(folder).glob("*.yaml")}
    )


def check_types(config: Any) -> None:
    """Check (and lightly coerce) every field of a dataclass instance against its annotation."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        setattr(config, f.name, _coerce(f.name, value, hints[f.name]))


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(key, value, inner)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{key} must be one of {list(args)}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} must be a list, got {value!r}")
        return [_coerce(f"{key}[{i}]", v, args[0]) for i, v in enumerate(value)]
    if hint is float:
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, hint):
        return value
    raise ConfigError(f"{key} must be {getattr(hint, '__name__', hint)}, got {value!r}")
