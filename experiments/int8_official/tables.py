"""results.md from the driver's cells (the stages of each network's run folder): one table per network,
the targets, the sensitivity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sr_data import write_text_atomic
from sr_eval.report import markdown_table
from sr_train import RunFolder

VARIANTS = {
    "ptq_default": "PTQ w8a8, default (automatic plan)",
    "ptq_w8a8": "PTQ w8a8",
    "ptq_w8a8_mixed": "PTQ w8a8, plan",
    "qat_w8a8": "QAT w8a8",
    "qat_w4a4": "QAT w4a4",
    "kd_w8a8": "QAT w8a8, distilled",
    "kd_w4a4": "QAT w4a4, distilled",
}
TARGET_OF = {
    "ptq_default": "ptq",
    "ptq_w8a8": "ptq",
    "ptq_w8a8_mixed": "ptq",
    "qat_w8a8": "qat_w8a8",
    "qat_w4a4": "qat_w4a4",
    "kd_w8a8": "qat_w8a8",
    "kd_w4a4": "qat_w4a4",
}
SENSITIVITY_ROWS = 8
KINDS = ("integer", "conversion", "float")


def _read(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def network_section(folder: Path, targets: dict[str, float]) -> tuple[list[str], list[str]]:
    """(markdown lines, target verdict lines) of one network's finished cells."""
    stages = RunFolder(folder)
    fp32 = stages.done("fp32")
    if fp32 is None:
        return [f"## {folder.name}", "", "not run yet", ""], []
    sets = list(fp32["torch"])
    lines = [
        f"## {folder.name}: `{fp32['model']}` x{fp32['scale']}, {fp32['params']:,} parameters",
        "",
        "PSNR / SSIM on Y (crop = scale); onnxruntime runs the ONNX file, fake-quant is the Brevitas "
        "torch model; drops against fp32 torch.",
        "",
    ]
    header = ["variant", "float convs", *(f"{name} onnxruntime (drop)" for name in sets)]
    header += ["fake-quant drop (Set5)", "QAT s"]
    table = [["fp32", "all", *(_cell(fp32["torch"][name]) for name in sets), "", ""]]
    verdicts = []
    for key, label in VARIANTS.items():
        cell = stages.done(key)
        if cell is None:
            continue
        ort = [fp32["torch"][name]["psnr"] - cell["onnxruntime"][name]["psnr"] for name in sets]
        fake = [fp32["torch"][name]["psnr"] - cell["fakequant"][name]["psnr"] for name in cell["fakequant"]]
        cells = [
            f"{_cell(cell['onnxruntime'][name])} ({drop:+.3f})" for name, drop in zip(sets, ort, strict=True)
        ]
        qat_seconds = f"{cell['qat_seconds']:.0f}" if cell.get("qat_seconds") else ""
        fakes = " / ".join(f"{d:+.3f}" for d in fake)
        table.append([label, len(cell["float_convs"]), *cells, fakes, qat_seconds])
        target = targets[TARGET_OF[key]]
        worst = max(ort)
        verdicts.append(
            f"- {folder.name} {label}: worst onnxruntime drop {worst:.3f} dB "
            f"({'meets' if worst <= target else 'MISSES'} the {target} dB target)"
        )
    lines += markdown_table(header, table, align="lr" + "l" * len(sets) + "lr").splitlines()
    default = stages.done("ptq_default")
    if default is not None and "mixed_plan_summary" in default:
        first, *kept = default["mixed_plan_summary"].splitlines()
        lines += ["", f"Default (`zoo quantize` as documented): {first}."]
        lines += [f"- {line.strip()}" for line in kept]
    plan = stages.done("plan")
    if plan is not None:
        lines += ["", f"Mixed-precision plan (tuned on Set5 only): {plan['reason']}."]
        if plan["keep_float"]:
            lines.append("Kept float: " + ", ".join(f"`{name}`" for name in plan["keep_float"]) + ".")
        for trial in plan.get("trials", []):
            lines.append(
                f"- {len(trial['keep_float'])} float: Set5 fake-quant drop {trial['drop_db']:+.3f} dB"
            )
    sensitivity = stages.done("sensitivity")
    if sensitivity is not None:
        rows = sorted(sensitivity["rows"], key=lambda row: -row["drop_db"])[:SENSITIVITY_ROWS]
        lines += [
            "",
            f"Per-conv sensitivity (w8a8, one conv quantised at a time, fake-quant drop on "
            f"{sensitivity['tuning_set']}; the {len(rows)} most sensitive of {len(sensitivity['rows'])}):",
            "",
        ]
        cells = [[f"`{r['name']}`", r["order"], r["shape"], f"{r['drop_db']:+.4f}"] for r in rows]
        lines += markdown_table(["conv", "order", "shape", "PSNR drop (dB)"], cells, "lrlr").splitlines()
    return lines + [""], verdicts


