"""Strict YAML configs: an unknown key or a value of the wrong type is an error naming it and the file.

Every pipeline of the toolkit reads its settings as dataclass "sections" of a YAML file. These
helpers are the one place that reads such files, rejects keys a section does not have, checks (and
lightly coerces) field types against the dataclass annotations, and finds a config given either as a
path or as the name of a config shipped with an app. YAML 1.1 reads `2e-4` as a string, so float
fields also accept a string that parses as a float.
"""

from __future__ import annotations

import dataclasses
import re
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a mapping with the same key twice (YAML would keep the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {seen[key] + 1})"
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping a YAML file holds. Not YAML, empty, not a mapping, or a key given twice ->
    ConfigError naming the file (and the key and line)."""
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    except yaml.YAMLError as err:
        first = str(err).strip().splitlines()
        raise ConfigError(f"{path}: not valid YAML ({' '.join(line.strip() for line in first)})") from None
    if data is None:
        raise ConfigError(f"{path} is empty: a config file needs at least one key")
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of config keys, got {type(data).__name__}")
    return data


def merge(base: Any, overrides: Any) -> Any:
    """`overrides` merged into `base`: nested mappings key by key, anything else replaced."""
    if isinstance(base, dict) and isinstance(overrides, dict):
        merged = dict(base)
        for key, value in overrides.items():
            merged[key] = merge(base.get(key), value)
        return merged
    return overrides


def parse_assignment(text: str) -> dict[str, Any]:
    """One `--set KEY.PATH=VALUE`: `"a.b=2"` -> {"a": {"b": 2}} (the value read as YAML)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", key):
        raise ConfigError(f"--set {text!r}: expected KEY.PATH=VALUE, e.g. trainer.epochs=2")
    try:
        nested: Any = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"--set {text!r}: the value is not valid YAML") from None
    for part in reversed(key.split(".")):
        nested = {part: nested}
    return nested


def with_assignments(data: dict[str, Any], assignments: Iterable[str]) -> dict[str, Any]:
    """`data` with every `--set KEY.PATH=VALUE` of `assignments` merged over it, in order."""
    for text in assignments:
        data = merge(data, parse_assignment(text))
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


def section_from_dict(
    cls: type[Section], data: Any, name: str, source: str | Path | None = None, default: Any = None
) -> Section:
    """The dataclass `cls` (config section `name`) built from a mapping (None = all defaults).

    A field whose type is itself a dataclass is a nested section, built the same way: a nested
    section present in `data` starts from its class defaults, one left out keeps the enclosing
    default's value (so two sections of one class can have different defaults). `default` is that
    enclosing default for `cls` itself. Unknown keys and values a section rejects are ConfigErrors
    naming the dotted key (`name.key`) and `source`.
    """
    if data is None:
        return default if default is not None else _build(cls, {}, name, source)
    return _build(cls, data, name, source)


def _optional_section(hint: Any) -> type | None:
    """The section type of a field typed ``Section | None`` (a section that may be left out), else None."""
    args = typing.get_args(hint)
    sections = [a for a in args if dataclasses.is_dataclass(a)]
    return sections[0] if type(None) in args and len(args) == 2 and sections else None


def _build(cls: type[Section], data: Any, name: str, source: str | Path | None) -> Section:
    prefix = f"{name}." if name else ""
    check_keys(data, [f.name for f in dataclasses.fields(cls)], prefix, source)
    hints = typing.get_type_hints(cls)
    base = cls()
    values = {}
    for f in dataclasses.fields(cls):
        hint, optional = hints[f.name], _optional_section(hints[f.name])
        if f.name not in data and not dataclasses.is_dataclass(hint):
            continue
        if dataclasses.is_dataclass(hint):
            values[f.name] = section_from_dict(
                hint, data.get(f.name), f"{prefix}{f.name}", source, getattr(base, f.name)
            )
        elif optional is not None and data[f.name] is not None:
            values[f.name] = section_from_dict(optional, data[f.name], f"{prefix}{f.name}", source)
        else:
            values[f.name] = data[f.name]
    try:
        return cls(**values)
    except ConfigError as err:
        if str(err).startswith(prefix) and prefix:
            raise
        raise ConfigError(f"{prefix}{err}{_in(source)}") from None


def section_to_dict(section: Any) -> Any:
    """A section (nested sections included) as plain YAML-ready data, loadable again."""
    if dataclasses.is_dataclass(section):
        return {f.name: section_to_dict(getattr(section, f.name)) for f in dataclasses.fields(section)}
    if isinstance(section, (list, tuple)):
        return [section_to_dict(v) for v in section]
    return section


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


def load_section(
    cls: type[Section],
    name_or_path: str | Path,
    folders: Sequence[Path] = (),
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    changes_from: str = "--set",
) -> tuple[Section, Path]:
    """(the config `cls`, its file): the file `name_or_path` or the config of that name shipped in
    `folders` (`find_config`), read strictly (`read_yaml`), or `data` recorded from it (a run folder's
    record), with `changes` ({section: {key: value}}, e.g. `with_assignments({}, --set ...)`) merged
    over it. Every app reads its config this way, so every error names the key and the file, or
    `changes_from` (where the changes came from) when the file alone is valid and a change made it
    invalid."""
    path = Path(name_or_path) if data is not None else find_config(name_or_path, folders)
    data = read_yaml(path) if data is None else data
    try:
        return section_from_dict(cls, merge(data, changes or {}), "", path), path
    except ConfigError:
        if not changes or not _valid(cls, data, path):
            raise
    return section_from_dict(cls, merge(data, changes), "", changes_from), path  # the refusal, so named


def _valid(cls: type[Section], data: Any, path: Path) -> bool:
    """Whether `data` alone makes a valid `cls`."""
    try:
        section_from_dict(cls, data, "", path)
    except ConfigError:
        return False
    return True


def config_dirs(module_file: str | Path) -> tuple[Path, Path]:
    """Where an app's shipped configs are: configs/ beside its module `module_file` (an installed
    wheel) and configs/ of its project folder (a source tree)."""
    module = Path(module_file)
    return module.parent / "configs", module.resolve().parents[2] / "configs"


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
