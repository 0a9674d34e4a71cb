"""scripts/check_sibling_ranges.py: requirements on siblings follow the siblings' versions."""

from pathlib import Path

import check_sibling_ranges
import pytest
from check_sibling_ranges import breaking_release, problems
from packaging.version import Version
from tooling_support import make_project
from workspace import load


@pytest.mark.parametrize(
    ("version", "breaking"),
    [("0.1.0", "0.2"), ("0.1.7", "0.2"), ("0.9.0rc1", "0.10"), ("1.4.2", "2"), ("2.0.0", "3")],
)
def test_the_next_breaking_release(version: str, breaking: str) -> None:
    assert breaking_release(Version(version)) == Version(breaking)


def workspace_with(tmp_path: Path, requirement: str, version: str = "0.1.3"):
    make_project(tmp_path, "packages/a", "a", version=version)
    make_project(tmp_path, "apps/b", "b", dependencies=["numpy>=1.24", requirement])
    return load(tmp_path)


def test_a_range_that_fits_passes(tmp_path: Path, capsys) -> None:
    workspace = workspace_with(tmp_path, "a>=0.1,<0.2")
    assert problems(workspace, workspace.versions()) == []
    assert check_sibling_ranges.main(["--root", str(tmp_path)]) == 0
    assert "1 requirements on siblings" in capsys.readouterr().out


def test_a_bumped_package_leaves_the_range_behind(tmp_path: Path, capsys) -> None:
    workspace = workspace_with(tmp_path, "a>=0.1,<0.2", version="0.2.0")
    (problem,) = problems(workspace, workspace.versions())
    assert str(problem) == (
        "apps/b/pyproject.toml: dependencies: 'a>=0.1,<0.2' does not admit a 0.2.0 (its version.py); "
        "write 'a>=0.2,<0.3'"
    )
    assert check_sibling_ranges.main(["--root", str(tmp_path)]) == 1
    assert "1 sibling requirement(s) out of step" in capsys.readouterr().out


def test_an_open_range_would_take_the_next_minor(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, "a>=0.1")
    (problem,) = problems(workspace, workspace.versions())
    assert "admits a 0.2, its next breaking release" in problem.why and problem.fix == "a>=0.1,<0.2"


def test_after_1_0_the_range_spans_the_major(tmp_path: Path) -> None:
    workspace = workspace_with(tmp_path, "a>=1.2,<2", version="1.5.0")
    assert problems(workspace, workspace.versions()) == []
    workspace = workspace_with(tmp_path, "a>=1.2,<1.5", version="1.5.0")
    assert problems(workspace, workspace.versions())[0].fix == "a>=1.5,<2"


def test_fix_rewrites_keeping_extras_marker_and_other_requirements(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/a", "a", version="0.3.1")
    make_project(
        tmp_path,
        "apps/b",
        "b",
        dependencies=["torch>=2.3", "a[y,x] >= 0.1 ; python_version >= '3.10'"],
        extras={"test": ["pytest>=7", "a>=0.3"]},
    )
    assert check_sibling_ranges.main(["--root", str(tmp_path), "--fix"]) == 0
    text = (tmp_path / "apps/b/pyproject.toml").read_text()
    assert "\"a[y,x]>=0.3,<0.4; python_version >= '3.10'\"" in text
    assert '"a>=0.3,<0.4"' in text and '"torch>=2.3"' in text and '"pytest>=7"' in text
    assert "fixed apps/b/pyproject.toml" in capsys.readouterr().out
