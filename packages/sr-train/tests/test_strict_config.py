"""sr_train.strict_config: unknown keys, wrong types and shipped-config lookup, errors naming the file."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from sr_train import (
    ConfigError,
    check_keys,
    check_types,
    find_config,
    parse_assignment,
    read_yaml,
    section_from_dict,
    section_to_dict,
    shipped_configs,
    with_assignments,
)


@dataclass
class Section:
    size: int = 3
    rate: float = 0.5

    def __post_init__(self) -> None:
        check_types(self)


def test_read_yaml_gives_a_mapping_or_names_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("# only a comment\n")
    with pytest.raises(ConfigError, match=r"c\.yaml is empty"):
        read_yaml(path)
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


def test_read_yaml_refuses_a_key_given_twice_naming_it_the_line_and_the_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\nb:\n  x: 1\n  x: 2\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: duplicate key 'x' at line 4 \(first at line 3\)"):
        read_yaml(path)


def test_assignments_merge_nested_keys_read_as_yaml():
    data = {"nas": {"trainer": {"epochs": 5, "seed": 0}}, "top": 1}
    merged = with_assignments(data, ["nas.trainer.epochs=2", "nas.trainer.optim.lr=0.002", "top=[1, 2]"])
    assert merged == {"nas": {"trainer": {"epochs": 2, "seed": 0, "optim": {"lr": 0.002}}}, "top": [1, 2]}
    assert data["nas"]["trainer"]["epochs"] == 5  # the input is not changed
    for bad in ("nas.trainer.epochs", "=3", "a..b=1", "a=[1"):
        with pytest.raises(ConfigError, match="--set"):
            parse_assignment(bad)


@dataclass
class _Inner:
    size: int = 1
    name: str = "a"

    def __post_init__(self) -> None:
        check_types(self)
        if self.size < 1:
            raise ConfigError(f"size must be >= 1, got {self.size}")


@dataclass
class _Outer:
    first: _Inner = field(default_factory=lambda: _Inner(size=7))
    second: _Inner = field(default_factory=_Inner)
    rate: float = 0.5

    def __post_init__(self) -> None:
        check_types(self)


def test_nested_sections_keep_the_enclosing_default_when_left_out_and_name_the_dotted_key():
    built = section_from_dict(_Outer, {"second": {"name": "b"}}, "root", "f.yaml")
    assert built == _Outer(first=_Inner(size=7), second=_Inner(name="b"))
    assert section_from_dict(_Outer, {"first": {}}, "root").first == _Inner(size=1)  # given: class defaults
    assert section_to_dict(built) == {
        "first": {"size": 7, "name": "a"},
        "second": {"size": 1, "name": "b"},
        "rate": 0.5,
    }
    with pytest.raises(ConfigError, match=r"unknown config key 'root\.second\.nme' in f\.yaml"):
        section_from_dict(_Outer, {"second": {"nme": "b"}}, "root", "f.yaml")
    with pytest.raises(ConfigError, match=r"root\.first\.size must be >= 1, got 0 in f\.yaml"):
        section_from_dict(_Outer, {"first": {"size": 0}}, "root", "f.yaml")
    with pytest.raises(ConfigError, match=r"root\.rate must be float"):
        section_from_dict(_Outer, {"rate": "fast"}, "root", "f.yaml")
