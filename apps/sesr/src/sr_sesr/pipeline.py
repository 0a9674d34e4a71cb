"""One `sesr` run: train (x4 from x2) -> ship (benchmark, collapse, ONNX) -> int8 PTQ (-> QAT).

The results folder ``<out>/x<scale>_models/<run name>/`` is an sr_train.RunFolder: config.yaml
(the training settings; a rerun asking for others is refused), run.log, stages/*.json (finished
stages, skipped on a rerun), and the stages' files: train.log, metrics.jsonl, last.pt / best.pt,
transfer.json (x4: what came from the x2 model), benchmark.{md,json,csv}, deployed.pt (the collapsed
network), model.onnx, int8/ptq_w8a8/ and int8/qat_w<W>a<A>/ (benchmark tables, model_int8.onnx;
QAT also its own config.yaml, checkpoints and log), and results.json.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sr_blocks import create_model
from sr_data import RandomPatches, write_text_atomic
from sr_deploy import load_trained, ship_trained
from sr_deploy.quant import fine_tune, int8_report, ptq, qat
from sr_deploy.quant.checkpoint import psnr_changes
from sr_eval import rgb_to_y
from sr_eval.report import markdown_table
from sr_sesr.data import open_run_data
from sr_sesr.settings import MODEL, RECIPE, Int8Settings, Network, Recipe
from sr_sesr.transfer import find_x2_checkpoint, load_x2_weights
from sr_train import LumaView, RunFolder, TrainConfig, path_setting, registered_trainer, stack_patches


@dataclass
class RunRequest:
    """Everything one `sesr` invocation asks for (``device`` already resolved)."""

    network: Network = field(default_factory=Network)
    recipe: Recipe = field(default_factory=Recipe)
    int8: Int8Settings = field(default_factory=Int8Settings)
    data: str = "samples"
    out: Path = Path("logs")
    val: str = "auto"
    test_sets: list[str] = field(default_factory=lambda: ["Set5", "Set14", "BSD68"])
    x2_model: Path | None = None
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    num_workers: int = 0
    quiet: bool = False

    def settings(self) -> dict[str, Any]:
        """config.yaml: what fixes the trained weights (not where or how fast they are computed)."""
        x2_model = None if self.x2_model is None else path_setting(self.x2_model)
        paths = {"data": path_setting(self.data), "val": path_setting(self.val), "x2_model": x2_model}
        return {"network": asdict(self.network), "recipe": asdict(self.recipe), **paths}


class SESRRun:
    """The stages of one run: `SESRRun(request).run()` does every stage not done yet and returns (and
    writes) results.json's content. Opening it checks everything that can be refused (data, test sets, the
    x2 model of an x4 run, settings that differ from the folder's) before the folder is opened."""

    def __init__(self, request: RunRequest) -> None:
        self.request, self.network, self.recipe = request, request.network, request.recipe
        run_dir, int8 = self.network.run_dir(request.out), request.int8
        self.train_images, self.val, self.test, notes = open_run_data(
            request.data, self.network.scale, request.val, request.test_sets
        )
        self.x2_source = None
        if self.network.scale == 4 and not (run_dir / "last.pt").exists():
            self.x2_source = find_x2_checkpoint(self.network, request.out, request.x2_model)
            load_x2_weights(build_model(self.network), self.network, self.x2_source)  # refuses a mismatch
        self.patch_size = self.recipe.hr_patch_size(self.network.scale)
        self.patches_per_epoch = self.recipe.patches_per_epoch(len(self.train_images))
        self.steps_per_epoch = max(1, self.patches_per_epoch // self.recipe.batch_size)
        self.check_patches()
        self.folder = RunFolder(run_dir, request.quiet)
        self.folder.check(request.settings())  # the training settings first, then the QAT variant's
        if int8.qat_name:
            RunFolder(run_dir / "int8" / int8.qat_name).check(asdict(int8))
        self.folder.open(request.settings())
        for note in notes:
            self.folder.log(note)
        self.cache = request.out / "cache"  # decoded images, shared by the runs under --out
        self.example = rgb_to_y(self.test[0][0]["lr"]).unsqueeze(0)  # input of the int8 ONNX checks

    def run(self) -> dict[str, Any]:
        folder, int8 = self.folder, self.request.int8
        tests = {"test_sets": [path_setting(name) for name in self.request.test_sets]}  # by meaning
        results: dict[str, Any] = {"run": folder.path.name, "network": asdict(self.network)}
        results["train"] = folder.stage("train", self.train)
        results["fp32"] = folder.stage("ship", self.ship, settings=tests)
        deployed = load_trained(folder.path / "deployed.pt")[0]
        calibration = {"method": int8.method, "calibration_patches": int8.calibration_patches}
        variants = results["int8"] = {}
        variants["ptq_w8a8"] = folder.stage("ptq_w8a8", lambda: self.ptq(deployed), {**calibration, **tests})
        if int8.qat_name:
            work = lambda: self.qat(deployed)  # noqa: E731
            variants[int8.qat_name] = folder.stage(int8.qat_name, work, {**asdict(int8), **tests})
        for name, result in folder.finished_stages("qat_").items():  # variants of earlier invocations
            if set(result["benchmarks"]) == set(results["fp32"]["benchmarks"]):
                variants.setdefault(name, result)
        add_deltas(results)
        text = json.dumps(results, indent=2) + "\n"
        path = folder.path / "results.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:  # a finished rerun writes nothing
            write_text_atomic(path, text)
        folder.log("fp32 vs quantised (PSNR dB on Y):\n" + comparison_markdown(results))
        return results

    def check_patches(self) -> None:
        """Refuse, before anything is written, a patch side the scale or a training image cannot
        take and a batch larger than an epoch's patches."""
        try:
            RandomPatches(self.train_images, self.patch_size, self.patches_per_epoch)
        except ValueError as err:
            raise ValueError(f"--patch_size {self.patch_size}: {err}") from None
        batch = self.recipe.batch_size
        if batch > self.patches_per_epoch:
            raise ValueError(
                f"--batch_size {batch}: more than the {self.patches_per_epoch} training patches of an "
                f"epoch ({len(self.train_images)} images); lower it or give --steps_per_epoch"
            )

    def patches(self, count: int, seed: int) -> LumaView:
        """Y training patches: random crops with flips and 90-degree rotations, new ones every epoch."""
        crops = RandomPatches(self.train_images, self.patch_size, count, seed=seed, cache_dir=self.cache)
        return LumaView(crops)

    def calibration(self) -> torch.Tensor:
        """Y LR training patches (N, 1, p/s, p/s) for int8 calibration (epoch 0 of another seed)."""
        count = self.request.int8.calibration_patches
        return stack_patches(self.patches(count, self.recipe.seed + 1), count).lr

    def train_config(self, out_dir: Path, **changes: Any) -> TrainConfig:
        """The official recipe with this run's device and output folder."""
        recipe, request, every = self.recipe, self.request, self.steps_per_epoch
        config = TrainConfig(
            **RECIPE,
            scale=self.network.scale,
            epochs=recipe.epochs,
            batch_size=recipe.batch_size,
            lr=recipe.learning_rate,
            val_every=every,
            log_every=max(1, min(100, every)),
            device=str(request.device),
            seed=recipe.seed,
            num_workers=request.num_workers,
            out_dir=str(out_dir),
            progress=not request.quiet,
        )
        return config.replace(**changes)

    def train(self) -> dict[str, Any]:
        """Train (resuming from last.pt when present); a fresh x4 run starts from the x2 model."""
        transfer_file = self.folder.path / "transfer.json"
        patches = self.patches(self.patches_per_epoch, self.recipe.seed)
        config, kwargs = self.train_config(self.folder.path), self.network.model_kwargs()
        with registered_trainer(MODEL, patches, self.val, config, kwargs) as trainer:
            if self.x2_source is not None:
                transfer = load_x2_weights(trainer.model, self.network, self.x2_source)
                write_text_atomic(transfer_file, json.dumps(transfer, indent=2) + "\n")
                self.folder.log(
                    f"x4 from x2: {len(transfer['copied'])} tensors copied from {transfer['source']}; "
                    f"the last linear block ({len(transfer['skipped'])} tensors) starts fresh"
                )
            result = trainer.fit()
        x2_source = json.loads(transfer_file.read_text())["source"] if transfer_file.is_file() else None
        per_epoch = {"steps_per_epoch": trainer.steps_per_epoch, "patches_per_epoch": self.patches_per_epoch}
        return {**asdict(result), **per_epoch, "x2_source": x2_source}

    def ship(self) -> dict[str, Any]:
        """fp32 benchmark of the trained weights (best.pt, else last.pt), deployed.pt, model.onnx."""
        path = self.folder.path
        return ship_trained(path, self.test, path, device=self.request.device, log=self.folder.log)

    def ptq(self, deployed: nn.Module) -> dict[str, Any]:
        qmodel = ptq(
            deployed, self.calibration(), 8, 8, method=self.request.int8.method, keep_float=()
        )  # bias corrected
        return self.report(qmodel, self.folder.path / "int8" / "ptq_w8a8")

    def qat(self, deployed: nn.Module) -> dict[str, Any]:
        """QAT fine-tuning in int8/<name>/ (its own run folder: config.yaml, checkpoints, log;
        resumable), then its report."""
        int8 = self.request.int8
        folder = RunFolder(self.folder.path / "int8" / int8.qat_name, self.request.quiet).open(asdict(int8))
        qmodel = qat(deployed, *int8.qat_bits, calibration_batches=self.calibration(), method=int8.method)
        config = self.train_config(folder.path, epochs=int8.qat_epochs, lr=int8.qat_learning_rate)
        patches = self.patches(self.patches_per_epoch, self.recipe.seed)
        qmodel, trained = fine_tune(qmodel, patches, self.val, config)
        return {**self.report(qmodel, folder.path), "qat": trained}

    def report(self, qmodel: nn.Module, folder: Path) -> dict[str, Any]:
        """Benchmark tables and QCDQ ONNX of ``qmodel`` in ``folder``, onnxruntime vs Brevitas."""
        scale, device, log = self.network.scale, self.request.device, self.folder.log
        return int8_report(qmodel, self.test, scale, folder, example=self.example, device=device, log=log)


def build_model(network: Network) -> nn.Module:
    """The Y-channel SESR of ``network`` in its training form."""
    return create_model(MODEL, scale=network.scale, **network.model_kwargs())


def add_deltas(results: dict[str, Any]) -> None:
    """Each quantised variant's PSNR change against fp32, per test set (dB)."""
    for variant in results["int8"].values():
        variant["delta_psnr_db"] = psnr_changes(results["fp32"]["benchmarks"], variant["benchmarks"])


def comparison_markdown(results: dict[str, Any]) -> str:
    """fp32 and every quantised variant as rows, the test sets as columns (PSNR dB, change vs fp32)."""
    fp32 = results["fp32"]["benchmarks"]
    rows = [["fp32", *(f"{fp32[s]['psnr']:.2f}" for s in fp32)]]
    for name, variant in results["int8"].items():
        psnr, delta = variant["benchmarks"], variant["delta_psnr_db"]
        rows.append([name, *(f"{psnr[s]['psnr']:.2f} ({delta[s]:+.2f})" for s in fp32)])
    return markdown_table(["model", *fp32], rows, align="l" + "r" * len(fp32))
