"""Faults the fault suite injects into the toolkit's real commands, chosen by environment variables
(a process started without them runs unchanged). Python imports this module at start-up in every
process whose PYTHONPATH holds this folder: the command and the workers it spawns.

SR_FAULT_WORKER_IMPORT=MODULE
    a process-pool worker (a child that multiprocessing spawned) cannot import MODULE, as when the
    workers' environment differs from the command's;
SR_FAULT_HOST_OOM_AFTER=N
    after N fast trainings of a search in a process, each further one asks for more host memory
    than there is: torch's own CPU allocator error, raised by a real allocation.
"""

import os
import sys


class _RefuseImport:
    """A meta path finder that makes `import NAME` (and its submodules) fail."""

    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(self, fullname, path=None, target=None):
        if fullname == self.name or fullname.startswith(self.name + "."):
            raise ImportError(f"No module named {fullname!r} (refused by the fault suite)", name=fullname)
        return None


def _exhaust_host_memory_after(trainings: int) -> None:
    import torch

    import sr_search_evo.esr_fitness as esr_fitness

    real = esr_fitness.train_and_validate
    done = []

    def train_or_run_out_of_memory(*args, **kwargs):
        done.append(1)
        if len(done) > trainings:
            torch.empty(1 << 62, dtype=torch.uint8)  # 4 EiB: "DefaultCPUAllocator: can't allocate memory"
        return real(*args, **kwargs)

    esr_fitness.train_and_validate = train_or_run_out_of_memory


if os.environ.get("SR_FAULT_WORKER_IMPORT") and "--multiprocessing-fork" in sys.argv:
    sys.meta_path.insert(0, _RefuseImport(os.environ["SR_FAULT_WORKER_IMPORT"]))
if os.environ.get("SR_FAULT_HOST_OOM_AFTER"):
    _exhaust_host_memory_after(int(os.environ["SR_FAULT_HOST_OOM_AFTER"]))
