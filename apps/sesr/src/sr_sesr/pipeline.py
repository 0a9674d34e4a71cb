"""One `sesr` run: train (x4 from x2) -> collapse/deploy -> evaluate -> ONNX -> int8 PTQ (-> QAT).

Results folder ``<out>/x<scale>_models/<run name>/``:
config.yaml (the training settings; a re-run with others is refused), train.log, metrics.jsonl,
last.pt / best.pt (sr_train checkpoints of the expanded weights), transfer.json (x4: what came from
the x2 model), deployed.pt (collapsed network), benchmark.{md,json,csv} (fp32), model.onnx,
int8/ptq_w8a8/ and int8/qat_w<W>a<A>/ (benchmark tables and model_int8.onnx; QAT also its own
checkpoints and log), stages/*.json (finished stages, skipped on a re-run) and results.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from sr_blocks import create_model
from sr_data import write_text_atomic
from sr_deploy import benchmark, deploy_verified, export_onnx_checked, find_weights
from sr_eval import profile, rgb_to_y
from sr_sesr.data import open_run_data
from sr_sesr.int8 import Int8Settings, bits_name, fine_tune, post_training, quantized_report
from sr_sesr.settings import Network, Recipe
from sr_sesr.stages import Stages, plain
from sr_sesr.transfer import check_x2_checkpoint, find_x2_checkpoint, load_x2_weights
from sr_train import (
    Trainer,
    deployed_checkpoint,
    load_checkpoint,
    record_run_settings,
    resolve_device,
    save_checkpoint,
)
from sr_train.runlog import RunLog

MODEL = "sesr"  # the sr_blocks registry name every checkpoint of this app records


@dataclass
class RunRequest:
    """Everything one `sesr` invocation asks for."""

    network: Network = field(default_factory=Network)
    recipe: Recipe = field(default_factory=Recipe)
    data: str = "samples"
    out: Path = Path("logs")
    val: str = "auto"
    test_sets: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])
    x2_model: Path | None = None
    int8: Int8Settings = field(default_factory=Int8Settings)
    quiet: bool = False

    @property
    def run_dir(self) -> Path:
        return self.network.run_dir(self.out)

    def training_settings(self) -> dict[str, Any]:
        """What fixes the trained weights (not where or how fast they are computed)."""
        recipe = {k: v for k, v in self.recipe.to_dict().items() if k not in ("device", "num_workers")}
        return plain(
            {
                "network": vars(self.network),
                "recipe": recipe,
                "data": self.data,
                "val": self.val,
                "x2_model": self.x2_model,
            }
        )


def build_model(network: Network) -> nn.Module:
    """The Y-channel SESR of ``network`` in its training form."""
    return create_model(MODEL, scale=network.scale, **network.model_kwargs())


def run(request: RunRequest) -> dict[str, Any]:
    """Do every stage not done yet and return (and write) results.json's content."""
    return SESRRun(request).run()


