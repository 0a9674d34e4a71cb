"""`onnx_op_profile`: where onnxruntime spends the time of an ONNX file, per operator type.

After its graph optimisations onnxruntime runs the QCDQ file as integer kernels (QLinearConv,
QLinearAdd, ...), conversions (QuantizeLinear / DequantizeLinear) and whatever stayed float
between them; ops that only move data (Split, Transpose, DepthToSpace) run on whichever type
reaches them. Its profiler times every node of every run, with its input types; summed per
operator type and kind, that says which ops remain float and what they cost, and so which rewrite
would pay.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sr_deploy.quant.speed import LR_640x360
from sr_reparam import onnxruntime_session

CONVERSIONS = ("QuantizeLinear", "DequantizeLinear")
INTEGER_TYPES = ("uint8", "int8")


@dataclass(frozen=True)
class OpTime:
    """One operator type of the optimised graph run as one kind: node count and median time per run."""

    op_type: str
    kind: str  # "integer" (a QLinear* kernel, or an op on 8-bit integers), "conversion" (Q / DQ) or "float"
    nodes: int
    ms: float
    share: float  # of the summed node time

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def op_kind(op_type: str, first_input: str = "float") -> str:
    """ "integer", "conversion" or "float" for an onnxruntime operator type whose first input has
    the element type `first_input` (as the profiler writes it: "float", "uint8", ...)."""
    if op_type.startswith("QLinear") or op_type in ("ConvInteger", "MatMulInteger", "QGemm"):
        return "integer"
    if op_type in CONVERSIONS:
        return "conversion"
    return "integer" if first_input in INTEGER_TYPES else "float"


def onnx_op_profile(
    path: str | os.PathLike, input_shape: Sequence[int] = LR_640x360, runs: int = 3, threads: int = 1
) -> list[OpTime]:
    """Per operator type, the median over `runs` timed runs (after one warm-up) of the summed node
    time onnxruntime's profiler records for a random input of `input_shape`; slowest first."""
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    with tempfile.TemporaryDirectory(prefix="ort-profile-") as scratch:
        session = onnxruntime_session(path, threads, profile_prefix=Path(scratch) / "profile")
        x = np.random.default_rng(0).random(tuple(input_shape), dtype=np.float32)
        feed = {session.get_inputs()[0].name: x}
        for _ in range(runs + 1):
            session.run(None, feed)
        events = json.loads(Path(session.end_profiling()).read_text())
    return summarise(events, runs + 1)


def summarise(events: list[dict[str, Any]], run_count: int) -> list[OpTime]:
    """`OpTime` rows from onnxruntime profiler events of `run_count` runs (the first is not counted),
    one per operator type and kind."""
    starts = sorted(e["ts"] for e in events if e.get("cat") == "Session" and e.get("name") == "model_run")
    if len(starts) != run_count:
        raise ValueError(f"the profile holds {len(starts)} runs, expected {run_count}")
    per_run: list[dict[tuple[str, str], float]] = [{} for _ in starts]
    nodes: dict[tuple[str, str], set[str]] = {}
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        args = event["args"]
        inputs = args.get("input_type_shape") or [{}]
        op = (args["op_name"], op_kind(args["op_name"], next(iter(inputs[0]), "float")))
        index = int(np.searchsorted(starts, event["ts"], side="right")) - 1
        per_run[index][op] = per_run[index].get(op, 0.0) + event["dur"] / 1e3
        nodes.setdefault(op, set()).add(event["name"])
    timed = per_run[1:]
    medians = {op: float(np.median([run.get(op, 0.0) for run in timed])) for op in nodes}
    total = sum(medians.values()) or 1.0
    rows = [OpTime(*op, len(nodes[op]), ms, ms / total) for op, ms in medians.items()]
    return sorted(rows, key=lambda row: -row.ms)


def op_profile_markdown(rows: Sequence[OpTime]) -> str:
    """The profile as a markdown table, with the summed time of each kind."""
    lines = ["| op | kind | nodes | ms per run | share |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r.op_type} | {r.kind} | {r.nodes} | {r.ms:.1f} | {100 * r.share:.1f}% |" for r in rows]
    kinds = {kind: sum(r.ms for r in rows if r.kind == kind) for kind in ("integer", "conversion", "float")}
    lines.append("")
    lines.append("; ".join(f"{kind}: {ms:.1f} ms" for kind, ms in kinds.items()))
    return "\n".join(lines) + "\n"
