"""int8 with and without quantisers between the convs (`ptq(..., quantize_between=True)`), measured
where it matters: the QCDQ ONNX file in onnxruntime on one CPU thread.

For ECBSR-M4C16 x2 (experiments/repstack_x2/weights) and the authors' IMDN x2 (../shared/weights),
PTQ on SunHays80 crops (or the bundled sample photos: `--data samples`; never a test set) of every
conv and with the automatic mixed-precision plan, each with the option off and on: Set5 PSNR of the
int8 file against the fp32 file (Y, crop = scale), its agreement with the Brevitas model,
onnxruntime's time per operator type at a 640x360 LR input (`onnx_op_profile`: which ops stay float
and what they cost) and the int8 / fp32 speed-up in interleaved rounds (`compare_onnx_speed`, CPU
time: the median of the per-round ratios, and the ratio of the fastest rounds). The second command
is the documented default (`zoo quantize`'s calibration: 128 crops of 48 LR pixels of the sample
photos, the automatic plan), then the same float convs with the option.

    OMP_NUM_THREADS=1 python benchmarks/int8_between.py --out /tmp/int8_between
    OMP_NUM_THREADS=1 python benchmarks/int8_between.py --out /tmp/int8_between_default \
        --networks imdn_x2 --data samples --patches 128 --patch-size 96 \
        --variants plan "plan's float convs, between"
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from sr_data import find_datasets_root, find_weights_root, open_test_sets, open_training_images
from sr_deploy import load_trained
from sr_deploy.onnx_export import export_onnx_checked
from sr_deploy.quant import (
    LR_640x360,
    compare_onnx_speed,
    evaluate_onnx,
    export_onnx_int8,
    float_convs,
    onnx_int8_agreement,
    onnx_op_profile,
    op_profile_markdown,
    ptq,
)
from sr_deploy.quant.checkpoint import training_patches

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {  # label: ptq keyword arguments, given the rows measured before it
    "every conv": lambda rows: {"keep_float": ()},
    "every conv, between": lambda rows: {"keep_float": (), "quantize_between": True},
    "plan": lambda rows: {},
    "plan, between": lambda rows: {"quantize_between": True},
    "plan's float convs, between": lambda rows: {
        "keep_float": rows["plan"]["float_convs"],
        "quantize_between": True,
    },
}


def weights(network: str) -> Path:
    if network == "ecbsr_m4c16":
        return REPO / "experiments" / "repstack_x2" / "weights" / "ecbsr_m4c16.pt"
    root = find_weights_root()
    if root is None:
        raise SystemExit("the authors' checkpoints were not found: set SR_WEIGHTS")
    return root / "IMDN_x2.pth"


def measure(network: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every variant of one network: its files, PSNR drops, profiles and speed-ups."""
    model, checkpoint = load_trained(weights(network), deployed=True)
    scale = checkpoint["scale"]
    data = args.data if args.data == "samples" else str(find_datasets_root() / args.data)
    calibration_photos = open_training_images(data, scale)
    patches = training_patches(calibration_photos, args.patch_size, args.patches, 0, False)
    set5 = open_test_sets(["Set5"], scale)
    example = set5[0][0]["lr"].unsqueeze(0)
    files = {"fp32": export_onnx_checked(model, out / "fp32.onnx", example, print).path}
    rows: dict[str, Any] = {"fp32": {"set5_psnr": evaluate_onnx(files["fp32"], set5, scale).summary}}
    for label in args.variants:
        options = VARIANTS[label](rows)
        torch.manual_seed(0)
        qmodel = ptq(model, patches if "keep_float" not in options else patches.lr, **options)
        path = export_onnx_int8(qmodel, out / f"{label.replace(', ', '_').replace(' ', '_')}.onnx", example)
        files[label] = path
        rows[label] = {
            "float_convs": float_convs(qmodel),
            "plan": qmodel.mixed_plan.to_dict() if hasattr(qmodel, "mixed_plan") else None,
            "set5_psnr": evaluate_onnx(path, set5, scale).summary,
            "agreement": onnx_int8_agreement(qmodel, path, example),
        }
        print(f"{network} {label}: {rows[label]}", flush=True)
    for label, path in files.items():
        profile = onnx_op_profile(path, LR_640x360, runs=3)
        rows[label]["profile"] = [row.to_dict() for row in profile]
        print(f"{network} {label}\n{op_profile_markdown(profile)}", flush=True)
    speed = compare_onnx_speed(files, LR_640x360, rounds=args.rounds)
    cpu = speed["cpu_seconds"]
    for label in files:
        rows[label]["cpu_seconds"] = cpu[label]
        rows[label]["speedup_median"] = speed["cpu_speedup_vs_fp32"][label]
        rows[label]["speedup_fastest"] = min(cpu["fp32"]) / min(cpu[label])
    return rows


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """One line per network and variant: Set5 drop, agreement, speed-up and the float ops' time."""
    lines = [
        "| network | int8 | float convs | Set5 drop (dB) | vs Brevitas mean / max (1/255) "
        "| int8 / fp32, median (fastest rounds) | conversions ms | float ops ms (the largest) |",
        "|---|---|---:|---:|---|---|---:|---|",
    ]
    for network, rows in results.items():
        reference = rows["fp32"]["set5_psnr"]["Set5"]["psnr"]
        for label, row in rows.items():
            if label == "fp32":
                continue
            profile = row["profile"]
            conversions = sum(op["ms"] for op in profile if op["kind"] == "conversion")
            floats = [op for op in profile if op["kind"] == "float"]
            top = ", ".join(f"{op['op_type']} x{op['nodes']} {op['ms']:.0f}" for op in floats[:4])
            agreement = row["agreement"]
            lines.append(
                f"| {network} | {label} | {len(row['float_convs'])} "
                f"| {reference - row['set5_psnr']['Set5']['psnr']:.3f} "
                f"| {agreement['mean_diff_255']:.2f} / {agreement['max_diff_255']:.1f} "
                f"| {row['speedup_median']:.2f}x ({row['speedup_fastest']:.2f}x) | {conversions:.0f} "
                f"| {sum(op['ms'] for op in floats):.0f} ({top}) |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=["ecbsr_m4c16", "imdn_x2"])
    parser.add_argument("--out", type=Path, required=True, help="folder for the ONNX files and results")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    data_help = "calibration photos: a folder of the datasets root, or samples (the bundled photos)"
    parser.add_argument("--data", default="SunHays80", help=data_help)
    parser.add_argument("--patches", type=int, default=64, help="calibration crops")
    parser.add_argument("--patch-size", type=int, default=192, help="HR side of a calibration crop")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    args = parser.parse_args()
    if "plan's float convs, between" in args.variants and "plan" not in args.variants:
        parser.error('the variant "plan\'s float convs, between" needs the variant plan before it')
    results = {}
    for network in args.networks:
        (args.out / network).mkdir(parents=True, exist_ok=True)
        results[network] = measure(network, args.out / network, args)
        (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = markdown(results)
    (args.out / "results.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
