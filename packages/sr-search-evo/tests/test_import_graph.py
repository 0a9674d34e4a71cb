"""The package's modules import each other without a loop (function-level imports count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import sr_search_evo

PACKAGE = Path(sr_search_evo.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The sr_search_evo modules that `path` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sr_search_evo."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("sr_search_evo.")}
    return found


def test_no_import_cycle_between_modules() -> None:
    graph = {p.stem: imports_of(p) - {p.stem} for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert {"evaluators", "ray_evaluator"} <= set(graph)
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            assert state.get(target) != "open", f"import loop: {' -> '.join([*path, module, target])}"
            if target not in state:
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
