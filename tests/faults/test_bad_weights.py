"""Bad or malicious weights files on every command that loads weights: each is refused with one
line naming the file and saying what it holds, exit status 2; nothing in the file runs, nothing is
written, no warning of torch's comes first, and torch's advice to load the file with
weights_only=False (never to be taken for an untrusted file) is never passed on."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from fault_runs import HANG_BOUND_S, environment

from sr_data import write_image

DRIVER = Path(__file__).parent / "weights_entry_points.py"
KINDS = {  # kind of file: words the refusal must hold
    "code in a plain pickle": "a plain Python pickle, not a torch.save file",
    "code in a torch.save file": "holds Python objects besides tensors",
    "code in a legacy torch.save file": "holds Python objects besides tensors",
    "a truncated torch.save file": "truncated",
    "a text file": "not a torch",
}
ENTRY_POINTS = {  # command: its arguments, FILE the weights, OUT a folder it must leave empty
    "sr-eval --model FILE": [
        "sr-eval",
        "--model",
        "FILE",
        "--scale",
        "2",
        "--data",
        "samples",
        "--out",
        "OUT",
    ],
    "sr-eval --weights FILE": [
        "sr-eval",
        "--model",
        "imdn",
        "--weights",
        "FILE",
        "--scale",
        "2",
        "--data",
        "samples",
    ],
    "zoo eval": ["zoo", "eval", "--weights", "FILE", "--sets", "samples", "--out", "OUT"],
    "zoo deploy": ["zoo", "deploy", "--weights", "FILE", "--out", "OUT"],
    "zoo export": ["zoo", "export", "--weights", "FILE", "--out", "OUT/m.onnx"],
    "zoo upscale": ["zoo", "upscale", "IMAGE", "--weights", "FILE", "--out", "OUT", "--quiet"],
    "zoo quantize": ["zoo", "quantize", "--weights", "FILE", "--out", "OUT", "--sets", "samples"],
    "zoo compare": ["zoo", "compare", "--models", "FILE", "--image", "IMAGE", "--out", "OUT/grid.png"],
    "quantnas validate": ["quantnas", "validate", "--weights", "FILE", "--sets", "samples", "--out", "OUT"],
    "sesr --x2_model": ["sesr", "--scale", "4", "--x2_model", "FILE", "--data", "samples", "--out", "OUT"]
    + ["--test_sets", "samples"],
}


class Trap:
    """Unpickled unsafely, it creates the file `marker`: code from the weights file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def bad_files(folder: Path, marker: Path, make_checkpoint) -> dict[str, Path]:
    files = {kind: folder / f"kind{index}.pth" for index, kind in enumerate(KINDS)}
    trap = {"state_dict": {"w": torch.zeros(2)}, "hook": Trap(marker)}
    files["code in a plain pickle"].write_bytes(pickle.dumps(trap))
    torch.save(trap, files["code in a torch.save file"])
    torch.save(trap, files["code in a legacy torch.save file"], _use_new_zipfile_serialization=False)
    files["a truncated torch.save file"].write_bytes(make_checkpoint().read_bytes()[:2000])
    files["a text file"].write_text("these are not weights\n")
    return files


def test_every_entry_point_refuses_every_kind_of_bad_file(tmp_path, make_checkpoint):
    marker, out, image = tmp_path / "code_ran", tmp_path / "out", tmp_path / "photo.png"
    write_image(image, np.full((12, 12, 3), 0.5))
    files = bad_files(tmp_path, marker, make_checkpoint)
    cases = []
    for entry, argv in ENTRY_POINTS.items():
        for kind, path in files.items():
            names = {"FILE": str(path), "OUT": str(out), "IMAGE": str(image)}
            argv = [names.get(a, a.replace("OUT", str(out))) for a in ENTRY_POINTS[entry]]
            cases.append({"case": f"{entry} / {kind}", "argv": argv})
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(tmp_path / "cases.json")],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=HANG_BOUND_S,
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(results) == len(cases)
    wrong = []
    for result, case in zip(results, cases, strict=True):
        kind = case["case"].split(" / ")[1]
        lines = result["stderr"].strip().splitlines()
        line = lines[0] if lines else ""
        if not (
            result["status"] == 2 and len(lines) == 1 and str(files[kind]) in line and KINDS[kind] in line
        ):
            wrong.append((case["case"], result["status"], result["stderr"]))
        elif "weights_only=False" in line or "likely succeed" in line:
            wrong.append((case["case"], "relays torch's advice", line))
    assert wrong == []
    assert not marker.exists(), "code in a weights file ran"
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))
