"""`esr-ea` with a fault of the environment injected into the search (the tests run this as a script).

After `ESR_EA_TEST_TRAININGS_BEFORE_OOM` fast trainings, every further one fails as a GPU that ran
out of memory does (torch.cuda.OutOfMemoryError): sr_search_evo must stop the search without
recording a failed candidate, and the command must say so in one line and exit with status 3.
"""

import os
import sys

import torch

import sr_search_evo.esr_fitness as esr_fitness
from sr_esr_ea.cli import main

TRAININGS_BEFORE_FAULT = int(os.environ["ESR_EA_TEST_TRAININGS_BEFORE_OOM"])
real_training = esr_fitness.train_and_validate
calls = 0


def train_then_run_out_of_memory(*args, **kwargs):
    global calls
    calls += 1
    if calls > TRAININGS_BEFORE_FAULT:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    return real_training(*args, **kwargs)


esr_fitness.train_and_validate = train_then_run_out_of_memory
sys.exit(main())
