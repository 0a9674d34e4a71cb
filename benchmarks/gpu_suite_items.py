"""The GPU suite's items: what each one measures, at full size on a GPU or tiny in the smoke run.

An item fills its `ItemRecord` as it goes (figures with units, ratios, the sizes it used, notes),
so what it measured before its time box ended is kept. Items import the toolkit's packages and the
shared benchmark modules inside their bodies: an item whose dependencies are missing fails alone.
"""

from __future__ import annotations

import copy
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent

FAST_PATH_FPS_TARGET = 800  # SESR-M5 x2 1080p -> 4K, fp16 + channels-last + compile
VEGA_ESRN_H100_STEPS_PER_S = 16.3  # vega's own ESRN, batch 16 of 64x64 LR, fp32, one H100
SEARCH_CANDIDATES_PER_HOUR_TARGET = 200  # candidates of 1000 fast-training steps
# what esr_mini_search.py's "ready" file says it runs, copied into items 4b/4c's setup
MINI_SEARCH_SETTINGS = ("evaluator", "workers", "steps", "batch", "lr_patch", "train_overrides", "space")


@dataclass
class Figure:
    """One measured value; ``target`` like ">= 5" or "<= 1.05"; ``met`` is None when not judged."""

    name: str
    value: float
    unit: str
    target: str | None = None
    met: bool | None = None


@dataclass
class ItemRecord:
    """What one item measured: absolute figures, ratios (unit "x"), the sizes used, notes."""

    id: str
    title: str
    status: str = "not run"
    seconds: float = 0.0
    setup: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    ratios: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped_parts: list[str] = field(default_factory=list)

    def set_up(self, **values: Any) -> None:
        self.setup.update(values)

    def figure(self, name: str, value: float, unit: str, target: str | None = None) -> None:
        self.figures.append(Figure(name, float(value), unit, target))

    def ratio(self, name: str, value: float, target: str | None = None) -> None:
        self.ratios.append(Figure(name, float(value), "x", target))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def skip_part(self, part: str, reason: str) -> None:
        """A part of the item that could not run (the rest did): it shows in the status."""
        self.skipped_parts.append(f"{part} skipped: {reason}")

    def judge(self) -> None:
        """Set ``met`` of every figure that has a target."""
        for item in self.figures + self.ratios:
            if item.target:
                op, number = item.target.split()
                item.met = item.value >= float(number) if op == ">=" else item.value <= float(number)

    def value(self, name: str) -> float | None:
        """The figure or ratio called ``name``, if it was measured."""
        return next((f.value for f in self.figures + self.ratios if f.name == name), None)


@dataclass
class SuiteEnv:
    """Where and how big the items run; ``deadline`` is when the running item's time box ends."""

    device: torch.device
    smoke: bool
    work: Path
    records: dict[str, ItemRecord] = field(default_factory=dict)
    deadline: float = math.inf

    def pick(self, full: Any, smoke: Any) -> Any:
        """The full-size setting, or the tiny one in the smoke run."""
        return smoke if self.smoke else full

    def time_left(self) -> float:
        return self.deadline - time.perf_counter()


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    limit_s: float
    run: Callable[[ItemRecord, SuiteEnv], None]


ITEMS: list[Item] = []


def item(item_id: str, title: str, limit_s: float) -> Callable:
    """Register an item function under ``item_id`` with its time box (seconds, on a GPU)."""

    def register(fn: Callable[[ItemRecord, SuiteEnv], None]) -> Callable[[ItemRecord, SuiteEnv], None]:
        ITEMS.append(Item(item_id, title, limit_s, fn))
        return fn

    return register


def prepared(model: nn.Module, device: torch.device, dtype: torch.dtype, channels_last: bool) -> nn.Module:
    """``model`` in eval mode on ``device`` in ``dtype`` and memory format."""
    layout = torch.channels_last if channels_last else torch.contiguous_format
    return model.eval().to(device=device, dtype=dtype, memory_format=layout)


def sesr_deployed_and_plain(channels: int) -> tuple[nn.Module, nn.Module]:
    """SESR-M5 x2 deployed, and the plain conv stack of its shape."""
    from reparam_workloads import PlainSESR

    from sr_blocks import create_model
    from sr_reparam import deploy

    sesr = create_model("sesr_m5", scale=2, in_channels=channels, out_channels=channels)
    return deploy(sesr), PlainSESR(5, 16, 2, channels)


