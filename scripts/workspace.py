#!/usr/bin/env python3
"""The workspace's projects and the dependency graph between them, read from their pyproject.toml files.

A project is a folder `packages/*` or `apps/*` with a `pyproject.toml`; an edge A -> B means A names B
in its dependencies or in one of its extras. affected.py, release.py, check_release.py,
check_sibling_ranges.py and check_imports.py all read the graph from here, so a new package is picked
up by adding its folder, never by editing a list.

Command line: `python scripts/workspace.py closure PROJECT [--extras test,onnx]` prints, one per line
in dependency order, the folders of PROJECT and of every sibling that installing PROJECT with those
extras pulls in (what a CI job builds from the tree).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli is what `build` depends on there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PROJECT_GLOBS = ("packages/*/pyproject.toml", "apps/*/pyproject.toml")
PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (3\.\d+)$")
VERSION_ASSIGNMENT = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.MULTILINE)


class WorkspaceError(Exception):
    """A project's files do not say what the tooling needs (the message names the file)."""


class Entry(NamedTuple):
    """One requirement of a project: where it is written, the text as written, and its parsed form."""

    where: str  # "dependencies" or "optional-dependencies.EXTRA"
    text: str
    requirement: Requirement


@dataclass(frozen=True)
class Project:
    """One package or app: its folder (relative to the root) and its parsed pyproject.toml."""

    path: str
    name: str
    pyproject: dict = field(repr=False, compare=False)

    @property
    def is_app(self) -> bool:
        return self.path.startswith("apps/")

    @property
    def metadata(self) -> dict:
        return self.pyproject["project"]

    def requirements(self, extras: set[str] | None = None) -> list[Entry]:
        """Its requirements: `dependencies` and those of the given extras (None: every extra)."""
        found = [("dependencies", text) for text in self.metadata.get("dependencies", [])]
        for extra, texts in self.metadata.get("optional-dependencies", {}).items():
            if extras is None or extra in extras:
                found += [(f"optional-dependencies.{extra}", text) for text in texts]
        parsed = []
        for where, text in found:
            try:
                parsed.append(Entry(where, text, Requirement(text)))
            except InvalidRequirement as exc:
                raise WorkspaceError(f"{self.path}/pyproject.toml: {where}: {text!r}: {exc}") from None
        return parsed

    @property
    def version_file(self) -> str:
        """The file `[tool.hatch.version] path` names, relative to the workspace root."""
        try:
            return f"{self.path}/{self.pyproject['tool']['hatch']['version']['path']}"
        except KeyError:
            raise WorkspaceError(f"{self.path}/pyproject.toml: no [tool.hatch.version] path") from None

    @property
    def module(self) -> str:
        """The import name: the folder `[tool.hatch.build.targets.wheel] packages` ships."""
        try:
            (package,) = self.pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        except (KeyError, ValueError):
            raise WorkspaceError(
                f"{self.path}/pyproject.toml: [tool.hatch.build.targets.wheel] packages must name one folder"
            ) from None
        return package.rstrip("/").rsplit("/", 1)[-1]

    @property
    def python_versions(self) -> list[str]:
        """The `3.X` versions its classifiers declare, oldest first (the CI matrix of the project)."""
        versions = [
            m.group(1) for c in self.metadata.get("classifiers", []) if (m := PYTHON_CLASSIFIER.match(c))
        ]
        return sorted(versions, key=lambda v: tuple(int(part) for part in v.split(".")))


