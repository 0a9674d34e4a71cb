"""scripts/release.py and scripts/check_release.py: cutting a release, and the tag check of the workflow."""

from pathlib import Path

import check_release
import pytest
import release
from check_release import ReleaseError, changelog_problem, parse_tag
from tooling_support import make_project, run_script
from workspace import load

NOTES = (
    "# Changelog of a\n\n## Unreleased\n\n- `thing()` is faster.\n\n"
    "## 0.1.0 (2026-01-05)\n\n- First release.\n"
)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_project(tmp_path, "packages/a", "a", version="0.1.0", changelog=NOTES)
    make_project(tmp_path, "apps/b", "b", dependencies=["a>=0.1,<0.2"], extras={"test": ["a[x]>=0.1,<0.2"]})
    return tmp_path


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_release_bumps_the_version_and_dates_the_pending_notes(tree: Path, capsys) -> None:
    assert release.main(["a", "0.1.1", "--date", "2026-02-03", "--root", str(tree)]) == 0
    out = capsys.readouterr().out
    assert (tree / "packages/a/src/a/version.py").read_text() == '__version__ = "0.1.1"\n'
    assert (tree / "packages/a/CHANGELOG.md").read_text() == NOTES.replace(
        "## Unreleased", "## 0.1.1 (2026-02-03)"
    )
    assert "tag: a-v0.1.1" in out and "git tag a-v0.1.1" in out
    assert "apps/b" not in out  # a patch release leaves the siblings' ranges alone
    assert check_release.main(["a-v0.1.1", "--root", str(tree)]) == 0
    assert capsys.readouterr().out == "name=a\npath=packages/a\nversion=0.1.1\n"


def test_dry_run_prints_the_diff_and_writes_nothing(tree: Path, capsys) -> None:
    before = files(tree)
    assert (
        release.main(["packages/a", "0.2.0", "--dry-run", "--date", "2026-02-03", "--root", str(tree)]) == 0
    )
    out = capsys.readouterr().out
    assert files(tree) == before
    assert "a 0.1.0 -> 0.2.0 (dry run: nothing written)" in out
    assert '-__version__ = "0.1.0"\n+__version__ = "0.2.0"\n' in out
    assert "-## Unreleased\n+## 0.2.0 (2026-02-03)\n" in out
    # a new 0.x minor is a new breaking series: the app's ranges move with it
    assert '+dependencies = ["a>=0.2,<0.3"]\n' in out and '+test = ["a[x]>=0.2,<0.3"]\n' in out
    assert "moved to its new range in: apps/b" in out


def test_minor_release_keeps_the_workspace_consistent(tree: Path, capsys) -> None:
    import check_sibling_ranges

    assert release.main(["a", "0.2.0", "--root", str(tree)]) == 0
    assert check_sibling_ranges.main(["--root", str(tree)]) == 0


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("0.1.0", "0.1.0 is not above a's current version 0.1.0"),
        ("0.0.9", "is not above"),
        ("v0.2.0", "write the version as 0.2.0"),
        ("0.2.0.dev-x", "is not a PEP 440 version"),
    ],
)
def test_bad_versions_are_refused(tree: Path, capsys, version: str, message: str) -> None:
    before = files(tree)
    assert release.main(["a", version, "--root", str(tree)]) == 1
    assert message in capsys.readouterr().err
    assert files(tree) == before


@pytest.mark.parametrize(
    ("changelog", "message"),
    [
        (
            "# Changelog\n\n## 0.1.0 (2026-01-05)\n\n- First.\n",
            "no pending notes; write what changed in 0.1.1",
        ),
        ("# Changelog\n\n## Unreleased\n\n## 0.1.0 (2026-01-05)\n\n- First.\n", "'## Unreleased' is empty"),
    ],
)
def test_a_release_without_notes_is_refused(tmp_path: Path, capsys, changelog: str, message: str) -> None:
    make_project(tmp_path, "packages/a", "a", changelog=changelog)
    assert release.main(["a", "0.1.1", "--root", str(tmp_path)]) == 1
    assert message in capsys.readouterr().err
    assert (tmp_path / "packages/a/src/a/version.py").read_text() == '__version__ = "0.1.0"\n'


def test_pending_notes_headed_with_a_planned_version_take_the_released_one(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/a", "a", changelog="# Changelog\n\n## 0.1.0 (unreleased)\n\n- First.\n")
    assert release.main(["a", "0.1.1", "--date", "2026-03-01", "--root", str(tmp_path)]) == 0
    assert "## 0.1.1 (2026-03-01)\n\n- First.\n" in (tmp_path / "packages/a/CHANGELOG.md").read_text()


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("sr-blocks-v0.2.0", ("sr-blocks", "0.2.0")),
        ("refs/tags/sr-search-evo-v1.0.0rc1", ("sr-search-evo", "1.0.0rc1")),
        ("sr-v2-thing-v0.1.0", ("sr-v2-thing", "0.1.0")),
    ],
)
def test_tags_name_a_package_and_a_version(tag: str, expected: tuple[str, str]) -> None:
    assert parse_tag(tag) == expected


@pytest.mark.parametrize("tag", ["v0.2.0", "sr-blocks-0.2.0", "sr-blocks-v", "sr-blocks-vX"])
def test_malformed_tags_are_refused(tag: str) -> None:
    with pytest.raises(ReleaseError, match="is not of the form <package>-v<version>"):
        parse_tag(tag)


@pytest.mark.parametrize(
    ("changelog", "problem"),
    [
        ("## 0.2.0 (2026-01-01)\n\n- Done.\n", None),
        ("## [0.2.0] - 2026-01-01\n- Done.\n", None),
        ("## 0.2.0 (unreleased)\n\n- Done.\n", "still marked unreleased"),
        ("## 0.2.0 (2026-01-01)\n\n## 0.1.0\n\n- Old.\n", "has no notes"),
        ("## 0.2.1 (2026-01-01)\n\n- Other.\n", "it has no '## 0.2.0' entry"),
        ("## 0.2.00\n\n- Lookalike.\n", "it has no '## 0.2.0' entry"),
    ],
)
def test_changelog_entry_rules(changelog: str, problem: str | None) -> None:
    found = changelog_problem("# Changelog\n\n" + changelog, "0.2.0")
    assert found == problem if problem is None else problem in found


def test_the_workflow_check_refuses_a_tag_the_tree_disagrees_with(tree: Path) -> None:
    workspace = load(tree)
    assert check_release.check_tag(workspace, "a-v0.1.0").path == "packages/a"  # released with its notes
    with pytest.raises(ReleaseError, match=r"^packages/a/src/a/version.py says 0.1.0, not 0.3.0$"):
        check_release.check_tag(workspace, "a-v0.3.0")
    (tree / "packages/a/src/a/version.py").write_text('__version__ = "0.3.0"\n')
    with pytest.raises(ReleaseError, match=r"^packages/a/CHANGELOG.md: it has no '## 0.3.0' entry$"):
        check_release.check_tag(workspace, "a-v0.3.0")
    with pytest.raises(ReleaseError, match="no project 'zz'"):
        check_release.check_tag(workspace, "zz-v0.1.0")


def test_check_release_as_a_script_refuses_with_one_line(tree: Path) -> None:
    result = run_script("check_release.py", "a-v0.9.0", "--root", str(tree))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "check_release.py: refused: packages/a/src/a/version.py says 0.1.0, not 0.9.0\n"
