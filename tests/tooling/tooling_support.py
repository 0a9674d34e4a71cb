"""Helpers for the tests of the workspace tooling in scripts/: synthetic projects and git histories."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Runs git in repo with a fixed identity and no user configuration; returns stdout."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def commit(repo: Path, message: str) -> str:
    """Commits everything in repo; returns the new commit's hash."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def toml_list(items: list[str]) -> str:
    return json.dumps(items)


def make_project(
    root: Path,
    path: str,
    name: str,
    dependencies: list[str] = (),
    extras: dict[str, list[str]] | None = None,
    version: str = "0.1.0",
    pythons: tuple[str, ...] = ("3.10", "3.11"),
    changelog: str = "# Changelog\n\n## Unreleased\n\n- Something changed.\n",
) -> Path:
    """A minimal hatchling project at root/path: pyproject.toml, src/<module>/version.py, CHANGELOG.md."""
    module = name.replace("-", "_")
    classifiers = [f"Programming Language :: Python :: {v}" for v in pythons]
    extras_toml = "".join(f"{key} = {toml_list(value)}\n" for key, value in (extras or {}).items())
    write(
        root / path / "pyproject.toml",
        f'[project]\nname = "{name}"\ndynamic = ["version"]\nrequires-python = ">=3.10"\n'
        f"classifiers = {toml_list(classifiers)}\n"
        f"dependencies = {toml_list(list(dependencies))}\n\n"
        f"[project.optional-dependencies]\n{extras_toml}\n"
        f'[tool.hatch.version]\npath = "src/{module}/version.py"\n\n'
        f'[tool.hatch.build.targets.wheel]\npackages = ["src/{module}"]\n',
    )
    write(root / path / "src" / module / "__init__.py", "")
    write(root / path / "src" / module / "version.py", f'__version__ = "{version}"\n')
    write(root / path / "CHANGELOG.md", changelog)
    return root / path


def write_layers(root: Path, table: dict[str, list[str]]) -> Path:
    """root/scripts/layers.toml: the siblings each package may import, as check_imports.py reads it."""
    lines = "".join(f"{name} = {toml_list(below)}\n" for name, below in table.items())
    return write(root / "scripts" / "layers.toml", f"[may-import]\n{lines}")


def copy_real_projects(dest: Path) -> list[str]:
    """Copies the pyproject.toml of every project of this repository into dest; returns their folders."""
    copied = []
    for pattern in ("packages/*/pyproject.toml", "apps/*/pyproject.toml"):
        for pyproject in sorted(REPO.glob(pattern)):
            relative = pyproject.relative_to(REPO)
            (dest / relative.parent).mkdir(parents=True)
            shutil.copy2(pyproject, dest / relative)
            copied.append(relative.parent.as_posix())
    return copied


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    """Runs scripts/<name> as CI does: a separate Python process."""
    return subprocess.run([sys.executable, str(SCRIPTS / name), *args], capture_output=True, text=True)
