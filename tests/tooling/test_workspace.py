"""scripts/workspace.py: projects, dependency order, closures; and this repository's own graph."""

import subprocess
from pathlib import Path

import pytest
from tooling_support import REPO, make_project, run_script
from workspace import WorkspaceError, load


def test_this_repository_lists_every_project_after_its_siblings() -> None:
    workspace = load(REPO)
    order = list(workspace.projects)
    assert {p.path for p in workspace.projects.values()} == {
        p.parent.relative_to(REPO).as_posix()
        for g in ("packages/*", "apps/*")
        for p in REPO.glob(f"{g}/pyproject.toml")
    }
    for name, project in workspace.projects.items():
        for entry in workspace.siblings(project):
            assert order.index(entry.requirement.name) < order.index(name), (name, entry.text)
    kinds = [project.is_app for project in workspace.projects.values()]
    assert kinds == sorted(kinds)  # packages first: none may need an app


def test_a_cycle_is_refused_naming_the_projects(tmp_path: Path) -> None:
    make_project(tmp_path, "packages/a", "a", dependencies=["b>=0.1,<0.2"])
    make_project(tmp_path, "packages/b", "b", extras={"test": ["a>=0.1,<0.2"]})
    make_project(tmp_path, "packages/c", "c")
    with pytest.raises(WorkspaceError, match="cycle among: a, b$"):
        load(tmp_path)


def test_install_closure_follows_the_extras_asked_for(tmp_path: Path) -> None:
    make_project(tmp_path, "packages/base", "base", extras={"fast": ["accel>=0.1,<0.2"]})
    make_project(tmp_path, "packages/accel", "accel")
    make_project(tmp_path, "packages/mid", "mid", dependencies=["base>=0.1,<0.2"])
    make_project(
        tmp_path, "apps/app", "app", dependencies=["mid>=0.1,<0.2"], extras={"x": ["base[fast]>=0.1,<0.2"]}
    )
    workspace = load(tmp_path)
    assert workspace.install_closure("app", set()) == {"app", "mid", "base"}
    assert workspace.install_closure("app", {"x"}) == {"app", "mid", "base", "accel"}
    assert workspace.dependents({"accel"}) == {"accel", "base", "mid", "app"}


def test_unknown_names_and_broken_files_are_one_line_errors(tmp_path: Path) -> None:
    make_project(tmp_path, "packages/a", "a")
    with pytest.raises(WorkspaceError, match=r"no project 'zzz' .*\(known: a\)"):
        load(tmp_path).get("zzz")
    (tmp_path / "packages/b").mkdir()
    (tmp_path / "packages/b/pyproject.toml").write_text("[project\nname = 1\n")
    with pytest.raises(WorkspaceError, match="^packages/b/pyproject.toml: "):
        load(tmp_path)


def test_closure_command_prints_folders_in_dependency_order(tmp_path: Path) -> None:
    make_project(tmp_path, "packages/base", "base")
    make_project(tmp_path, "apps/app", "app", extras={"test": ["pytest>=7", "base>=0.1,<0.2"]})
    result = run_script("workspace.py", "--root", str(tmp_path), "closure", "apps/app", "--extras", "test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["packages/base", "apps/app"]
    result = run_script("workspace.py", "--root", str(tmp_path), "closure", "app", "--extras", "nope")
    assert result.returncode == 1 and "has no extra nope" in result.stderr


def test_packages_sh_lists_every_project_after_its_siblings() -> None:
    """scripts/packages.sh drives setup, test, build and check-wheels: a project left out is untested."""
    listed = subprocess.run(
        ["bash", "-c", 'source scripts/packages.sh && printf "%s\\n" "${PROJECTS[@]}"'],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    workspace = load(REPO)
    assert sorted(listed) == sorted(p.path for p in workspace.projects.values())
    for project in workspace.projects.values():
        for entry in workspace.siblings(
            project, extras=set()
        ):  # runtime requirements (test extras may cross)
            sibling = workspace.projects[entry.requirement.name].path
            assert listed.index(sibling) < listed.index(project.path), (project.path, entry.text)
