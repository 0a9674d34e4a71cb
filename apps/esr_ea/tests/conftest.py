"""The seed's example config, shared by the tests."""

from pathlib import Path

import pytest


@pytest.fixture
def seed_file() -> Path:
    """Seed 000's example YAML (its snippets joined into one file), as a path."""
    return Path(__file__).parent / "seed_example.yaml"
