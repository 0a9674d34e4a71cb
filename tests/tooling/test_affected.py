"""scripts/affected.py on synthetic git histories: which projects a change touches."""

import json
from pathlib import Path

import affected
import pytest
from tooling_support import commit, copy_real_projects, git, make_project, run_script, write
from workspace import WorkspaceError, load


def run(repo: Path, base: str, head: str, capsys) -> dict:
    assert affected.main(["--root", str(repo), base, head]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def real(repo: Path) -> tuple[Path, str]:
    """A repository holding a copy of this workspace's pyproject.toml files (one commit)."""
    copy_real_projects(repo)
    write(repo / "README.md", "# toolkit\n")
    return repo, commit(repo, "the workspace's projects")


def test_change_to_sr_reparam_touches_everything_above_it(real, capsys) -> None:
    repo, base = real
    write(repo / "packages/sr-reparam/src/sr_reparam/kernels.py", "IDENTITY = 1\n")
    head = commit(repo, "sr-reparam: kernels")
    out = run(repo, base, head, capsys)
    names = {p.name for p in load(repo).projects.values()}
    # data <- eval <- train sit beside the reparam <- blocks branch; everything else builds on both.
    assert {load(repo).get(p).name for p in out["projects"]} == names - {"sr-data", "sr-eval", "sr-train"}
    assert out["changed"] == ["packages/sr-reparam"]
    assert out["projects"].index("packages/sr-reparam") < out["projects"].index("packages/sr-blocks")
    assert {"apps/zoo", "apps/esr_ea", "apps/quantnas", "apps/sesr"} <= set(out["projects"])
    assert out["docs"] is False and out["workspace"] is True


def test_change_to_an_app_touches_only_that_app(real, capsys) -> None:
    repo, base = real
    write(repo / "apps/esr_ea/src/sr_esr_ea/cli.py", "def main():\n    pass\n")
    head = commit(repo, "esr_ea: cli")
    out = run(repo, base, head, capsys)
    assert out["changed"] == out["projects"] == ["apps/esr_ea"]
    assert {job["project"] for job in out["matrix"]["include"]} == {"apps/esr_ea"}
    assert out["docs"] is False


def test_readme_only_change_touches_nothing_but_docs(real, capsys) -> None:
    repo, base = real
    write(repo / "README.md", "# toolkit\n\nNow with a tour.\n")
    write(repo / "packages/sr-blocks/README.md", "# sr-blocks\n")
    write(repo / "packages/sr-data/CHANGELOG.md", "# Changelog\n")
    head = commit(repo, "docs")
    out = run(repo, base, head, capsys)
    assert out == {"changed": [], "projects": [], "docs": True, "workspace": False, "matrix": {"include": []}}


def test_matrix_has_one_job_per_declared_python(repo, capsys) -> None:
    make_project(repo, "packages/a", "a", pythons=("3.12", "3.10", "3.11"))
    make_project(repo, "apps/b", "b", dependencies=["a>=0.1,<0.2"], pythons=("3.13",))
    base = commit(repo, "a and b")
    write(repo / "packages/a/src/a/core.py", "X = 1\n")
    out = run(repo, base, commit(repo, "a: core"), capsys)
    assert out["matrix"]["include"] == [
        {"project": "packages/a", "name": "a", "python": "3.10"},
        {"project": "packages/a", "name": "a", "python": "3.11"},
        {"project": "packages/a", "name": "a", "python": "3.12"},
        {"project": "apps/b", "name": "b", "python": "3.13"},
    ]


def test_dependents_through_an_extra_are_affected(repo, capsys) -> None:
    make_project(repo, "packages/a", "a")
    make_project(repo, "packages/b", "b", extras={"test": ["pytest>=7", "a[x]>=0.1,<0.2"]})
    make_project(repo, "packages/c", "c")
    base = commit(repo, "three")
    write(repo / "packages/a/src/a/core.py", "X = 1\n")
    out = run(repo, base, commit(repo, "a"), capsys)
    assert out["projects"] == ["packages/a", "packages/b"]


def test_file_moved_between_projects_touches_both(repo, capsys) -> None:
    make_project(repo, "packages/a", "a")
    make_project(repo, "packages/b", "b")
    write(repo / "packages/a/src/a/helper.py", "def helper():\n    return 1\n")
    base = commit(repo, "a with a helper")
    (repo / "packages/b/src/b").mkdir(parents=True, exist_ok=True)
    git(repo, "mv", "packages/a/src/a/helper.py", "packages/b/src/b/helper.py")
    out = run(repo, base, commit(repo, "move the helper"), capsys)
    assert out["changed"] == ["packages/a", "packages/b"]


@pytest.mark.parametrize("path", ["scripts/build.sh", ".github/workflows/ci.yml", "pyproject.toml"])
def test_a_change_outside_the_projects_selects_every_project(repo, capsys, path) -> None:
    make_project(repo, "packages/a", "a")
    make_project(repo, "apps/b", "b")
    base = commit(repo, "two")
    write(repo / path, "changed\n")
    assert affected.main(["--root", str(repo), base, commit(repo, "tooling")]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["projects"] == ["packages/a", "apps/b"]
    assert f"{path} is outside every project" in captured.err


def test_cross_package_tests_run_the_workspace_job_only(repo, capsys) -> None:
    make_project(repo, "packages/a", "a")
    base = commit(repo, "a")
    write(repo / "tests/test_together.py", "def test():\n    pass\n")
    out = run(repo, base, commit(repo, "cross-package test"), capsys)
    assert out["projects"] == [] and out["workspace"] is True and out["docs"] is False


def test_unknown_base_selects_every_project_with_a_note(repo, capsys) -> None:
    make_project(repo, "packages/a", "a")
    head = commit(repo, "a")
    assert affected.main(["--root", str(repo), "0" * 40, head]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["projects"] == ["packages/a"]
    assert "is not a commit of this checkout" in captured.err


def test_a_project_without_python_classifiers_is_an_error(repo, capsys) -> None:
    make_project(repo, "packages/a", "a", pythons=())
    head = commit(repo, "a")
    assert affected.main(["--root", str(repo), "--all"]) == 1
    assert "packages/a" in capsys.readouterr().err
    with pytest.raises(WorkspaceError, match="HEAD 'nope' is not a commit"):
        affected.affected(load(repo), head, "nope")


def test_runs_as_a_script(real) -> None:
    repo, base = real
    write(repo / "packages/sr-data/src/sr_data/io.py", "X = 1\n")
    head = commit(repo, "sr-data")
    result = run_script("affected.py", "--root", str(repo), base, head)
    assert result.returncode == 0, result.stderr
    projects = json.loads(result.stdout)["projects"]
    assert projects[0] == "packages/sr-data" and "packages/sr-eval" in projects and "apps/zoo" in projects
