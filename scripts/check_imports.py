#!/usr/bin/env python3
"""Checks the direction of imports between the workspace's projects: `python scripts/check_imports.py`.

Two rules, both read from files of the checkout:

- layers: the src/ of each package imports only the siblings that scripts/layers.toml lists for it
  (the layers of docs/architecture.md: imports point down, the two searches never import each
  other), and every package has a line there; an app imports packages only, never another app.
- requirements: every import of a sibling's module in a project's src/ and tests/ names a sibling
  that the project requires (in its dependencies or one of its extras), so that a wheel installed
  alone has every sibling it imports.

Relative imports and the project's own module are not checked.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from workspace import ROOT, Workspace, WorkspaceError, load

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli is what `build` depends on there
    import tomli as tomllib

CHECKED_FOLDERS = ("src", "tests")
LAYERS_FILE = "scripts/layers.toml"


def imported_roots(path: Path) -> dict[str, int]:
    """Top-level module name -> first line importing it, for the absolute imports of one file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: cannot be parsed: {exc}") from None
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            found.setdefault(name.split(".")[0], node.lineno)
    return found


def sibling_imports(workspace: Workspace, name: str, folder: str):
    """(file relative to the root, line, module, sibling name) for each sibling one folder imports."""
    modules = {project.module: other for other, project in workspace.projects.items()}
    project = workspace.projects[name]
    for path in sorted((workspace.root / project.path / folder).rglob("*.py")):
        for module, line in imported_roots(path).items():
            sibling = modules.get(module)
            if sibling is not None and sibling != name:
                yield path.relative_to(workspace.root).as_posix(), line, module, sibling


def read_layers(root: Path) -> dict[str, set[str]]:
    """Package name -> the siblings it may import, from root/scripts/layers.toml."""
    path = root / LAYERS_FILE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("may-import")
    except OSError as exc:
        raise WorkspaceError(f"{LAYERS_FILE}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{LAYERS_FILE}: {exc}") from None
    if not isinstance(table, dict) or not all(
        isinstance(below, list) and all(isinstance(n, str) for n in below) for below in table.values()
    ):
        raise WorkspaceError(f"{LAYERS_FILE}: needs a [may-import] table of lists of package names")
    return {canonicalize_name(k): {canonicalize_name(n) for n in v} for k, v in table.items()}


def layer_problems(workspace: Workspace, layers: dict[str, set[str]]) -> list[str]:
    """One line per import of a package's or app's src/ against the layers, and per unplaced package."""
    found = []
    for name, project in workspace.projects.items():
        if not project.is_app and name not in layers:
            found.append(f"{project.path}: package {name} has no line in {LAYERS_FILE}")
            continue
        for where, line, module, sibling in sibling_imports(workspace, name, "src"):
            if project.is_app:
                if workspace.projects[sibling].is_app:
                    found.append(f"{where}:{line}: imports {module}, but an app never imports another app")
            elif sibling not in layers[name]:
                what = "an app" if workspace.projects[sibling].is_app else sibling
                found.append(f"{where}:{line}: imports {module}, but {LAYERS_FILE} puts {what} above {name}")
    return found


def requirement_problems(workspace: Workspace) -> list[str]:
    """One line per import of a sibling that the importing project does not require."""
    found = []
    for name, project in workspace.projects.items():
        required = {canonicalize_name(entry.requirement.name) for entry in workspace.siblings(project)}
        for folder in CHECKED_FOLDERS:
            for where, line, module, sibling in sibling_imports(workspace, name, folder):
                if sibling not in required:
                    found.append(
                        f"{where}:{line}: imports {module}, "
                        f"but {project.path}/pyproject.toml does not require {sibling}"
                    )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="check_imports.py")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this repository)")
    args = parser.parse_args(argv)
    try:
        workspace = load(args.root)
        layers = layer_problems(workspace, read_layers(workspace.root))
        requirements = requirement_problems(workspace)
    except WorkspaceError as exc:
        print(f"check_imports.py: {exc}", file=sys.stderr)
        return 1
    for line in layers + requirements:
        print(line)
    if layers:
        print(f"{len(layers)} import(s) against the layers of {LAYERS_FILE}")
    if requirements:
        print(f"{len(requirements)} import(s) of siblings that are not required")
    if layers or requirements:
        return 1
    count = len(workspace.projects)
    print(f"imports: {count} projects import down the layers and only the siblings they require")
    return 0


if __name__ == "__main__":
    sys.exit(main())
