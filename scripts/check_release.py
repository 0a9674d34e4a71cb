#!/usr/bin/env python3
"""Checks a release tag against the tree: `python scripts/check_release.py PACKAGE-vVERSION`.

The tag `<package>-v<version>` (e.g. `sr-blocks-v0.2.0`) names a project by its distribution name.
It is refused, with one line on stderr and exit status 1, unless the project's version.py says
exactly that version and its CHANGELOG.md has a dated entry for it (a `## VERSION` heading, not
marked unreleased, with at least one line of notes). On success it prints `name=`, `path=` and
`version=` lines, which the release workflow appends to $GITHUB_OUTPUT. release.py runs the same
check on the files it is about to write.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from workspace import ROOT, VERSION_ASSIGNMENT, Project, Workspace, WorkspaceError, load

TAG = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)-v(?P<version>[0-9][0-9A-Za-z.+!]*)$")
UNRELEASED = re.compile(r"\bunreleased\b", re.IGNORECASE)


class ReleaseError(Exception):
    """The tag and the tree disagree (the message says how)."""


def parse_tag(tag: str) -> tuple[str, str]:
    """(package, version) of a `<package>-v<version>` tag."""
    match = TAG.match(tag.removeprefix("refs/tags/"))
    if match is None:
        raise ReleaseError(f"tag {tag!r} is not of the form <package>-v<version>, e.g. sr-blocks-v0.2.0")
    return match.group("name"), match.group("version")


def heading_version(line: str) -> str | None:
    """The version a `## ...` changelog heading names (`## 0.2.0 (2026-05-01)`, `## [0.2.0]`, `## v0.2.0`)."""
    match = re.match(r"^##\s+\[?v?([0-9][^\s\]]*)\]?", line)
    return match.group(1) if match else None


def changelog_sections(text: str) -> list[tuple[str, list[str]]]:
    """(heading line, body lines) for every `## ` section of a changelog."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line, []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def changelog_problem(text: str, version: str) -> str | None:
    """Why a changelog has no releasable entry for `version`, or None when it has one."""
    for heading, body in changelog_sections(text):
        if heading_version(heading) != version:
            continue
        if UNRELEASED.search(heading):
            return f"its entry for {version} is still marked unreleased ({heading.strip()!r})"
        if not any(line.strip() for line in body):
            return f"its entry for {version} ({heading.strip()!r}) has no notes"
        return None
    return f"it has no '## {version}' entry"


def check(project: Project, version: str, version_text: str, changelog_text: str) -> None:
    """Raises ReleaseError unless version.py and CHANGELOG.md (given as text) fit a release of `version`."""
    found = VERSION_ASSIGNMENT.search(version_text)
    if found is None or found.group(1) != version:
        said = found.group(1) if found else "no __version__"
        raise ReleaseError(f"{project.version_file} says {said}, not {version}")
    problem = changelog_problem(changelog_text, version)
    if problem:
        raise ReleaseError(f"{project.path}/CHANGELOG.md: {problem}")


def read(workspace: Workspace, relative: str) -> str:
    try:
        return (workspace.root / relative).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReleaseError(f"{relative}: {exc.strerror}") from None


def check_tag(workspace: Workspace, tag: str) -> Project:
    """The project a tag releases, once the tree agrees with the tag (else ReleaseError)."""
    name, version = parse_tag(tag)
    try:
        project = workspace.get(name)
    except WorkspaceError as exc:
        raise ReleaseError(f"tag {tag!r}: {exc}") from None
    if project.name != name:
        raise ReleaseError(f"tag {tag!r}: write the package's name as {project.name}")
    check(
        project,
        version,
        read(workspace, project.version_file),
        read(workspace, f"{project.path}/CHANGELOG.md"),
    )
    return project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="check_release.py")
    parser.add_argument("tag", help="e.g. sr-blocks-v0.2.0 (a leading refs/tags/ is dropped)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this repository)")
    args = parser.parse_args(argv)
    try:
        project = check_tag(load(args.root), args.tag)
    except (ReleaseError, WorkspaceError) as exc:
        print(f"check_release.py: refused: {exc}", file=sys.stderr)
        return 1
    print(f"name={project.name}\npath={project.path}\nversion={parse_tag(args.tag)[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
