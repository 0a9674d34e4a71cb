#!/usr/bin/env python3
"""Checks that every requirement of a project on a sibling is a range that fits the sibling's version.

`python scripts/check_sibling_ranges.py [--fix]`: each requirement on a sibling (in dependencies and
in every extra) must admit the sibling's current version (its version.py) and exclude its next
breaking release (the next minor of a 0.x package, the next major after 1.0), as in
`sr-train>=0.1,<0.2`. So a bumped package that leaves a sibling's range behind fails CI, and a
published wheel never accepts a release of its sibling that it was not tested with. `--fix` rewrites
the offending requirements to the suggested range (extras and markers kept).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from workspace import ROOT, Workspace, WorkspaceError, load, write_atomic


def breaking_release(version: Version) -> Version:
    """The first release that may break users of `version`: 0.(minor+1) below 1.0, (major+1) above."""
    return Version(f"0.{version.minor + 1}") if version.major == 0 else Version(f"{version.major + 1}")


def suggested(text: str, requirement: Requirement, version: Version) -> str:
    """`text` rewritten to `NAME>=MAJOR.MINOR,<next breaking release` (extras, marker as written)."""
    name = re.match(r"\s*[A-Za-z0-9._-]+(\s*\[[^\]]*\])?", text).group(0).strip()
    marker = f"; {text.split(';', 1)[1].strip()}" if ";" in text else ""
    return f"{name}>={version.major}.{version.minor},<{breaking_release(version)}{marker}"


@dataclass(frozen=True)
class RangeProblem:
    """One requirement on a sibling that does not fit the sibling's version."""

    path: str  # the project folder
    where: str  # dependencies / optional-dependencies.EXTRA
    requirement: str  # as written
    sibling: str
    version: str  # the sibling's version the range is checked against
    why: str
    fix: str  # the suggested requirement

    def __str__(self) -> str:
        return (
            f"{self.path}/pyproject.toml: {self.where}: {self.requirement!r} {self.why}; write {self.fix!r}"
        )


def problems(workspace: Workspace, versions: dict[str, str]) -> list[RangeProblem]:
    """Every sibling requirement of the workspace checked against `versions` (name -> version)."""
    found = []
    for project in workspace.projects.values():
        for where, text, req in workspace.siblings(project):
            sibling = canonicalize_name(req.name)
            try:
                version = Version(versions[sibling])
            except InvalidVersion:
                raise WorkspaceError(
                    f"{workspace.projects[sibling].version_file}: {versions[sibling]!r} is not a version"
                ) from None
            breaking = breaking_release(version)
            if not req.specifier.contains(version, prereleases=True):
                why = f"does not admit {sibling} {version} (its version.py)"
            elif req.specifier.contains(breaking, prereleases=True):
                why = f"admits {sibling} {breaking}, its next breaking release"
            else:
                continue
            found.append(
                RangeProblem(
                    project.path, where, text, sibling, str(version), why, suggested(text, req, version)
                )
            )
    return found


def fixed_texts(workspace: Workspace, found: list[RangeProblem]) -> dict[Path, tuple[str, str]]:
    """pyproject.toml path -> (old text, new text) with each offending requirement rewritten."""
    changes: dict[Path, tuple[str, str]] = {}
    for problem in found:
        path = workspace.root / problem.path / "pyproject.toml"
        old, new = changes.get(path, (path.read_text(encoding="utf-8"),) * 2)
        quote = next((q for q in "\"'" if f"{q}{problem.requirement}{q}" in new), None)
        if quote is None and any(f"{q}{problem.fix}{q}" in new for q in "\"'"):
            continue  # the same requirement written twice in the file: already rewritten
        if quote is None or quote in problem.fix:
            raise WorkspaceError(
                f"{problem.path}/pyproject.toml: cannot rewrite {problem.requirement!r}; edit it by hand"
            )
        changes[path] = (
            old,
            new.replace(f"{quote}{problem.requirement}{quote}", f"{quote}{problem.fix}{quote}"),
        )
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="check_sibling_ranges.py")
    parser.add_argument("--fix", action="store_true", help="rewrite the offending requirements")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this repository)")
    args = parser.parse_args(argv)
    try:
        workspace = load(args.root)
        versions = workspace.versions()
        found = problems(workspace, versions)
        if args.fix and found:
            for path, (_, new) in fixed_texts(workspace, found).items():
                write_atomic(path, new)
            for problem in found:
                print(f"fixed {problem.path}/pyproject.toml: {problem.requirement!r} -> {problem.fix!r}")
            found = problems(load(args.root), versions)
    except WorkspaceError as exc:
        print(f"check_sibling_ranges.py: {exc}", file=sys.stderr)
        return 1
    for problem in found:
        print(problem)
    if found:
        print(f"{len(found)} sibling requirement(s) out of step with the siblings' versions (--fix rewrites)")
        return 1
    count = sum(len(workspace.siblings(p)) for p in workspace.projects.values())
    print(
        f"sibling ranges: {count} requirements on siblings admit the current versions and no breaking release"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
