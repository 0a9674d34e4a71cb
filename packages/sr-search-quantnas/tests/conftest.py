"""Fixtures of the supernet, network and genotype tests: the QuantNAS reference's genotypes and a
tiny search space."""

from __future__ import annotations

import warnings

import pytest

from sr_deploy.testing import drawn  # noqa: F401 (a fixture for the tests here)
from sr_search_quantnas.settings import REFERENCE_PRIMITIVES

warnings.filterwarnings("ignore", module="brevitas")

# The genotype printed in the QuantNAS reference's README (2022).
REFERENCE_GENOTYPE = """Genotype_SR(
    head=[('simple_5x5_grouped_3', 8), ('simple_3x3', 8)],
    body=[('simple_1x1_grouped_3', 2), ('simple_1x1', 2)],
    tail=[],
    skip=[('decenc_3x3_2', 2)],
    upsample=[('simple_3x3_grouped_3', 8)]
)"""

# The reference's later per-cell format (genotype_example_sr.gen, 2023).
NESTED_GENOTYPE = """Genotype_SR(
    body=[
        [('simple_3x3', 32), ('simple_3x3', 32)],
        [('simple_3x3', 32), ('simple_3x3', 32)],
    ],
    tail=[('simple_3x3', 32)],
    skip=[
        [('simple_1x1', 32)],
        [('simple_1x1', 32)],
    ],
    upsample=[('simple_3x3', 32)])
"""


@pytest.fixture
def reference_genotype_text() -> str:
    return REFERENCE_GENOTYPE


@pytest.fixture
def nested_genotype_text() -> str:
    return NESTED_GENOTYPE


@pytest.fixture
def reference_primitives() -> dict[str, list[str]]:
    return {block: list(ops) for block, ops in REFERENCE_PRIMITIVES.items()}
