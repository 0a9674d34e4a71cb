#!/usr/bin/env python3
"""Cuts a release of one project: `python scripts/release.py PACKAGE VERSION [--dry-run]`.

1. VERSION must be a canonical PEP 440 version above the current one.
2. version.py gets VERSION.
3. The CHANGELOG's pending notes (its first section, when headed `## Unreleased` or `## X (unreleased)`)
   become the entry `## VERSION (YYYY-MM-DD)`. Without pending notes the release is refused: a release
   says what changed.
4. When VERSION starts a new breaking series (a new minor below 1.0, a new major after), the
   requirements of the projects that depend on PACKAGE are widened to the new range (the rule of
   check_sibling_ranges.py); those projects need their own release to publish it.
5. The result is checked as the release workflow checks the tag (check_release.py), written
   atomically (--dry-run prints the diff and writes nothing), and the tag to push is printed.
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import re
import sys
from pathlib import Path

from check_release import UNRELEASED, ReleaseError, changelog_sections, check
from check_sibling_ranges import fixed_texts, problems
from packaging.version import InvalidVersion, Version
from workspace import ROOT, Project, Workspace, WorkspaceError, load, write_atomic


def new_version_text(project: Project, text: str, version: str) -> str:
    """version.py with its `__version__` set to `version`."""
    updated, count = re.subn(
        r"""^(__version__\s*=\s*)(["'])[^"']+\2""", rf"\g<1>\g<2>{version}\g<2>", text, count=1, flags=re.M
    )
    if count != 1:
        raise ReleaseError(f'{project.version_file}: no `__version__ = "..."` line')
    return updated


def new_changelog_text(project: Project, text: str, version: str, date: str) -> str:
    """The changelog with its pending section headed `## VERSION (DATE)`."""
    where = f"{project.path}/CHANGELOG.md"
    sections = changelog_sections(text)
    if not sections or not UNRELEASED.search(sections[0][0]):
        raise ReleaseError(
            f"{where}: no pending notes; write what changed in {version} under '## Unreleased' first"
        )
    heading, body = sections[0]
    if not any(line.strip() for line in body):
        raise ReleaseError(
            f"{where}: the section {heading.strip()!r} is empty; write what changed in {version}"
        )
    lines = text.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("## "))
    ending = lines[index][len(lines[index].rstrip("\r\n")) :]
    lines[index] = f"## {version} ({date}){ending}"
    return "".join(lines)


def checked_version(workspace: Workspace, project: Project, version: str) -> Version:
    """VERSION parsed, when canonical and above the project's current version."""
    current = Version(workspace.version(project.name))
    try:
        parsed = Version(version)
    except InvalidVersion:
        raise ReleaseError(f"{version!r} is not a PEP 440 version (e.g. 0.2.0)") from None
    if str(parsed) != version:
        raise ReleaseError(f"write the version as {parsed} (its canonical form), not {version!r}")
    if parsed <= current:
        raise ReleaseError(f"{version} is not above {project.name}'s current version {current}")
    return parsed


def plan(workspace: Workspace, project: Project, version: str, date: str) -> dict[Path, tuple[str, str]]:
    """Every file the release changes: path -> (old text, new text)."""
    checked_version(workspace, project, version)
    root = workspace.root
    version_path = root / project.version_file
    changelog_path = root / project.path / "CHANGELOG.md"
    try:
        version_text = version_path.read_text(encoding="utf-8")
        changelog_text = changelog_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReleaseError(f"{exc.filename}: {exc.strerror}") from None
    changes = {
        version_path: (version_text, new_version_text(project, version_text, version)),
        changelog_path: (changelog_text, new_changelog_text(project, changelog_text, version, date)),
    }
    check(project, version, changes[version_path][1], changes[changelog_path][1])
    versions = workspace.versions() | {project.name: version}
    left_behind = [p for p in problems(workspace, versions) if p.sibling == project.name]
    changes.update(fixed_texts(workspace, left_behind))
    return changes


def describe(workspace: Workspace, changes: dict[Path, tuple[str, str]]) -> str:
    """The changes as a unified diff (no context lines) with paths relative to the root."""
    out = []
    for path, (old, new) in changes.items():
        name = path.relative_to(workspace.root).as_posix()
        diff = difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}", n=0
        )
        out.append("".join(line if line.endswith("\n") else line + "\n" for line in diff))
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="release.py")
    parser.add_argument("package", help="distribution name (sr-blocks) or folder (packages/sr-blocks)")
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    parser.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="the entry's date (today)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this repository)")
    args = parser.parse_args(argv)
    try:
        workspace = load(args.root)
        project = workspace.get(args.package)
        current = workspace.version(project.name)
        changes = plan(workspace, project, args.version, args.date)
    except (ReleaseError, WorkspaceError) as exc:
        print(f"release.py: refused: {exc}", file=sys.stderr)
        return 1
    tag = f"{project.name}-v{args.version}"
    print(
        f"{project.name} {current} -> {args.version}"
        + (" (dry run: nothing written)" if args.dry_run else "")
    )
    print(describe(workspace, changes), end="")
    if not args.dry_run:
        for path, (_, new) in changes.items():
            write_atomic(path, new)
    print(f"checked as the release workflow will: version.py says {args.version}, CHANGELOG.md has its entry")
    rewritten = sorted(
        p.relative_to(workspace.root).parent.as_posix() for p in changes if p.name == "pyproject.toml"
    )
    if rewritten:
        print(
            f"requirements on {project.name} moved to its new range in: {', '.join(rewritten)}"
            " (release those too)"
        )
    files = " ".join(p.relative_to(workspace.root).as_posix() for p in changes)
    print(f"tag: {tag}")
    print("then:")
    print(f"  git add {files}")
    print(f'  git commit -m "Release {project.name} {args.version}"')
    print(f"  git tag {tag}")
    print(f"  git push origin HEAD {tag}    # the tag starts .github/workflows/release.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
