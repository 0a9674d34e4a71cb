"""The fault suite: faults of the machine and of the user, through the real commands (subprocesses,
tiny budgets). fault_runs.py runs the commands; inject/sitecustomize.py injects the faults."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # fault_runs