def speed_lines(speed: dict[str, Any] | None, target: float) -> tuple[list[str], list[str]]:
    """The speed table and its verdicts (on CPU time: see the table's note)."""
    if not speed or not speed.get("networks"):
        return ["## onnxruntime CPU speed", "", "not measured yet", ""], []
    first = next(iter(speed["networks"].values()))
    shape = "x".join(str(side) for side in first["input_shape"][2:][::-1])
    lines = [
        "## onnxruntime CPU speed",
        "",
        f"LR input {shape} (W x H), {speed['threads']} intra-op thread(s), {first['rounds']} interleaved "
        "rounds after one warm-up run; speed-up = median over rounds of fp32 time / int8 time, from the "
        "process's CPU time (which a busy shared machine does not inflate) and from wall-clock time.",
        "",
    ]
    table, verdicts = [], []
    for key, result in speed["networks"].items():
        for label, seconds in result["median_seconds"].items():
            cpu_ratio, wall_ratio = result["cpu_speedup_vs_fp32"][label], result["speedup_vs_fp32"][label]
            cpu_seconds = f"{result['median_cpu_seconds'][label]:.3f}"
            ratios = [f"{cpu_ratio:.2f}x", f"{wall_ratio:.2f}x"]
            table.append([key, label, cpu_seconds, f"{seconds:.3f}", *ratios])
            if label != "fp32":
                verdict = "meets" if cpu_ratio >= target else "MISSES"
                verdicts.append(
                    f"- {key} {label} speed: {cpu_ratio:.2f}x by CPU time, {wall_ratio:.2f}x wall "
                    f"({verdict} the {target}x target)"
                )
    header = ["network", "file", "median CPU s", "median wall s", "speed-up (CPU time)", "speed-up (wall)"]
    lines += markdown_table(header, table, "llrrrr").splitlines() + [""]
    return lines + op_lines(speed["networks"]), verdicts


def op_lines(networks: dict[str, Any]) -> list[str]:
    """Per network, where each file's time goes by operator kind, and the int8 files' float ops."""
    lines = [
        "## Where the time goes",
        "",
        "onnxruntime's profiler, same input and thread count, median of 3 runs after a warm-up: summed "
        "node time per kind (integer kernels, Quantize/DequantizeLinear, float ops) and the float "
        "operators of each int8 file that take 2% of its time or more.",
        "",
    ]
    table = []
    for key, result in networks.items():
        for label, rows in result.get("ops", {}).items():
            kinds = {kind: sum(r["ms"] for r in rows if r["kind"] == kind) for kind in KINDS}
            slow = [r for r in rows if r["kind"] == "float" and r["share"] >= 0.02] if label != "fp32" else []
            named = ", ".join(f"{r['op_type']} x{r['nodes']} {r['ms']:.0f} ms" for r in slow)
            table.append([key, label, *(f"{kinds[kind]:.0f}" for kind in KINDS), named])
    header = ["network", "file", *(f"{kind} ms" for kind in KINDS), "float ops >= 2%"]
    return lines + markdown_table(header, table, "llrrrl").splitlines() + [""]


def write_report(
    out: Path,
    networks: list[str],
    targets: dict[str, float],
    speed_target: float,
    header: list[str],
    path: Path,
) -> Path:
    """Write the markdown report of the cells found under `out` to `path`; returns it."""
    body, verdicts = [], []
    for key in networks:
        lines, found = network_section(out / key, targets)
        body += lines
        verdicts += found
    lines, found = speed_lines(_read(out / "speed.json"), speed_target)
    body += lines
    verdicts += found
    text = "\n".join([*header, "", "## Targets", "", *(verdicts or ["- no cell finished yet"]), "", *body])
    write_text_atomic(path, text.rstrip() + "\n")
    return path


def _cell(summary: dict[str, float]) -> str:
    return f"{summary['psnr']:.2f} / {summary['ssim']:.4f}"
