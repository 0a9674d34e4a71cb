"""scripts/check_imports.py and scripts/check_sdist.py on synthetic projects and archives."""

import io
import shutil
import tarfile
from pathlib import Path

import check_imports
import check_sdist
from tooling_support import REPO, copy_real_projects, make_project, write, write_layers


def test_an_import_of_a_sibling_that_is_not_required_is_reported(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low")
    make_project(tmp_path, "packages/high", "high", extras={"test": ["low>=0.1,<0.2"]})
    make_project(tmp_path, "packages/other", "other")
    write(tmp_path / "packages/high/src/high/core.py", "import os\nfrom low.kernels import fuse\n")
    write(tmp_path / "packages/high/tests/test_core.py", "import low\nimport high\n")
    write(tmp_path / "packages/other/src/other/use.py", "\n\ndef f():\n    from high import core\n")
    write_layers(tmp_path, {"low": [], "high": ["low"], "other": ["low", "high"]})
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
    write_layers(tmp_path, {"low": []})
    assert check_imports.main(["--root", str(tmp_path)]) == 0
    assert "2 projects import down the layers and only the siblings they require" in capsys.readouterr().out


def test_an_upward_import_is_reported_by_the_repositorys_own_layer_table(tmp_path: Path, capsys) -> None:
    copy_real_projects(tmp_path)
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "layers.toml", tmp_path / "scripts" / "layers.toml")
    write(tmp_path / "packages/sr-eval/src/sr_eval/fine.py", "from sr_data import read_image\n")
    write(tmp_path / "packages/sr-eval/src/sr_eval/upward.py", "import torch\nfrom sr_train import Trainer\n")
    write(tmp_path / "packages/sr-search-evo/src/sr_search_evo/side.py", "import sr_search_quantnas\n")
    assert check_imports.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "packages/sr-eval/src/sr_eval/upward.py:2: imports sr_train, "
        "but scripts/layers.toml puts sr-train above sr-eval",
        "packages/sr-search-evo/src/sr_search_evo/side.py:1: imports sr_search_quantnas, "
        "but scripts/layers.toml puts sr-search-quantnas above sr-search-evo",
    ]
    assert "2 import(s) against the layers of scripts/layers.toml" in out
    assert not any("fine.py" in line for line in out)


def test_a_declared_requirement_does_not_make_an_upward_import_legal(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low", dependencies=["high>=0.1,<0.2"])
    make_project(tmp_path, "packages/high", "high")
    write(tmp_path / "packages/low/src/low/core.py", "from high import thing\n")
    write(tmp_path / "packages/low/tests/test_core.py", "import high\n")  # tests/ follow the requirements
    write_layers(tmp_path, {"low": [], "high": ["low"]})
    assert check_imports.main(["--root", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "packages/low/src/low/core.py:1: imports high, but scripts/layers.toml puts high above low",
        "1 import(s) against the layers of scripts/layers.toml",
    ]


def test_apps_import_no_other_app_and_every_package_has_a_layer(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low")
    make_project(tmp_path, "packages/new", "new")
    make_project(tmp_path, "apps/one", "one", dependencies=["low>=0.1,<0.2"])
    make_project(tmp_path, "apps/two", "two", dependencies=["one>=0.1,<0.2", "low>=0.1,<0.2"])
    write(tmp_path / "apps/two/src/two/cli.py", "import low\nfrom one.cli import main\n")
    write(tmp_path / "packages/low/src/low/core.py", "import one\n")
    write_layers(tmp_path, {"low": []})
    assert check_imports.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "packages/low/src/low/core.py:1: imports one, but scripts/layers.toml puts an app above low",
        "packages/new: package new has no line in scripts/layers.toml",
        "apps/two/src/two/cli.py:2: imports one, but an app never imports another app",
    ]


def test_a_checkout_without_a_layer_table_is_refused(tmp_path: Path, capsys) -> None:
    make_project(tmp_path, "packages/low", "low")
    assert check_imports.main(["--root", str(tmp_path)]) == 1
    assert "scripts/layers.toml" in capsys.readouterr().err


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
        "LICENSE",
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
    assert "bad-0.1.0.tar.gz: lacks CHANGELOG.md, LICENSE, tests/test_*.py" in out and "1 of 2 sdists" in out
    assert check_sdist.main([str(tmp_path / "empty")]) == 1
