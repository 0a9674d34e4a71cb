"""Shared by the tests: ESR_EA's example config, a tiny test set, and one finished run of `esr-ea`."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # esr_ea_runs (also for the scripts the tests start)

from esr_ea_runs import ESR_EA_EXAMPLE, esr_ea, example_tiny_budget  # noqa: E402

from sr_data import SampleImages, write_image  # noqa: E402


@pytest.fixture
def example_file() -> Path:
    """ESR_EA's example YAML (vega's documented snippets joined into one file), as a path."""
    return ESR_EA_EXAMPLE


@pytest.fixture(scope="session")
def tiny_tests(tmp_path_factory) -> Path:
    """A 2-image test folder: crops of the bundled test photos."""
    folder = tmp_path_factory.mktemp("tiny_test")
    photos = SampleImages("test", scale=2)
    for index in range(2):
        hr = photos[index]["hr"]
        top, left = hr.shape[1] // 2, hr.shape[2] // 2
        write_image(folder / f"crop{index}.png", hr[:, top : top + 48, left : left + 40])
    return folder


@pytest.fixture(scope="session")
def finished(tmp_path_factory, tiny_tests) -> tuple[Path, list[str]]:
    """(results folder, arguments) of one whole `esr-ea` run: ESR_EA's example on a tiny budget."""
    root = tmp_path_factory.mktemp("esr")
    args = ["--config", str(ESR_EA_EXAMPLE), "--data", "samples", "--quiet", *example_tiny_budget(tiny_tests)]
    result = esr_ea(*args, "--out", "run", cwd=root)
    assert result.returncode == 0, result.stderr
    return root / "run", args
