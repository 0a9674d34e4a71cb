"""Make tests/fakes.py importable (also by spawned workers, which inherit sys.path); the shared
fixtures of `sr_deploy.testing` the tests here use."""

from __future__ import annotations

import sys
from pathlib import Path

from sr_deploy.testing import drawn  # noqa: F401 (a fixture for the tests here)

sys.path.insert(0, str(Path(__file__).parent))