# -- 1 ---------------------------------------------------------------------------------------------
@item("1", "Deployed nets vs plain conv stacks and training forms: ECBSR-M16C64, SESR-M5 x2, Y, fp32", 45)
def deployed_nets(rec: ItemRecord, env: SuiteEnv) -> None:
    from bench_timing import inference_times
    from reparam_workloads import deploy_cases

    h, w = env.pick((360, 640), (24, 32))
    warmup, repeats = env.pick((5, 30), (1, 3))
    rec.set_up(lr_input=[1, 1, h, w], scale=2, dtype="float32", layout="NCHW", repeats=repeats)
    x = torch.rand(1, 1, h, w, device=env.device)
    for case in deploy_cases(scale=2, channels=1):
        models = {"deployed": case.deployed, "plain stack": case.plain, **case.training_forms}
        times = inference_times(
            {k: m.to(env.device) for k, m in models.items()},
            x,
            warmup,
            repeats,
            train_mode=case.training_forms,
        )
        for label, seconds in times.items():
            rec.figure(f"{case.name} {label}", seconds * 1e3, "ms")
        rec.ratio(f"{case.name} {case.targeted} / deployed", times[case.targeted] / times["deployed"], ">= 5")
        rec.ratio(f"{case.name} deployed / plain stack", times["deployed"] / times["plain stack"], "<= 1.05")


# -- 2 ---------------------------------------------------------------------------------------------
@item("2a", "Fast path, eager: SESR-M5 x2 1080p -> 4K (Y), fp32 NCHW vs fp16 channels-last", 30)
def fast_path_eager(rec: ItemRecord, env: SuiteEnv) -> None:
    from bench_timing import median_times

    h, w = env.pick((1080, 1920), (24, 32))
    warmup, repeats = env.pick((5, 30), (1, 3))
    rec.set_up(lr_input=[1, 1, h, w], scale=2, repeats=repeats)
    deployed, plain = sesr_deployed_and_plain(channels=1)
    fp32 = prepared(copy.deepcopy(deployed), env.device, torch.float32, channels_last=False)
    fp16 = prepared(deployed, env.device, torch.float16, channels_last=True)
    plain16 = prepared(plain, env.device, torch.float16, channels_last=True)
    x32 = torch.rand(1, 1, h, w, device=env.device)
    x16 = x32.half().contiguous(memory_format=torch.channels_last)
    calls = {
        "deployed fp32 NCHW": lambda: fp32(x32),
        "deployed fp16 channels-last": lambda: fp16(x16),
        "plain stack fp16 channels-last": lambda: plain16(x16),
    }
    with torch.inference_mode():
        times = median_times(calls, env.device, warmup, repeats)
    for label, seconds in times.items():
        rec.figure(label, seconds * 1e3, "ms")
        rec.figure(f"{label} frames/s", 1 / seconds, "fps")
    fast, plain_fast = times["deployed fp16 channels-last"], times["plain stack fp16 channels-last"]
    rec.ratio("fp16 channels-last speed-up over fp32 NCHW", times["deployed fp32 NCHW"] / fast)
    rec.ratio("deployed / plain stack (fp16 channels-last)", fast / plain_fast, "<= 1.05")
    rec.note("anchor: a plain stack of this shape took 2.21 ms (fp16 channels-last) on an H100")


@item("2b", "Fast path, compiled: SESR-M5 x2 1080p -> 4K (Y), fp16 channels-last + torch.compile", 60)
def fast_path_compiled(rec: ItemRecord, env: SuiteEnv) -> None:
    from bench_timing import median_times, synchronize

    h, w = env.pick((1080, 1920), (24, 32))
    warmup, repeats = env.pick((5, 30), (1, 3))
    backend = env.pick("inductor", "eager")
    rec.set_up(lr_input=[1, 1, h, w], scale=2, dtype="float16", layout="channels-last", backend=backend)
    if env.smoke:
        rec.note("smoke: torch.compile with the 'eager' backend (graph capture only, no code generation)")
    deployed, plain = sesr_deployed_and_plain(channels=1)
    x16 = torch.rand(1, 1, h, w, device=env.device).half().contiguous(memory_format=torch.channels_last)
    compiled_times = {}
    for name, model in (("deployed", deployed), ("plain stack", plain)):
        eager = prepared(model, env.device, torch.float16, channels_last=True)
        compiled = torch.compile(eager, backend=backend)
        with torch.no_grad():
            start = time.perf_counter()
            compiled(x16)
            synchronize(env.device)
            rec.figure(f"{name} compilation (first call)", time.perf_counter() - start, "s")
            calls = {"eager": lambda eager=eager: eager(x16), "compiled": lambda c=compiled: c(x16)}
            times = median_times(calls, env.device, warmup, repeats)
        compiled_times[name] = times["compiled"]
        rec.figure(f"{name} eager", times["eager"] * 1e3, "ms")
        rec.figure(f"{name} compiled", times["compiled"] * 1e3, "ms")
        target = f">= {FAST_PATH_FPS_TARGET}" if name == "deployed" else None
        rec.figure(f"{name} compiled frames/s", 1 / times["compiled"], "fps", target)
        rec.ratio(f"{name} compiled speed-up over eager", times["eager"] / times["compiled"])
    ratio = compiled_times["deployed"] / compiled_times["plain stack"]
    rec.ratio("deployed / plain stack, compiled", ratio, "<= 1.05")
    rec.note("anchor: a plain stack of this shape took 1.20 ms compiled (fp16 channels-last) on an H100")


