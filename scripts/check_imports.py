#!/usr/bin/env python3
"""Checks that each project imports only the siblings it requires: `python scripts/check_imports.py`.

Every `import` of a sibling's module in a project's src/ and tests/ must name a sibling that the
project requires (in its dependencies or one of its extras). Since the requirements form no cycle
(workspace.py refuses one), imports then only point down the stack, and a wheel installed alone has
every sibling it imports. Relative imports and the project's own module are not checked.
../shared/tools/check_layers.py, where present, checks the stricter layer order of DESIGN.md.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

from packaging.utils import canonicalize_name
from workspace import ROOT, Workspace, WorkspaceError, load

CHECKED_FOLDERS = ("src", "tests")


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


def problems(workspace: Workspace) -> list[str]:
    """One line per import of a sibling that the importing project does not require."""
    modules = {project.module: name for name, project in workspace.projects.items()}
    found = []
    for name, project in workspace.projects.items():
        required = {canonicalize_name(entry.requirement.name) for entry in workspace.siblings(project)}
        for folder in CHECKED_FOLDERS:
            for path in sorted((workspace.root / project.path / folder).rglob("*.py")):
                for module, line in imported_roots(path).items():
                    sibling = modules.get(module)
                    if sibling is None or sibling == name or sibling in required:
                        continue
                    where = path.relative_to(workspace.root).as_posix()
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
        found = problems(workspace)
    except WorkspaceError as exc:
        print(f"check_imports.py: {exc}", file=sys.stderr)
        return 1
    for line in found:
        print(line)
    if found:
        print(f"{len(found)} import(s) of siblings that are not required")
        return 1
    print(f"imports: {len(workspace.projects)} projects import only the siblings they require")
    return 0


if __name__ == "__main__":
    sys.exit(main())