@dataclass
class Workspace:
    """Every project of a checkout, by distribution name, in dependency order (dependencies first)."""

    root: Path
    projects: dict[str, Project]

    def get(self, key: str) -> Project:
        """A project by distribution name (`sr-blocks`) or folder (`packages/sr-blocks`)."""
        name = canonicalize_name(key)
        if name in self.projects:
            return self.projects[name]
        for project in self.projects.values():
            if project.path == key.rstrip("/"):
                return project
        known = ", ".join(self.projects)
        raise WorkspaceError(f"no project {key!r} in {self.root} (known: {known})")

    def siblings(self, project: Project, extras: set[str] | None = None) -> list[Entry]:
        """The requirements of `project` (dependencies + extras, see Project.requirements) on siblings."""
        return [
            e for e in project.requirements(extras) if canonicalize_name(e.requirement.name) in self.projects
        ]

    def dependents(self, names: set[str]) -> set[str]:
        """`names` and every project that needs one of them, directly or not, through any extra."""
        users: dict[str, set[str]] = {name: set() for name in self.projects}
        for project in self.projects.values():
            for entry in self.siblings(project):
                users[canonicalize_name(entry.requirement.name)].add(project.name)
        found, todo = set(names), list(names)
        while todo:
            for user in users[todo.pop()] - found:
                found.add(user)
                todo.append(user)
        return found

    def install_closure(self, name: str, extras: set[str]) -> set[str]:
        """The projects that `pip install name[extras]` pulls in (itself included)."""
        found: set[str] = set()
        todo = [(canonicalize_name(name), frozenset(extras))]
        seen: set[tuple[str, frozenset[str]]] = set()
        while todo:
            current, current_extras = todo.pop()
            if (current, current_extras) in seen:
                continue
            seen.add((current, current_extras))
            found.add(current)
            for entry in self.siblings(self.projects[current], set(current_extras)):
                todo.append((canonicalize_name(entry.requirement.name), frozenset(entry.requirement.extras)))
        return found

    def ordered(self, names: set[str]) -> list[Project]:
        """The projects named, in dependency order."""
        return [project for name, project in self.projects.items() if name in names]

    def version(self, name: str) -> str:
        """The version string in the project's version file."""
        path = self.root / self.projects[name].version_file
        try:
            match = VERSION_ASSIGNMENT.search(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise WorkspaceError(f"{self.projects[name].version_file}: {exc.strerror}") from None
        if match is None:
            raise WorkspaceError(f'{self.projects[name].version_file}: no `__version__ = "..."` line')
        return match.group(1)

    def versions(self) -> dict[str, str]:
        """Every project's current version, by name."""
        return {name: self.version(name) for name in self.projects}


def write_atomic(path: Path, text: str) -> None:
    """Replaces path's content in one step (a temporary file beside it, then os.replace), keeping its mode."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_project(root: Path, pyproject: Path) -> Project:
    """Parses one project's pyproject.toml (errors name the file)."""
    relative = pyproject.parent.relative_to(root).as_posix()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{relative}/pyproject.toml: {exc}") from None
    name = data.get("project", {}).get("name")
    if not isinstance(name, str):
        raise WorkspaceError(f"{relative}/pyproject.toml: no [project] name")
    return Project(path=relative, name=canonicalize_name(name), pyproject=data)


def dependency_order(projects: dict[str, Project]) -> list[str]:
    """Names with every project after its siblings (packages before apps, then by name, on ties)."""
    needs = {
        name: {canonicalize_name(e.requirement.name) for e in p.requirements()} & set(projects) - {name}
        for name, p in projects.items()
    }
    order: list[str] = []
    while len(order) < len(projects):
        ready = [n for n in projects if n not in order and needs[n] <= set(order)]
        if not ready:
            stuck = sorted(n for n in projects if n not in order)
            raise WorkspaceError(f"the projects' requirements form a cycle among: {', '.join(stuck)}")
        order.append(min(ready, key=lambda n: (projects[n].is_app, n)))
    return order


def load(root: Path = ROOT) -> Workspace:
    """Reads every project under root/packages and root/apps."""
    root = Path(root)
    found: dict[str, Project] = {}
    for pattern in PROJECT_GLOBS:
        for pyproject in sorted(root.glob(pattern)):
            project = read_project(root, pyproject)
            if project.name in found:
                raise WorkspaceError(
                    f"{project.path} and {found[project.name].path} are both named {project.name}"
                )
            found[project.name] = project
    return Workspace(root=root, projects={name: found[name] for name in dependency_order(found)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[-1], prog="workspace.py")
    sub = parser.add_subparsers(dest="command", required=True)
    closure = sub.add_parser("closure", help="PROJECT and the siblings it installs, one folder per line")
    closure.add_argument("project", help="distribution name (sr-blocks) or folder (packages/sr-blocks)")
    closure.add_argument("--extras", default="", help="comma-separated extras, e.g. test,onnx")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        workspace = load(args.root)
        project = workspace.get(args.project)
        extras = {e.strip() for e in args.extras.split(",") if e.strip()}
        unknown = extras - set(project.metadata.get("optional-dependencies", {}))
        if unknown:
            raise WorkspaceError(f"{project.path}/pyproject.toml has no extra {', '.join(sorted(unknown))}")
        for member in workspace.ordered(workspace.install_closure(project.name, extras)):
            print(member.path)
    except WorkspaceError as exc:
        print(f"workspace.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