class SESRRun:
    """The stages of one run over one results folder (see the module docstring for its files).

    Opening it checks everything that can be refused (data, test sets, the x2 model of an x4 run,
    settings that differ from an earlier run in the folder) before the first file is written.
    """

    def __init__(self, request: RunRequest) -> None:
        self.request = request
        self.network, self.recipe = request.network, request.recipe
        self.run_dir = request.run_dir
        self.data = open_run_data(request.data, self.network.scale, request.val, request.test_sets)
        self.x2_source = None
        if self.network.scale == 4 and not (self.run_dir / "last.pt").exists():
            self.x2_source = find_x2_checkpoint(self.network, request.out, request.x2_model)
            check_x2_checkpoint(load_checkpoint(self.x2_source), self.network, self.x2_source)
        record_run_settings(self.run_dir, request.training_settings())
        self.log = RunLog(self.run_dir, quiet=request.quiet)
        for note in self.data.notes:
            self.log.message(note)
        self.device = resolve_device(self.recipe.device)
        self.stages = Stages(self.run_dir, self.log.message)
        self.cache = request.out / "cache"  # decoded images, shared by the runs under --out
        self.patch_size = self.recipe.hr_patch_size(self.network.scale)
        self.patches_per_epoch = self.recipe.patches_per_epoch(len(self.data.train))
        self.steps_per_epoch = max(1, self.patches_per_epoch // self.recipe.batch_size)
        self.check_input = rgb_to_y(self.data.test[0][0]["lr"]).unsqueeze(0)  # for the ONNX checks

    def run(self) -> dict[str, Any]:
        request, stages, int8 = self.request, self.stages, self.request.int8
        results: dict[str, Any] = {"run": self.run_dir.name, "network": vars(self.network)}
        results["train"] = stages.run("train", request.training_settings(), self.train)
        results["deploy"] = stages.run("deploy", {}, self.deploy)
        deployed = load_deployed(self.run_dir / "deployed.pt", self.network)
        tests = {"test_sets": request.test_sets}
        results["fp32"] = stages.run("evaluate", tests, lambda: self.benchmark(deployed))
        results["onnx"] = stages.run("onnx", {}, lambda: self.export(deployed))
        calibration = {"method": int8.method, "calibration_patches": int8.calibration_patches}
        work = lambda: self.ptq(deployed)  # noqa: E731
        results["int8"] = {"ptq_w8a8": stages.run("ptq_w8a8", {**calibration, **tests}, work)}
        if int8.qat_bits is not None:
            name = bits_name("qat", int8.qat_bits)
            qat = {
                **calibration,
                "bits": int8.qat_bits,
                "epochs": int8.qat_epochs,
                "lr": int8.qat_learning_rate,
            }
            work = lambda: self.qat(deployed, name, qat)  # noqa: E731
            results["int8"][name] = stages.run(name, {**qat, **tests}, work)
        for name, result in stages.recorded("qat_", tests).items():  # variants of earlier invocations
            results["int8"].setdefault(name, result)
        add_deltas(results)
        write_text_atomic(self.run_dir / "results.json", json.dumps(plain(results), indent=2) + "\n")
        self.log.message("fp32 vs quantised (PSNR dB on Y):\n" + comparison_markdown(results))
        return results

    def patches(self) -> Dataset:
        return self.data.patches(self.patch_size, self.patches_per_epoch, self.recipe.seed, self.cache)

    def calibration_inputs(self) -> torch.Tensor:
        count = self.request.int8.calibration_patches
        return self.data.calibration_inputs(self.patch_size, count, self.recipe.seed, self.cache)

    def train(self) -> dict[str, Any]:
        """Train (resuming from last.pt when present); a fresh x4 run starts from the x2 model."""
        torch.manual_seed(self.recipe.seed)
        model = build_model(self.network)
        if self.x2_source is not None:
            transfer = load_x2_weights(model, self.network, self.x2_source)
            record = {"source": str(transfer.source), "copied": transfer.copied, "skipped": transfer.skipped}
            write_text_atomic(self.run_dir / "transfer.json", json.dumps(record, indent=2) + "\n")
            self.log.message(
                f"x4 from x2: {len(transfer.copied)} tensors copied from {transfer.source}; "
                f"the last linear block ({len(transfer.skipped)} tensors) starts fresh"
            )
        config = self.recipe.train_config(
            self.network.scale, self.run_dir, self.steps_per_epoch, not self.request.quiet
        )
        kwargs = self.network.model_kwargs()
        trainer = Trainer(model, self.patches(), self.data.val, config, model_name=MODEL, model_kwargs=kwargs)
        result = trainer.fit()
        trainer.close()
        transfer_file = self.run_dir / "transfer.json"
        return {
            "steps": result.steps,
            "steps_per_epoch": trainer.steps_per_epoch,
            "patches_per_epoch": self.patches_per_epoch,
            "train_seconds": result.total_seconds,
            "best_val_psnr": result.best_psnr,
            "best_step": result.best_step,
            "x2_source": json.loads(transfer_file.read_text())["source"] if transfer_file.is_file() else None,
        }

    def deploy(self) -> dict[str, Any]:
        return deploy_trained(self.network, self.run_dir, self.log)

    def benchmark(self, deployed: nn.Module) -> dict[str, Any]:
        """fp32 PSNR/SSIM on Y of the collapsed network: benchmark.{md,json,csv}."""
        table = benchmark(deployed, self.data.test, self.network.scale, self.run_dir, self.device)
        self.log.message("fp32 benchmark (PSNR/SSIM on Y, crop = scale):\n" + table.to_markdown())
        return {"benchmarks": table.summary}

    def export(self, deployed: nn.Module) -> dict[str, Any]:
        """model.onnx of the collapsed network, compared with it in onnxruntime."""
        report = export_onnx_checked(
            deployed, self.run_dir / "model.onnx", self.check_input, self.log.message
        )
        return {"onnx": None} if report is None else report.to_dict()

    def ptq(self, deployed: nn.Module) -> dict[str, Any]:
        qmodel = post_training(deployed, self.calibration_inputs(), self.request.int8)
        return self.quantized_report(qmodel, self.run_dir / "int8" / "ptq_w8a8")

    def qat(self, deployed: nn.Module, name: str, settings: dict[str, Any]) -> dict[str, Any]:
        """QAT fine-tuning in int8/<name>/ (its own config.yaml of ``settings``, checkpoints and log;
        resumable), then its report."""
        folder = self.run_dir / "int8" / name
        record_run_settings(folder, plain(settings))
        int8 = self.request.int8
        config = self.recipe.train_config(
            self.network.scale, folder, self.steps_per_epoch, not self.request.quiet
        ).replace(epochs=int8.qat_epochs, lr=int8.qat_learning_rate)
        calibration = self.calibration_inputs()
        qmodel, trained = fine_tune(deployed, calibration, int8, self.patches(), self.data.val, config)
        return {**self.quantized_report(qmodel, folder), "qat": trained}

    def quantized_report(self, qmodel: nn.Module, folder: Path) -> dict[str, Any]:
        test, scale = self.data.test, self.network.scale
        return quantized_report(qmodel, folder, test, scale, self.check_input, self.device, self.log.message)


def deploy_trained(network: Network, run_dir: Path, log: RunLog) -> dict[str, Any]:
    """Collapse the trained weights (best.pt, else last.pt) into deployed.pt; report the sizes."""
    weights = find_weights(run_dir)
    trained = load_checkpoint(weights)
    model = build_model(network)
    model.load_state_dict(trained["state_dict"])
    deployed, gap, _ = deploy_verified(model.eval())
    save_checkpoint(run_dir / "deployed.pt", deployed_checkpoint(trained, deployed))
    prof = profile(deployed, scale=network.scale, in_channels=1)
    log.message(
        f"collapsed {weights.name} into deployed.pt ({prof.params} parameters, max difference {gap:.2e})"
    )
    return {
        "weights": str(weights),
        "training_params": sum(p.numel() for p in model.parameters()),
        "deployed_params": prof.params,
        "deployed_macs_720p": prof.macs,
        "deploy_max_abs_diff": gap,
    }


def load_deployed(path: Path, network: Network) -> nn.Module:
    """The collapsed network of deployed.pt (rebuilt as ``create_model(..., deployed=True)``)."""
    model = create_model(MODEL, scale=network.scale, deployed=True, **network.model_kwargs())
    model.load_state_dict(load_checkpoint(path)["state_dict"])
    return model.eval()


def add_deltas(results: dict[str, Any]) -> None:
    """Each quantised variant's PSNR change against fp32, per test set (dB)."""
    fp32 = results["fp32"]["benchmarks"]
    for variant in results["int8"].values():
        variant["delta_psnr_db"] = {
            name: variant["benchmarks"][name]["psnr"] - fp32[name]["psnr"]
            for name in fp32
            if name in variant["benchmarks"]
        }


def comparison_markdown(results: dict[str, Any]) -> str:
    """fp32 and every quantised variant as rows, the test sets as columns (PSNR dB, change vs fp32)."""
    sets = list(results["fp32"]["benchmarks"])
    lines = ["| model | " + " | ".join(sets) + " |", "|---|" + "---:|" * len(sets)]
    lines.append(
        "| fp32 | " + " | ".join(f"{results['fp32']['benchmarks'][s]['psnr']:.2f}" for s in sets) + " |"
    )
    for name, variant in results["int8"].items():
        cells = [f"{variant['benchmarks'][s]['psnr']:.2f} ({variant['delta_psnr_db'][s]:+.2f})" for s in sets]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
