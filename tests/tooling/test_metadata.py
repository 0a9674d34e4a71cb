"""What a registry page needs, in every project of this repository (packages and apps alike)."""

import pytest
from packaging.specifiers import SpecifierSet
from tooling_support import REPO
from workspace import load

WORKSPACE = load(REPO)
PROJECTS = list(WORKSPACE.projects.values())


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_registry_metadata(project) -> None:
    meta = project.metadata
    assert meta["readme"] == "README.md" and (REPO / project.path / "README.md").is_file()
    assert (REPO / project.path / "CHANGELOG.md").is_file()
    assert meta["license"] == "Apache-2.0" and meta["license-files"] == ["LICENSE"]
    # hatchling packages only files inside the project folder: each carries the root's text, unchanged
    assert (REPO / project.path / "LICENSE").read_bytes() == (REPO / "LICENSE").read_bytes()
    assert meta["authors"] and meta["description"]
    assert {"Homepage", "Source", "Changelog", "Issues"} <= set(meta["urls"])
    assert meta["urls"]["Homepage"].endswith(f"/tree/main/{project.path}")
    assert meta["urls"]["Changelog"].endswith(f"/blob/main/{project.path}/CHANGELOG.md")
    sources = {
        url.split("/tree/")[0].split("/blob/")[0].removesuffix("/issues") for url in meta["urls"].values()
    }
    assert sources == {meta["urls"]["Source"]}  # one repository, so a move is one search-and-replace


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_python_classifiers_are_the_supported_range(project) -> None:
    """Every 3.X from requires-python's floor up, each allowed by it: the CI matrix of the project."""
    requires = SpecifierSet(project.metadata["requires-python"])
    versions = project.python_versions
    assert versions, "no 'Programming Language :: Python :: 3.X' classifier"
    minors = [int(v.split(".")[1]) for v in versions]
    assert minors == list(range(minors[0], minors[-1] + 1)), "the classifiers skip a Python version"
    assert all(requires.contains(f"{v}.0") for v in versions)
    assert not requires.contains(f"3.{minors[0] - 1}.99"), (
        "requires-python admits a Python below the classifiers"
    )


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_sdist_carries_tests_and_changelog(project) -> None:
    sdist = project.pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]
    assert {"/src", "/tests", "/README.md", "/CHANGELOG.md"} <= set(sdist["include"])
    wheel = project.pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    for source in wheel.get("force-include", {}):  # what the wheel takes from the project folder
        assert f"/{source}" in sdist["include"], f"the wheel needs {source}, which the sdist leaves out"
