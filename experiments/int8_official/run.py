"""int8 on the official IMDN / RFDN checkpoints: PTQ w8a8, QAT w8a8, QAT w4a4, measured in onnxruntime.

For each network (IMDN x2, IMDN x4, RFDN_AIM x4, loaded from the authors' files with
`sr_deploy.load_trained`, and the toolkit's ECBSR-M4C16 and SESR-M5 x2 from
experiments/repstack_x2/weights) the driver runs these cells, each a stage of the network's run folder
(`sr_train.RunFolder`: `<network>/stages/<cell>.json`, written last and atomically; the cell's files
in `<network>/<cell>/`), so a killed run resumes at the first unfinished cell. They run phase by
phase (fp32 + the default PTQ of every network, then PTQ of every conv, then sensitivity + plan,
then QAT w8a8, then QAT w4a4):

- fp32: the float network on the test sets, and its fp32 ONNX file;
- ptq_default: `zoo quantize --weights FILE` as documented (`QuantizeRequest` defaults: 128
  calibration crops of 48 LR pixels from the bundled sample photos, the automatic mixed-precision plan
  within 0.1 dB on their held-out quarter; no test set is read before scoring);
- ptq_w8a8: PTQ (percentile, bias correction) on SunHays80 patches, scored as the int8 QCDQ ONNX in
  onnxruntime (integer QLinearConv kernels) on every set, and as the Brevitas fake-quantised torch
  model on Set5 (it runs 3x slower than the float model, so only there);
- sensitivity: one conv quantised at a time (w8a8), PSNR drop on Set5 only;
- plan: when PTQ loses more than the PTQ target on Set5, the fewest most sensitive convs kept float
  that bring Set5 within it (`plan_keep_float`; Set5 is the only set used for tuning);
- ptq_w8a8_mixed: PTQ with that plan (only when the plan keeps convs float);
- qat_w8a8 / qat_w4a4: QAT on SunHays80 patches (with the plan) towards their HR targets,
  validated on held-out SunHays80 patches every `qat_val_every` steps, the best kept;
- kd_w8a8 / kd_w4a4: the same QAT towards the float network's own outputs (distillation,
  `QuantizeRequest(qat_target="teacher")`), so that it learns to reproduce the float network instead
  of fitting the SunHays80 photos. w4a4 has no integer kernel in onnxruntime:
  its QCDQ ONNX (QuantizeLinear -> Clip to 4 bits -> DequantizeLinear) runs float convs on the
  4-bit values, which is what the onnxruntime column measures for it;
- speed (last, all networks): fp32 ONNX vs the w8a8 ONNX files at a 640x360 LR input, interleaved
  rounds, median ratio (`sr_deploy.quant.compare_onnx_speed`), and each file's time per operator
  type from onnxruntime's profiler (`onnx_op_profile`: which ops run as integer kernels, which stay
  float); `--stage speed` re-runs it alone.

Then `results.md` is written from the cells' JSON: beside this file for the full run (the cells,
ONNX files and QAT checkpoints stay in results/, not committed), in the output folder otherwise.
`--quick` is a smoke run (IMDN x4 only, Set5, a few patches and steps, three convs in the
sensitivity table) into its own folder. Run with OMP_NUM_THREADS=1 to measure on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from tables import write_report as write_results_md

from sr_data import (
    find_datasets_root,
    find_weights_root,
    open_test_sets,
    open_training_images,
    write_text_atomic,
)
from sr_deploy import load_trained
from sr_deploy.onnx_export import export_onnx_checked
from sr_deploy.quant import (
    QuantizeRequest,
    compare_onnx_speed,
    evaluate_onnx,
    int8_report,
    layer_sensitivity,
    onnx_op_profile,
    plan_keep_float,
    quantize_model,
    sensitivity_markdown,
)
from sr_deploy.quant.checkpoint import training_patches
from sr_deploy.quant.sensitivity import LayerSensitivity, conv_names
from sr_deploy.ship import benchmark
from sr_eval import profile
from sr_train import RunFolder

HERE = Path(__file__).resolve().parent
NETWORKS = {"imdn_x2": "IMDN_x2.pth", "imdn_x4": "IMDN_x4.pth", "rfdn_x4": "RFDN_AIM.pth"}  # the authors'
TOOLKIT = HERE.parent / "repstack_x2" / "weights"  # the toolkit's own trained x2 networks
NETWORKS.update(ecbsr_m4c16="ecbsr_m4c16.pt", sesr_m5_x2="sesr_m5.pt")
OWN = ("ecbsr_m4c16", "sesr_m5_x2")
TARGETS_DB = {"ptq": 0.15, "qat_w8a8": 0.05, "qat_w4a4": 0.5}
SPEED_TARGET = 1.5
TUNING_SET = "Set5"
STAGES = ("all", "cells", "speed", "report")


@dataclass(frozen=True)
class Budget:
    """The sizes of one run (the full one or `--quick`)."""

    networks: tuple[str, ...]
    sets: tuple[str, ...]
    calibration_patches: int
    sensitivity_patches: int  # calibration patches for each one-conv PTQ of the sensitivity table
    calibration_patch_size: int
    patch_size: int
    batch_size: int
    qat_steps: int
    qat_val_every: int
    qat_lr_w8a8: float
    qat_lr_w4a4: float
    sensitivity_convs: int | None  # None: every conv
    speed_rounds: int
    speed_shape: tuple[int, int, int, int]
    default_calibration: int  # patches of the default cell (`zoo quantize`'s default calibration: 128)


FULL = Budget(
    networks=tuple(NETWORKS),
    sets=("Set5", "Set14", "BSD68"),
    calibration_patches=64,
    sensitivity_patches=16,
    calibration_patch_size=192,
    patch_size=64,
    batch_size=16,
    qat_steps=120,
    qat_val_every=40,
    qat_lr_w8a8=2e-5,
    qat_lr_w4a4=1e-4,
    sensitivity_convs=None,
    speed_rounds=5,
    speed_shape=(1, 3, 360, 640),
    default_calibration=QuantizeRequest.calibration_patches,
)
QUICK = replace(
    FULL,
    networks=("imdn_x4",),
    sets=("Set5",),
    calibration_patches=16,
    sensitivity_patches=8,
    qat_steps=2,
    qat_val_every=1,
    sensitivity_convs=3,
    speed_rounds=1,
    speed_shape=(1, 3, 36, 64),
    default_calibration=16,
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


class Network:
    """One official network: the float model, its test sets and calibration patches, and its cells."""

    def __init__(self, key: str, weights: Path, budget: Budget, data: Path, out: Path) -> None:
        self.key, self.weights, self.budget, self.data = key, weights, budget, data
        self.out = out / key
        settings = {k: v for k, v in budget.__dict__.items() if k != "networks"}
        self.folder = RunFolder(self.out).open({**settings, "weights": weights, "data": data})
        self.model, ckpt = load_trained(weights, deployed=True)
        self.scale = ckpt["scale"]
        self.model_name = ckpt["model_name"]
        self.sets = open_test_sets(list(budget.sets), self.scale)
        self.example = self.sets[0][0]["lr"].unsqueeze(0)
        self.cells: dict[str, dict[str, Any]] = {}

    def request(
        self, out: Path, bits: str, qat_steps: int, lr: float, keep_float: list[str], target: str = "hr"
    ) -> QuantizeRequest:
        budget = self.budget
        return QuantizeRequest(
            weights=self.weights,
            out=out,
            data=str(self.data),
            bits=bits,
            qat_steps=qat_steps,
            calibration_patches=budget.calibration_patches,
            calibration_patch_size=budget.calibration_patch_size,
            patch_size=budget.patch_size,
            qat_lr=lr,
            batch_size=budget.batch_size,
            sets=list(budget.sets),
            device="cpu",
            keep_float=keep_float,
            qat_dir=out / "qat" if qat_steps else None,
            qat_val_every=budget.qat_val_every,
            qat_target=target,
        )

    def fp32(self, folder: Path) -> dict[str, Any]:
        table = benchmark(self.model, self.sets, self.scale, folder, "cpu", "torch_fp32")
        onnx = export_onnx_checked(self.model, folder / "model_fp32.onnx", self.example, log)
        return {
            "model": self.model_name,
            "scale": self.scale,
            "weights": str(self.weights),
            "params": profile(self.model, scale=self.scale).params,
            "torch": table.summary,
            "onnx": None if onnx is None else str(onnx.path),
            "onnx_max_abs_diff": None if onnx is None else onnx.max_abs_diff,
        }

    def quantised(self, folder: Path, request: QuantizeRequest) -> dict[str, Any]:
        qmodel, info = quantize_model(self.model, request, self.scale, log)
        report = int8_report(  # the Brevitas model is slow: its fake-quant figure on the tuning set only
            qmodel,
            self.sets[:1],
            self.scale,
            folder,
            stem="torch_fakequant",
            onnx_name="model.onnx",
            example=self.example,
            device="cpu",
            log=log,
        )
        ort_table = evaluate_onnx(folder / "model.onnx", self.sets, self.scale)
        ort_table.save(folder, "onnxruntime")
        log(f"onnxruntime on {folder / 'model.onnx'}:\n{ort_table.to_markdown()}")
        return {
            "bits": request.bits,
            "qat_steps": request.qat_steps,
            "qat_lr": request.qat_lr if request.qat_steps else None,
            "qat_target": request.qat_target if request.qat_steps else None,
            "keep_float": "auto" if request.keep_float is None else list(request.keep_float),
            **info,
            "fakequant": report["benchmarks"],
            "onnxruntime": ort_table.summary,
            **{key: value for key, value in report.items() if key != "benchmarks"},
        }

    def default(self, folder: Path) -> dict[str, Any]:
        """`zoo quantize --weights FILE` as documented: the default calibration (`data` "samples")
        and the automatic mixed-precision plan; only the patch count is the budget's (128 in full)."""
        calibration = self.budget.default_calibration
        request = QuantizeRequest(self.weights, folder, sets=list(self.budget.sets), device="cpu")
        return self.quantised(folder, replace(request, calibration_patches=calibration))

    def calibration(self, count: int | None = None):
        """The calibration patches (LR) `quantize_model` uses, or the first `count` of them."""
        images = open_training_images(str(self.data), self.scale)
        patches = training_patches(
            images, self.budget.calibration_patch_size, self.budget.calibration_patches, 0, False
        )
        return patches.lr[:count]

    def sensitivity(self, folder: Path) -> dict[str, Any]:
        calibration = self.calibration(self.budget.sensitivity_patches)
        tuning = self.sets[0]  # TUNING_SET: the budgets list it first
        only = None
        if self.budget.sensitivity_convs is not None:
            only = conv_names(self.model, calibration)[: self.budget.sensitivity_convs]
        (psnr, ssim), rows = layer_sensitivity(
            self.model, calibration, tuning, self.scale, only=only, log=log
        )
        write_text_atomic(folder / "sensitivity.md", sensitivity_markdown(rows))
        return {
            "tuning_set": TUNING_SET,
            "float_psnr": psnr,
            "float_ssim": ssim,
            "rows": [r.to_dict() for r in rows],
        }

    def plan(self, folder: Path, ptq_drop: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
        if ptq_drop <= TARGETS_DB["ptq"]:
            return {"keep_float": [], "reason": f"PTQ loses {ptq_drop:.3f} dB on {TUNING_SET}: within target"}
        calibration = self.calibration()
        sensitivity = [LayerSensitivity(**row) for row in rows]
        keep, trials = plan_keep_float(
            self.model,
            calibration,
            self.sets[0],  # TUNING_SET
            self.scale,
            sensitivity,
            TARGETS_DB["ptq"],
            log=log,
        )
        best = min(trials, key=lambda trial: trial.drop_db)
        useful = best.drop_db <= TARGETS_DB["ptq"] or trials[0].drop_db - best.drop_db >= 0.05
        return {
            "keep_float": keep if useful else [],
            "reason": (
                f"{len(keep)} conv(s) float: {TUNING_SET} drop {trials[0].drop_db:.3f} -> "
                f"{best.drop_db:.3f} dB"
                if useful
                else f"no plan of up to 8 float convs helps by 0.05 dB (best {best.drop_db:.3f} dB): "
                "none kept"
            ),
            "trials": [trial.to_dict() for trial in trials],
        }

    def cell(self, name: str, work: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
        """The cell's result: `work(<network>/<cell>/)` once, a stage of the network's run folder."""
        if name in self.cells:  # fp32 belongs to two phases
            return self.cells[name]

        def timed() -> dict[str, Any]:
            log(f"{self.key}/{name}: start")
            folder = self.out / name
            folder.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            result = {"cell": name, **work(folder), "seconds": round(time.perf_counter() - start, 1)}
            log(f"{self.key}/{name}: done in {result['seconds']:.0f} s")
            return result

        self.cells[name] = self.folder.stage(name, timed)
        return self.cells[name]

    def ptq_phase(self) -> None:
        """fp32 and PTQ w8a8 with every conv quantised."""
        self.cell("fp32", self.fp32)
        self.cell("ptq_w8a8", lambda f: self.quantised(f, self.request(f, "w8a8", 0, 0, [])))

    def default_phase(self) -> None:
        """fp32 and PTQ as `zoo quantize` does it by default (the automatic plan)."""
        self.cell("fp32", self.fp32)
        self.cell("ptq_default", self.default)

    def plan_phase(self) -> None:
        """Sensitivity on Set5, the plan, and PTQ with the plan when it keeps convs float."""
        rows = self.cell("sensitivity", self.sensitivity)["rows"]
        fp32, ptq = self.cells["fp32"], self.cells["ptq_w8a8"]
        tuning_drop = fp32["torch"][TUNING_SET]["psnr"] - ptq["onnxruntime"][TUNING_SET]["psnr"]
        keep = self.cell("plan", lambda f: self.plan(f, tuning_drop, rows))["keep_float"]
        if keep:
            self.cell("ptq_w8a8_mixed", lambda f: self.quantised(f, self.request(f, "w8a8", 0, 0, keep)))

    def qat_phase(self, bits: str, target: str = "hr") -> None:
        """QAT at `bits` with the plan's float convs, towards the HR patches or the float model."""
        lr = self.budget.qat_lr_w8a8 if bits == "w8a8" else self.budget.qat_lr_w4a4
        plan = self.cells.get("plan") or self.folder.done("plan")
        if plan is None:
            raise SystemExit(f"{self.key}: the plan cell has not run yet: run the earlier phases first")
        keep = plan["keep_float"]
        steps = self.budget.qat_steps
        name = f"{'kd' if target == 'teacher' else 'qat'}_{bits}"
        self.cell(name, lambda f: self.quantised(f, self.request(f, bits, steps, lr, keep, target)))


PHASES = {
    "default": Network.default_phase,
    "ptq": Network.ptq_phase,
    "plan": Network.plan_phase,
    "qat_w8a8": lambda network: network.qat_phase("w8a8"),
    "qat_w4a4": lambda network: network.qat_phase("w4a4"),
    "kd_w8a8": lambda network: network.qat_phase("w8a8", "teacher"),
    "kd_w4a4": lambda network: network.qat_phase("w4a4", "teacher"),
}


def speed_stage(out: Path, budget: Budget, threads: int) -> dict[str, Any]:
    """fp32 ONNX vs every w8a8 ONNX file of every network, interleaved rounds (always re-measured)."""
    results = {}
    for key in budget.networks:
        files = {"fp32": out / key / "fp32" / "model_fp32.onnx"}
        for cell in ("ptq_default", "ptq_w8a8", "ptq_w8a8_mixed", "qat_w8a8", "kd_w8a8"):
            if RunFolder(out / key).done(cell) is not None:
                files[cell] = out / key / cell / "model.onnx"
        missing = [str(path) for path in files.values() if not path.is_file()]
        if missing or len(files) < 2:
            log(f"speed {key}: skipped (missing {', '.join(missing) or 'int8 files'}; run the cells first)")
            continue
        log(
            f"speed {key}: {', '.join(files)} at {budget.speed_shape}, {budget.speed_rounds} rounds, "
            f"{threads} thread(s)"
        )
        results[key] = compare_onnx_speed(files, budget.speed_shape, budget.speed_rounds, threads)
        log(f"speed {key}: {results[key]['speedup_vs_fp32']}")
        results[key]["ops"] = {  # where each file's time goes, per operator type
            label: [row.to_dict() for row in onnx_op_profile(path, budget.speed_shape, threads=threads)]
            for label, path in files.items()
        }
    measured = {"threads": threads, "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "networks": results}
    write_json(out / "speed.json", measured)
    return measured


def write_report(out: Path, budget: Budget, command: str, report: Path) -> None:
    header = [
        "# int8 on the official IMDN / RFDN checkpoints and the toolkit's ECBSR-M4C16 / SESR-M5",
        "",
        f"Last written by `{command}` (the cells come from `python experiments/int8_official/run.py`); "
        f"cells in `{out.name}/<network>/<cell>/`.",
        f"Calibration and QAT data: SunHays80 photos, {budget.calibration_patches} calibration patches of "
        f"{budget.calibration_patch_size} px (HR); QAT {budget.qat_steps} steps of {budget.batch_size} "
        f"patches of {budget.patch_size} px "
        f"(lr {budget.qat_lr_w8a8:g} at w8a8, {budget.qat_lr_w4a4:g} at w4a4), validated every "
        f"{budget.qat_val_every} steps on 64 held-out SunHays80 patches of {budget.patch_size} px, "
        "best kept. One CPU thread "
        f"(OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}). Targets: PTQ <= "
        f"{TARGETS_DB['ptq']} dB, QAT w8a8 <= {TARGETS_DB['qat_w8a8']} dB, "
        f"QAT w4a4 <= {TARGETS_DB['qat_w4a4']} dB "
        f"on every set (onnxruntime), int8 >= {SPEED_TARGET}x fp32. Only Set5 is used for tuning "
        f"(sensitivity, with the first {budget.sensitivity_patches} calibration patches per one-conv "
        "PTQ, and the mixed-precision plan). The default cell is `zoo quantize --weights FILE` as "
        f"documented: {budget.default_calibration} crops of 48 LR pixels of the bundled sample photos "
        "(`--data samples`), the automatic plan within 0.1 dB on their held-out quarter; it reads no "
        "test set before scoring.",
    ]
    path = write_results_md(out, list(budget.networks), TARGETS_DB, SPEED_TARGET, header, report)
    log(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights-dir", type=Path, help="official checkpoints (default $SR_WEIGHTS, else ../shared/weights)"
    )
    parser.add_argument("--data", type=Path, help="calibration/QAT photos (default <datasets>/SunHays80)")
    parser.add_argument(
        "--out", type=Path, help="results folder (default: results/ or quick/ beside this file)"
    )
    parser.add_argument(
        "--stage", choices=STAGES, default="all", help="all (default), cells, speed or report"
    )
    parser.add_argument("--phases", nargs="+", choices=list(PHASES), help="a subset of the cell phases")
    parser.add_argument("--networks", nargs="+", choices=list(NETWORKS), help="a subset of the networks")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for the speed stage (1)")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: IMDN x4, Set5, a few patches and steps"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    budget = QUICK if args.quick else FULL
    if args.networks:
        budget = replace(budget, networks=tuple(args.networks))
    weights_dir = args.weights_dir or find_weights_root() or Path("../shared/weights")

    def weights(key: str) -> Path:
        return (TOOLKIT if key in OWN and args.weights_dir is None else weights_dir) / NETWORKS[key]

    missing = [str(weights(key)) for key in budget.networks if not weights(key).is_file()]
    if missing:
        raise SystemExit(
            f"official weights not found: {', '.join(missing)} (set --weights-dir or $SR_WEIGHTS)"
        )
    data = args.data or (find_datasets_root() or Path("missing")) / "SunHays80"
    if not data.is_dir():
        raise SystemExit(f"calibration photos not found: {data} (set --data)")
    out = args.out or HERE / ("quick" if args.quick else "results")
    report = out / "results.md" if args.quick or args.out else HERE / "results.md"
    command = "python experiments/int8_official/run.py" + ("" if not argv else " " + " ".join(argv))
    write_json(out / "budget.json", {**budget.__dict__, "data": str(data), "weights_dir": str(weights_dir)})
    if args.stage in ("all", "cells"):
        networks = [Network(key, weights(key), budget, data, out) for key in budget.networks]
        # phase by phase, so that a short run has every network's first figures
        for phase in args.phases or list(PHASES):
            for network in networks:
                PHASES[phase](network)
                write_report(out, budget, command, report)
    if args.stage in ("all", "speed"):
        speed_stage(out, budget, args.threads)
    write_report(out, budget, command, report)


if __name__ == "__main__":
    main()
