#!/usr/bin/env python3
"""Which projects does a change touch? `python scripts/affected.py BASE HEAD` (or `--all`).

Prints JSON for a CI matrix: the projects whose files changed between the commits (`git diff
BASE...HEAD`), plus every package and app that depends on them through any extra (the graph comes
from the pyproject.toml files, see workspace.py), and one matrix entry per project and Python
version its classifiers declare. Run it on a checkout of HEAD.

What a changed path counts as:
- Markdown anywhere, or anything under a docs/ folder: documentation only (`docs`);
- a file of a project: that project, and everything above it;
- tests/ or benchmarks/ at the root: the cross-package checks only (`workspace`);
- anything else outside the projects (scripts/, .github/, .ci/, the root pyproject.toml, ...):
  every project, since it changes how each one is built or tested.
A BASE that is not a commit of the checkout (a new branch's 0000000, a force-pushed history) also
selects every project, with a note on stderr.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workspace import ROOT, Workspace, WorkspaceError, load

CROSS_PACKAGE_FOLDERS = ("tests/", "benchmarks/")


@dataclass
class Affected:
    """What a set of changed paths touches."""

    changed: set[str]  # projects whose own (non-documentation) files changed
    projects: set[str]  # those and every project that depends on them
    docs: bool  # some documentation changed
    workspace: bool  # cross-package tests or benchmarks need a run
    reason: str = ""  # why every project was selected, when it was


def is_documentation(path: str) -> bool:
    return path.endswith(".md") or path.startswith("docs/") or "/docs/" in path


def owner(workspace: Workspace, path: str) -> str | None:
    """The project whose folder holds `path`, if any."""
    for project in workspace.projects.values():
        if path.startswith(project.path + "/"):
            return project.name
    return None


def classify(workspace: Workspace, paths: list[str]) -> Affected:
    """Applies the rules of the module docstring to changed paths (relative to the root)."""
    changed: set[str] = set()
    docs = cross_package = False
    everything = ""
    for path in paths:
        if is_documentation(path):
            docs = True
        elif (name := owner(workspace, path)) is not None:
            changed.add(name)
        elif path.startswith(CROSS_PACKAGE_FOLDERS):
            cross_package = True
        elif not everything:
            everything = f"{path} is outside every project"
    if everything:
        return select_all(workspace, everything, docs=docs)
    projects = workspace.dependents(changed)
    return Affected(changed=changed, projects=projects, docs=docs, workspace=cross_package or bool(projects))


def select_all(workspace: Workspace, reason: str, docs: bool = False) -> Affected:
    every = set(workspace.projects)
    return Affected(changed=every, projects=every, docs=docs, workspace=True, reason=reason)


def git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)


def is_commit(root: Path, rev: str) -> bool:
    return git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").returncode == 0


def changed_paths(root: Path, base: str, head: str) -> list[str]:
    """Paths changed on HEAD since its merge base with BASE; a move lists both of its paths."""
    result = git(root, "diff", "--name-only", "--no-renames", "-z", f"{base}...{head}")
    if result.returncode != 0:
        raise WorkspaceError(f"git diff {base}...{head} failed: {result.stderr.strip()}")
    return [path for path in result.stdout.split("\0") if path]


def affected(workspace: Workspace, base: str, head: str) -> Affected:
    """What changed between the commits touches (the projects are those of the checkout)."""
    if not is_commit(workspace.root, head):
        raise WorkspaceError(f"HEAD {head!r} is not a commit of {workspace.root}")
    if not is_commit(workspace.root, base):
        return select_all(workspace, f"BASE {base!r} is not a commit of this checkout")
    return classify(workspace, changed_paths(workspace.root, base, head))


def report(workspace: Workspace, result: Affected) -> dict:
    """The JSON document: lists in dependency order, and the matrix of (project, Python) jobs."""
    projects = workspace.ordered(result.projects)
    include = [
        {"project": p.path, "name": p.name, "python": version}
        for p in projects
        for version in p.python_versions
    ]
    missing = [p.path for p in projects if not p.python_versions]
    if missing:
        raise WorkspaceError(
            f"no 'Programming Language :: Python :: 3.X' classifier in {', '.join(missing)}: no CI job to run"
        )
    return {
        "changed": [p.path for p in workspace.ordered(result.changed)],
        "projects": [p.path for p in projects],
        "docs": result.docs,
        "workspace": result.workspace,
        "matrix": {"include": include},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="affected.py")
    parser.add_argument("base", nargs="?", help="the commit to compare with (a PR's base, a push's 'before')")
    parser.add_argument("head", nargs="?", help="the commit under test (default: HEAD)", default="HEAD")
    parser.add_argument("--all", action="store_true", help="select every project (scheduled or manual runs)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this repository)")
    args = parser.parse_args(argv)
    if not args.all and args.base is None:
        parser.error("give BASE [HEAD], or --all")
    try:
        workspace = load(args.root)
        result = select_all(workspace, "--all") if args.all else affected(workspace, args.base, args.head)
        document = report(workspace, result)
    except WorkspaceError as exc:
        print(f"affected.py: {exc}", file=sys.stderr)
        return 1
    if result.reason:
        print(f"affected.py: every project selected: {result.reason}", file=sys.stderr)
    print(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