# -- 3 ---------------------------------------------------------------------------------------------
@item("3", "SESR-M5 x2 training step (forward, L1 backward, Adam), collapsed vs expanded, Y", 30)
def sesr_training(rec: ItemRecord, env: SuiteEnv) -> None:
    from bench_timing import median_times
    from reparam_workloads import sesr_train_step

    batch, side = env.pick((32, 64), (2, 12))
    warmup, repeats = env.pick((3, 10), (1, 2))
    rec.set_up(batch=[batch, 1, side, side], scale=2, repeats=repeats)
    lr = torch.rand(batch, 1, side, side, device=env.device)
    hr = torch.rand(batch, 1, 2 * side, 2 * side, device=env.device)
    steps = {mode: sesr_train_step(mode, lr, hr, scale=2) for mode in ("expanded", "collapsed")}
    times = median_times(steps, env.device, warmup, repeats)
    for mode, seconds in times.items():
        rec.figure(f"{mode} step", seconds * 1e3, "ms")
    rec.ratio("collapsed speed-up over expanded", times["expanded"] / times["collapsed"], ">= 5")


# -- 4 ---------------------------------------------------------------------------------------------
@item("4a", "ESRN x2 (ESR_EA's 17-gene example) training steps/s, batch 16 of 64x64 LR, sr_train's loop", 45)
def esrn_training(rec: ItemRecord, env: SuiteEnv) -> None:
    from train_workload import measure

    batch, lr_side = env.pick((16, 64), (2, 8))
    warmup, steps = env.pick((10, 100), (1, 2))
    rec.set_up(batch=batch, lr_patch=lr_side, scale=2, timed_steps=steps, warmup_steps=warmup)
    configurations = {
        "fp32": ("none", False),
        "fp32 + channels-last": ("none", True),
        "bf16": ("bf16", False),
        "bf16 + channels-last": ("bf16", True),
    }
    rates: dict[str, float] = {}
    for label, (amp, channels_last) in configurations.items():
        result = measure(
            "esrn",
            str(env.device),
            amp,
            False,
            batch,
            2 * lr_side,
            2,
            warmup,
            steps,
            channels_last=channels_last,
        )
        rates[label] = result["steps_per_s"]
        rec.figure(f"{label} training", rates[label], "steps/s")
        if label != "fp32":
            rec.ratio(f"{label} / fp32", rates[label] / rates["fp32"])
    best = max(rates, key=rates.__getitem__)
    rec.ratio(
        f"best ({best}) / vega's ESRN on an H100 ({VEGA_ESRN_H100_STEPS_PER_S} steps/s fp32)",
        rates[best] / VEGA_ESRN_H100_STEPS_PER_S,
        ">= 1.5",
    )


