"""scripts/check_imports.py and scripts/check_sdist.py on synthetic projects and archives."""

import io
import tarfile
from pathlib import Path

import check_imports
import check_sdist
from tooling_support import make_project, write


def test_an_import_of_a_sibling_that_is_not_required_is_reported(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low")
    make_project(tmp_path, "packages/high", "high", extras={"test": ["low>=0.1,<0.2"]})
    make_project(tmp_path, "packages/other", "other")
    write(tmp_path / "packages/high/src/high/core.py", "import os\nfrom low.kernels import fuse\n")
    write(tmp_path / "packages/high/tests/test_core.py", "import low\nimport high\n")
    write(tmp_path / "packages/other/src/other/use.py", "\n\ndef f():\n    from high import core\n")
    assert check_imports.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "packages/other/src/other/use.py:4: imports high, "
        "but packages/other/pyproject.toml does not require high",
        "1 import(s) of siblings that are not required",
    ]


def test_required_siblings_and_own_modules_pass(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low")
    make_project(tmp_path, "apps/app", "app", dependencies=["low>=0.1,<0.2"])
    write(
        tmp_path / "apps/app/src/app/cli.py",
        "from app import version\nfrom low import thing\nfrom . import x\n",
    )
    assert check_imports.main(["--root", str(tmp_path)]) == 0
    assert "2 projects import only the siblings they require" in capsys.readouterr().out


def make_sdist(path: Path, members: list[str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name in members:
            info = tarfile.TarInfo(f"pkg-0.1.0/{name}")
            info.size = 1
            archive.addfile(info, io.BytesIO(b"x"))
    return path


def test_an_sdist_without_tests_or_changelog_is_reported(tmp_path: Path, capsys) -> None:
    complete = [
        "PKG-INFO",
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "src/pkg/__init__.py",
        "tests/test_a.py",
    ]
    make_sdist(tmp_path / "good-0.1.0.tar.gz", complete)
    assert check_sdist.main([str(tmp_path)]) == 0
    assert "sdists: 1 carry" in capsys.readouterr().out
    make_sdist(
        tmp_path / "bad-0.1.0.tar.gz", ["PKG-INFO", "pyproject.toml", "README.md", "tests/conftest.py"]
    )
    assert check_sdist.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "bad-0.1.0.tar.gz: lacks CHANGELOG.md, tests/test_*.py" in out and "1 of 2 sdists" in out
    assert check_sdist.main([str(tmp_path / "empty")]) == 1
