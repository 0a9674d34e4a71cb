"""Run each command that loads weights on each given file, in this one interpreter (the fault
suite starts it as a subprocess: one torch import for the whole matrix, not one per case).

Usage: python weights_entry_points.py CASES.json -> one JSON line per case on stdout:
{"case": ..., "status": exit status, "stderr": what the command wrote to stderr}. Every
UserWarning is shown each time it is raised (not once per process), so none can hide.
"""

import contextlib
import io
import json
import sys
import warnings

from sr_eval.cli import main as sr_eval
from sr_quantnas.cli import main as quantnas
from sr_sesr.cli import main as sesr
from sr_zoo.cli import main as zoo

COMMANDS = {"sr-eval": sr_eval, "zoo": zoo, "quantnas": quantnas, "sesr": sesr}

warnings.simplefilter("always", UserWarning)
for case in json.loads(open(sys.argv[1]).read()):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = COMMANDS[case["argv"][0]](case["argv"][1:])
    print(json.dumps({"case": case["case"], "status": status, "stderr": stderr.getvalue()}), flush=True)
