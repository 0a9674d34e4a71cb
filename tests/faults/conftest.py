"""The fault suite: faults of the machine and of the user, through the real commands (subprocesses,
tiny budgets). fault_runs.py runs the commands; inject/sitecustomize.py injects the faults."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # fault_runs

from sr_deploy.testing import make_checkpoint  # noqa: E402, F401 (a fixture)
