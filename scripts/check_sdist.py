#!/usr/bin/env python3
"""Checks that source distributions carry what a packager needs: `python scripts/check_sdist.py DIST...`.

Each sdist (a `.tar.gz`, or every one in a folder) must hold its README.md, CHANGELOG.md, LICENSE,
its pyproject.toml and a tests/ folder with at least one test file, so that the tests run from the sdist
alone, as distributions that rebuild from sdists (conda-forge, Debian) do.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path

REQUIRED_FILES = ("README.md", "CHANGELOG.md", "LICENSE", "pyproject.toml", "PKG-INFO")


def missing(sdist: Path) -> list[str]:
    """What `sdist` lacks of REQUIRED_FILES and tests/test_*.py."""
    with tarfile.open(sdist, "r:gz") as archive:
        names = archive.getnames()
    inside = {name.split("/", 1)[1] for name in names if "/" in name}
    lacks = [name for name in REQUIRED_FILES if name not in inside]
    if not any(name.startswith("tests/") and name.rsplit("/", 1)[-1].startswith("test_") for name in inside):
        lacks.append("tests/test_*.py")
    return lacks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="check_sdist.py")
    parser.add_argument("dist", nargs="+", type=Path, help="sdist files or folders holding them")
    args = parser.parse_args(argv)
    sdists = sorted(p for d in args.dist for p in (d.glob("*.tar.gz") if d.is_dir() else [d]))
    if not sdists:
        print(f"check_sdist.py: no .tar.gz in {' '.join(map(str, args.dist))}", file=sys.stderr)
        return 1
    failed = 0
    for sdist in sdists:
        try:
            lacks = missing(sdist)
        except (OSError, tarfile.TarError) as exc:
            lacks = [f"a readable archive ({exc})"]
        if lacks:
            failed += 1
            print(f"{sdist}: lacks {', '.join(lacks)}")
    if failed:
        print(f"{failed} of {len(sdists)} sdists lack files")
        return 1
    print(f"sdists: {len(sdists)} carry README.md, CHANGELOG.md, LICENSE and their tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
