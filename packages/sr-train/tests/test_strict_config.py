"""sr_train.strict_config: unknown keys, wrong types and shipped-config lookup, errors naming the file."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from sr_train import (
    ConfigError,
    check_keys,
    check_types,
    find_config,
    read_yaml,
    section_from_dict,
    shipped_configs,
)


@dataclass
class Section:
    size: int = 3
    rate: float = 0.5

    def __post_init__(self) -> None:
        check_types(self)


def test_read_yaml_gives_a_mapping_or_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("")
    assert read_yaml(path) == {}
    path.write_text("a: {b: 1}\n")
    assert read_yaml(path) == {"a": {"b": 1}}
    path.write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"c\.yaml must hold a mapping"):
        read_yaml(path)
    path.write_text("a: [1\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: not valid YAML"):
        read_yaml(path)


def test_check_keys_names_the_key_and_the_file():
    check_keys({"a": 1}, {"a", "b"})
    with pytest.raises(ConfigError, match=r"unknown config key 'model\.c' in f\.yaml; known: a, b"):
        check_keys({"c": 1}, {"a", "b"}, "model.", "f.yaml")
    with pytest.raises(ConfigError, match=r"unknown config section 'x'"):
        check_keys({"x": 1}, {"a"}, what="config section")
    with pytest.raises(ConfigError, match=r"model in f\.yaml must be a mapping"):
        check_keys([1], {"a"}, "model.", "f.yaml")


def test_section_from_dict_builds_checks_and_names_section_key_and_file():
    assert section_from_dict(Section, None, "s") == Section()
    assert section_from_dict(Section, {"rate": "2e-4"}, "s").rate == pytest.approx(2e-4)
    with pytest.raises(ConfigError, match=r"'s\.sise' in f\.yaml"):
        section_from_dict(Section, {"sise": 4}, "s", "f.yaml")
    with pytest.raises(ConfigError, match=r"s\.size must be int, got 'big' in f\.yaml"):
        section_from_dict(Section, {"size": "big"}, "s", "f.yaml")


def test_find_config_takes_a_path_or_a_shipped_name(tmp_path):
    shipped = tmp_path / "configs"
    shipped.mkdir()
    (shipped / "tiny.yaml").write_text("a: 1\n")
    own = tmp_path / "own.yaml"
    own.write_text("a: 2\n")
    assert find_config(own, [shipped]) == own
    assert find_config("tiny", [shipped]) == find_config("tiny.yaml", [shipped]) == shipped / "tiny.yaml"
    assert shipped_configs([shipped, tmp_path / "absent"]) == ["tiny"]
    with pytest.raises(FileNotFoundError, match="shipped: tiny"):
        find_config("huge", [shipped])