def _history_lines(path: Path) -> list[dict]:
    """The complete JSON lines of a search history (a line cut short by the kill is left out)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def _tail(path: Path, lines: int = 5) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines() if path.exists() else []
    return " | ".join(text[-lines:]) or "(no output)"


def _mini_search(rec: ItemRecord, env: SuiteEnv, evaluator: str, workers: int) -> float:
    """Run `esr_mini_search.py` in its own process group for a window, then kill it; candidates/h.

    The window starts when the search is ready to evaluate (data, space and evaluator built), so
    the interpreter's start is not counted; a pool's workers start inside the window, as they do in
    a real search. Only candidates finished inside the window count.
    """
    out = env.work / f"search_{evaluator}"
    log_path = env.work / f"search_{evaluator}.log"
    command = [
        sys.executable,
        str(BENCHMARKS / "esr_mini_search.py"),
        "--out",
        str(out),
        "--device",
        str(env.device),
        "--evaluator",
        evaluator,
        "--workers",
        str(workers),
    ] + (["--smoke"] if env.smoke else [])
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while not (out / "ready").exists():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the mini search exited with {proc.returncode} before starting: {_tail(log_path)}"
                )
            time.sleep(0.05)
        start = time.perf_counter()
        window = max(1.0, env.time_left() - 3.0)  # the rest of the time box
        settings = json.loads((out / "ready").read_text(encoding="utf-8"))  # what the search runs
        rec.set_up(**{key: settings[key] for key in MINI_SEARCH_SETTINGS}, window_s=round(window, 1))
        while time.perf_counter() - start < window and proc.poll() is None:
            time.sleep(0.1)
        elapsed = time.perf_counter() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise RuntimeError(f"the mini search failed (exit {proc.returncode}): {_tail(log_path)}")
    records = _history_lines(out / "history.jsonl")
    finished = [r for r in records if r.get("psnr") is not None]
    failed = [r for r in records if r.get("psnr") is None]
    if failed:
        rec.note(f"{len(failed)} candidate(s) failed, first: {failed[0].get('error')}")
    rate = 3600 * len(finished) / elapsed
    rec.figure("candidates finished", len(finished), "")
    rec.figure("search time", elapsed, "s")
    rec.figure("candidates per hour", rate, "1/h", f">= {SEARCH_CANDIDATES_PER_HOUR_TARGET}")
    if finished:
        seconds = sorted(r["seconds"] for r in finished)
        rec.figure("median training time of a candidate", seconds[len(seconds) // 2], "s")
        rec.ratio("share of worker time spent training", sum(seconds) / (elapsed * workers))
    else:
        rec.note("no candidate finished inside the window")
    return rate


@item("4b", "ESR_EA mini search, sequential: candidates of 1000 fast-training steps per hour", 60)
def search_sequential(rec: ItemRecord, env: SuiteEnv) -> None:
    _mini_search(rec, env, "inprocess", workers=1)


@item("4c", "ESR_EA mini search, concurrent: worker processes sharing the device", 60)
def search_concurrent(rec: ItemRecord, env: SuiteEnv) -> None:
    rate = _mini_search(rec, env, "pool", workers=env.pick(4, 1))
    sequential = env.records.get("4b")
    before = sequential.value("candidates per hour") if sequential else None
    if before:
        rec.ratio("concurrent / sequential candidates per hour", rate / before)
    else:
        rec.note("no concurrent/sequential ratio: item 4b measured no candidates per hour")


# -- 5 ---------------------------------------------------------------------------------------------
@item(
    "5", "QuantNAS search steps/s on the reference's supernet (x4, bits 8/4), QN and shared-weight modes", 50
)
def quantnas_search(rec: ItemRecord, env: SuiteEnv) -> None:
    from bench_timing import steps_per_s
    from quantnas_workload import CROP, REFERENCE_CPU_STEPS_PER_S, reference_search_step

    batch, crop = env.pick((32, CROP), (2, 8))
    warmup, steps = env.pick((2, 10), (1, 2))
    rec.set_up(batch=batch, lr_crop=crop, timed_steps=steps)
    rates = {}
    for mode, label in (("noise", "QN"), ("shared", "shared")):
        rates[mode] = steps_per_s(
            reference_search_step(mode, batch, str(env.device), crop), env.device, warmup, steps
        )
        rec.figure(f"{label} search", rates[mode], "steps/s")
    rec.ratio("shared / QN", rates["shared"] / rates["noise"])
    if env.device.type == "cuda":
        cpu = steps_per_s(reference_search_step("noise", batch, "cpu", crop), "cpu", 1, 1)
        rec.figure(f"QN search on this machine's CPU ({torch.get_num_threads()} threads)", cpu, "steps/s")
        rec.ratio("QN: GPU / this machine's CPU, same batch", rates["noise"] / cpu)
    else:
        rec.note("GPU / CPU ratio not measured: the suite ran on the CPU")
    rec.note(
        "the reference implementation: {noise} (QN) and {shared} (shared) steps/s at batch 4 on a 2-core CPU "
        "(apps/quantnas/README.md)".format(**REFERENCE_CPU_STEPS_PER_S)
    )


# -- 6 ---------------------------------------------------------------------------------------------
@item("6", "zoo upscale --half: a folder of 1080p PNG frames -> 4K, vs the bare forward (SESR-M5 x2 RGB)", 45)
def upscale_folder(rec: ItemRecord, env: SuiteEnv) -> None:
    from upscale_workload import upscale_rates, write_frames

    from sr_blocks import create_model
    from sr_deploy import TorchEngine
    from sr_reparam import deploy

    count, size = env.pick((16, (1080, 1920)), (2, (24, 32)))
    half = env.device.type == "cuda"
    frames = env.work / "frames"
    source = write_frames(frames, count, size)
    rec.set_up(frames=count, frame_size=list(size), source=source, half=half, png_level=1)
    if not half:
        rec.note("float32: --half needs CUDA")
    engine = TorchEngine(deploy(create_model("sesr_m5", scale=2)), 2, "sesr_m5", env.device, half=half)
    for workers in sorted({2, min(8, os.cpu_count() or 1)}):  # zoo upscale's default, and more threads
        rates = upscale_rates(
            engine, frames, env.work / f"upscaled_{workers}", size, workers, 1, env.pick(10, 2)
        )
        rec.figure(f"bare forward (run with {workers} I/O threads)", rates.bare_per_s, "images/s")
        rec.figure(f"zoo upscale, {workers} I/O threads", rates.upscale_per_s, "images/s")
        rec.ratio(f"upscale / bare forward, {workers} I/O threads", rates.share, ">= 0.8")


# -- 7 ---------------------------------------------------------------------------------------------
def _weights_file(name: str) -> Path | None:
    """``name`` in $SR_WEIGHTS, else in ../shared/weights beside the repository, if it is there."""
    root = Path(os.environ.get("SR_WEIGHTS") or REPO.parent / "shared" / "weights")
    return root / name if (root / name).is_file() else None


def _imdn_x2(rec: ItemRecord) -> tuple[nn.Module, bool]:
    """(IMDN x2, whether it holds the official weights); the reason they are not loaded is recorded."""
    from sr_blocks import create_model

    path = _weights_file("IMDN_x2.pth")
    if path is None:
        reason = "IMDN_x2.pth not found ($SR_WEIGHTS, ../shared/weights)"
    else:
        rec.set_up(weights=str(path))
        return create_model("imdn", scale=2, weights=str(path)), True
    rec.skip_part("PSNR fp16 vs fp32 on Set5", reason)
    rec.note("times are for IMDN x2's architecture with random weights (the time does not depend on them)")
    return create_model("imdn", scale=2), False


def _set5_psnr(model: nn.Module, dtype: torch.dtype, device: torch.device, smoke: bool) -> float:
    """Mean Set5 PSNR (Y, border 2, output rounded to 8 bits); the smoke run: one 32x32 LR crop."""
    from sr_data import Benchmark, quantize
    from sr_eval import psnr

    data = Benchmark("Set5", scale=2)
    values = []
    for index in range(1 if smoke else len(data)):
        pair = data[index]
        lr, hr = pair["lr"][None], pair["hr"][None]
        if smoke:
            lr, hr = lr[..., :32, :32], hr[..., :64, :64]
        with torch.inference_mode():
            sr = model(lr.to(device, dtype)).float().cpu()
        values.append(float(psnr(quantize(sr), hr, crop_border=2)))
    return sum(values) / len(values)


@item("7", "IMDN x2 (official weights) at 720p output: fp32 vs fp16 ms per frame, Set5 PSNR fp16 - fp32", 45)
def imdn_official(rec: ItemRecord, env: SuiteEnv) -> None:
    from sr_eval import latency

    model, official = _imdn_x2(rec)
    h, w = env.pick((360, 640), (16, 24))
    warmup, repeats = env.pick((5, 30), (1, 2))
    rec.set_up(lr_input=[1, 3, h, w], repeats=repeats)
    fp32 = copy.deepcopy(model)
    fp16 = model
    t32 = latency(fp32, (h, w), env.device, torch.float32, warmup, repeats).median_ms
    t16 = latency(fp16, (h, w), env.device, torch.float16, warmup, repeats).median_ms
    rec.figure("fp32 per frame", t32, "ms")
    rec.figure("fp16 per frame", t16, "ms")
    rec.ratio("fp16 speed-up over fp32", t32 / t16)
    if not official:
        return
    from sr_data import find_datasets_root

    root = find_datasets_root()
    if root is None or not (root / "Set5").is_dir():
        rec.skip_part("PSNR fp16 vs fp32 on Set5", "Set5 not found ($SR_DATASETS, ../shared/datasets)")
        return
    p32 = _set5_psnr(fp32, torch.float32, env.device, env.smoke)
    p16 = _set5_psnr(fp16, torch.float16, env.device, env.smoke)
    rec.figure("Set5 PSNR fp32", p32, "dB")
    rec.figure("Set5 PSNR fp16", p16, "dB")
    rec.figure("Set5 PSNR fp16 - fp32", p16 - p32, "dB")
