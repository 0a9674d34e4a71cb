"""`Trainer`: the one training loop behind every pipeline of the toolkit.

One optimiser step per batch: forward (optionally under autocast), loss, backward (through a
GradScaler for fp16), optional gradient clipping, optimiser and schedule step, EMA update. Losses
stay on the device and are checked for NaN/inf in one sync every `log_every` steps and before any
validation or checkpoint, so a non-finite loss never reaches a checkpoint file.

With `config.tensorboard` and the `tensorboard` package installed, rank 0 also writes TensorBoard
event files into `out_dir/tensorboard` (`sr_train.eventlog`): at each logged step train/loss,
train/lr and train/patches_per_s; at each validation val/psnr, val/ssim and val/image.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Dataset

from sr_eval.runtime import Interrupted, RunFailed
from sr_train.checkpoint import CHECKPOINT_FORMAT, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from sr_train.config import TrainConfig
from sr_train.data import PatchTensors, ResumableSampler, as_dataset, iterate_batches
from sr_train.distributed import barrier, min_across_ranks, resolve_device, setup_distributed
from sr_train.ema import ModelEMA
from sr_train.eventlog import EVENTS_DIR, EventLog, open_event_log
from sr_train.interrupt import StopRequest, stop_on_interrupt
from sr_train.losses import build_loss
from sr_train.optim import build_optimizer, build_scheduler
from sr_train.progress import ProgressBar
from sr_train.runlog import RunLog
from sr_train.validation import preview, validate

_AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(RunFailed, FloatingPointError):
    """The training loss became NaN or infinite; `step` is the first optimiser step where it did."""

    def __init__(self, step: int, value: float) -> None:
        super().__init__(
            f"training loss is {value} at step {step}; stopped. The last checkpoint written "
            f"before it (if any) is intact: lower the learning rate, enable grad_clip or "
            f"check the data, then resume."
        )
        self.step, self.value = step, value


@dataclass
class TrainResult:
    """What `Trainer.fit` reports (validation numbers are from rank 0).

    `seconds` and `patches_per_s` cover this call only; `total_seconds` is the whole run's training
    time, summed over the calls a resumed run took. `steady_patches_per_s` leaves out the first
    `log_every` steps (warm-up, torch.compile) and the validations; None when the run was shorter
    than two logging windows.
    """

    steps: int
    seconds: float
    patches_per_s: float
    best_psnr: float | None = None
    best_step: int | None = None
    last_val: dict[str, float] = field(default_factory=dict)
    final_loss: float | None = None
    steady_patches_per_s: float | None = None
    total_seconds: float | None = None


class Trainer:
    """Train `model` on `train_data` (a dataset of {"lr", "hr"} items or an (lr, hr) tensor pair).

    `model_name`/`model_kwargs` are written into checkpoints so the model can be rebuilt from them
    with `sr_blocks.create_model`. With `config.out_dir` set, the run writes `last.pt`, `best.pt`,
    `metrics.jsonl` and `train.log` there and, with `config.resume`, continues from `last.pt`.
    """

    def __init__(
        self,
        model: nn.Module,
        train_data: Dataset | tuple,
        val_data: Dataset | tuple | None = None,
        config: TrainConfig | None = None,
        *,
        model_name: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if config is None:
            raise ValueError("Trainer needs a TrainConfig (at least a budget: steps or epochs)")
        self.config = config
        self.model_name, self.model_kwargs = model_name, dict(model_kwargs or {})
        self.dist = setup_distributed()
        self.device = resolve_device(config.device, self.dist)
        self.amp_dtype = _AMP_DTYPES.get(config.amp)
        if config.amp == "fp16" and self.device.type != "cuda":
            raise ValueError("amp='fp16' needs a CUDA device; use 'bf16' or 'none' on CPU")
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format

        self.model = model.to(self.device, memory_format=self.memory_format)
        train_data = as_dataset(train_data)
        self.train_data = train_data.to(self.device) if isinstance(train_data, PatchTensors) else train_data
        self.val_data = None if val_data is None else as_dataset(val_data)
        self.sampler = ResumableSampler(self.train_data, self.dist.world_size, self.dist.rank, config.seed)
        self.steps_per_epoch = self.sampler.num_samples // config.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"training data has {len(self.train_data)} items: fewer than one batch of "
                f"{config.batch_size} per process ({self.dist.world_size} processes)"
            )
        self.total_steps = config.steps or config.epochs * self.steps_per_epoch

        self.loss_fn = build_loss(config.loss, config.charbonnier_eps)
        self.optimizer = build_optimizer(self.model.parameters(), config)
        self.scheduler = build_scheduler(self.optimizer, config, self.total_steps, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=config.amp == "fp16")
        self.ema = ModelEMA(self.model, config.ema_decay) if config.ema_decay else None
        self.step_model = self._wrap(self.model)

        self.step = self.epoch = self.batch_in_epoch = 0
        self.seconds_before = 0.0  # training time of the calls before a resume
        self._fit_start: float | None = None
        self.best_psnr: float | None = None
        self.best_step: int | None = None
        self.last_val: dict[str, float] = {}
        self.out_dir = Path(config.out_dir) if config.out_dir else None
        self.log = RunLog(
            self.out_dir if self.dist.is_main else None,
            quiet=not (config.progress and self.dist.is_main),
        )
        self.events: EventLog | None = None  # opened by fit, once it knows where the run starts
        self._pending: list[tuple[int, torch.Tensor]] = []
        self._last_loss: float | None = None

    def _wrap(self, model: nn.Module) -> nn.Module:
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = DistributedDataParallel(model, device_ids=ids)
        return torch.compile(model) if self.config.compile else model

    @property
    def eval_model(self) -> nn.Module:
        """The weights that are validated, saved as `state_dict` and deployed (EMA when enabled)."""
        return self.ema.module if self.ema is not None else self.model

    # ----------------------------------------------------------------------------------------- run
    def fit(self) -> TrainResult:
        """Train to the budget (resuming from `out_dir/last.pt` when present) and report.

        With `config.deterministic`, torch's deterministic algorithms are on during the run only
        (on CUDA this also needs the environment variable CUBLAS_WORKSPACE_CONFIG=:4096:8).
        """
        previous = torch.are_deterministic_algorithms_enabled()
        torch.use_deterministic_algorithms(previous or self.config.deterministic)
        try:
            with stop_on_interrupt() as stop:
                return self._fit(stop)
        finally:
            torch.use_deterministic_algorithms(previous)
            if self.events is not None:
                self.events.close()
                self.events = None

    def _fit(self, stop: StopRequest) -> TrainResult:
        cfg = self.config
        resumed = self._maybe_resume()
        if not resumed:
            seed_everything(cfg.seed)
        start_step, t0 = self.step, time.perf_counter()
        self._fit_start = t0
        name = self.model_name or type(self.model).__name__
        self.log.message(
            f"training {name} for {self.total_steps} steps ({self.steps_per_epoch} per epoch, "
            f"batch {cfg.batch_size} x {self.dist.world_size} processes) on {self.device}"
            + (f", resumed at step {self.step}" if resumed else "")
        )
        bar = ProgressBar(self.total_steps, start=self.step, enabled=cfg.progress and self.dist.is_main)
        window_t, window_step = time.perf_counter(), self.step
        steady = _Throughput()
        while self.step < self.total_steps:
            self.sampler.set_position(self.epoch, self.batch_in_epoch * cfg.batch_size)
            if hasattr(self.train_data, "set_epoch"):
                self.train_data.set_epoch(self.epoch)
            batches = iterate_batches(
                self.train_data,
                self.sampler,
                cfg.batch_size,
                cfg.num_workers,
                pin_memory=self.device.type == "cuda",
            )
            for lr, hr in batches:
                self._train_step(lr, hr)
                if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                    loss = self._flush_losses()
                    now = time.perf_counter()
                    patches = (self.step - window_step) * cfg.batch_size * self.dist.world_size
                    rate = patches / (now - window_t)
                    steady.add(patches, now - window_t, first=window_step == start_step)
                    window_step = self.step
                    lr_now = self.optimizer.param_groups[0]["lr"]
                    bar.update(self.step, loss, lr_now, rate)
                    self.log.metrics(
                        {
                            "step": self.step,
                            "epoch": self.epoch,
                            "loss": loss,
                            "lr": lr_now,
                            "patches_per_s": rate,
                        }
                    )
                    if self.events is not None:
                        self.events.scalars(
                            self.step, {"train/loss": loss, "train/lr": lr_now, "train/patches_per_s": rate}
                        )
                if self.val_data is not None and (self._due(cfg.val_every) or self.step == self.total_steps):
                    self._validate()
                if self.out_dir is not None and (
                    self._due(cfg.checkpoint_every)
                    or self._due(cfg.val_every)
                    or self.step == self.total_steps
                ):
                    self.save(self.out_dir / "last.pt")
                if window_step == self.step:  # a window just closed: validation/saving do not count
                    window_t = time.perf_counter()
                if stop.requested:
                    self._stop_at_interrupt(bar)
                if self.step >= self.total_steps:
                    break
        bar.close()
        seconds = time.perf_counter() - t0
        self.seconds_before, self._fit_start = self.seconds_before + seconds, None
        done = self.step - start_step
        result = TrainResult(
            steps=self.step,
            seconds=seconds,
            patches_per_s=done * cfg.batch_size * self.dist.world_size / max(seconds, 1e-9),
            best_psnr=self.best_psnr,
            best_step=self.best_step,
            last_val=dict(self.last_val),
            final_loss=self._last_loss,
            steady_patches_per_s=steady.rate(),
            total_seconds=self.seconds_before,
        )
        self.log.message(
            f"done: {self.step} steps in {seconds:.1f}s ({result.patches_per_s:.0f} patches/s)"
            + (
                f", best PSNR {self.best_psnr:.3f} dB at step {self.best_step}"
                if self.best_psnr is not None
                else ""
            )
        )
        return result

    def _stop_at_interrupt(self, bar: ProgressBar) -> None:
        """Ctrl-C: write last.pt at this step boundary (so the rerun resumes here) and stop."""
        bar.close()
        saved = ""
        if self.out_dir is not None:
            self.save(self.out_dir / "last.pt")
            saved = f" (checkpoint {self.out_dir / 'last.pt'})"
        self.log.message(f"interrupted at step {self.step} of {self.total_steps}{saved}")
        raise Interrupted(f"step {self.step} of {self.total_steps}{saved}")

    def _due(self, every: int | None) -> bool:
        """True at multiples of `every` and at the last step (never when `every` is None)."""
        return every is not None and (self.step % every == 0 or self.step == self.total_steps)

    def _train_step(self, lr: torch.Tensor, hr: torch.Tensor) -> None:
        cfg = self.config
        lr = lr.to(self.device, non_blocking=True, memory_format=self.memory_format)
        hr = hr.to(self.device, non_blocking=True, memory_format=self.memory_format)
        self.model.train()
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            sr = self.step_model(lr)
        loss = self.loss_fn(sr.float(), hr)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if cfg.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        self.batch_in_epoch += 1
        if self.batch_in_epoch == self.steps_per_epoch:
            self.epoch, self.batch_in_epoch = self.epoch + 1, 0
        self._pending.append((self.step, loss.detach()))

    def _flush_losses(self) -> float:
        """Mean of the losses since the last flush; raises NonFiniteLossError at the first bad one."""
        if not self._pending:
            return float("nan") if self._last_loss is None else self._last_loss
        steps = [s for s, _ in self._pending]
        values = torch.stack([v for _, v in self._pending]).float().cpu()
        self._pending.clear()
        finite = torch.isfinite(values)
        never = self.total_steps + 1
        first_bad = steps[int((~finite).nonzero()[0])] if not bool(finite.all()) else never
        first_bad = min_across_ranks(first_bad, self.dist, self.device)
        if first_bad != never:
            # the first bad step may be another process's: then this one's loss there was finite
            here = steps.index(first_bad) if first_bad in steps else None
            bad_value = float("nan") if here is None or finite[here] else values[here].item()
            self.log.message(f"non-finite loss ({bad_value}) at step {first_bad}")
            raise NonFiniteLossError(first_bad, bad_value)
        self._last_loss = values.mean().item()
        return self._last_loss

    def _validate(self) -> None:
        self._flush_losses()
        if self.dist.is_main:
            self.last_val = validate(
                self.eval_model,
                self.val_data,
                self.config.scale,
                self.device,
                with_ssim=self.config.val_ssim,
                batch_size=self.config.batch_size,
                channels_last=self.config.channels_last,
            )
            self.log.metrics({"step": self.step, **{f"val_{k}": v for k, v in self.last_val.items()}})
            if self.events is not None:
                self.events.scalars(self.step, {f"val/{k}": v for k, v in self.last_val.items()})
                image = preview(self.eval_model, self.val_data, self.config.scale, self.device)
                self.events.image("val/image", self.step, image)
            text = ", ".join(f"{k} {v:.4f}" for k, v in self.last_val.items())
            if self.best_psnr is None or self.last_val["psnr"] > self.best_psnr:
                self.best_psnr, self.best_step = self.last_val["psnr"], self.step
                if self.out_dir is not None:
                    save_checkpoint(self.out_dir / "best.pt", self.checkpoint(with_train_state=False))
                text += " (best)"
            self.log.message(f"step {self.step}: validation {text}")
        barrier(self.dist)

    # ------------------------------------------------------------------------------ checkpoints
    def checkpoint(self, with_train_state: bool = True) -> dict[str, Any]:
        """The checkpoint dict (see sr_train.checkpoint for the keys)."""
        model_state = _cpu_state(self.model)
        payload: dict[str, Any] = {
            "format": CHECKPOINT_FORMAT,
            "model_name": self.model_name,
            "model_kwargs": self.model_kwargs,
            "scale": self.config.scale,
            "state_dict": model_state if self.ema is None else _cpu_state(self.ema.module),
            "step": self.step,
            "best_psnr": self.best_psnr,
            "config": self.config.to_dict(),
        }
        if with_train_state:
            payload["train_state"] = {
                "model": model_state,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(),
                "ema": None if self.ema is None else payload["state_dict"],
                "step": self.step,
                "epoch": self.epoch,
                "batch_in_epoch": self.batch_in_epoch,
                "best_psnr": self.best_psnr,
                "best_step": self.best_step,
                "seconds": self.seconds_before
                + (0.0 if self._fit_start is None else time.perf_counter() - self._fit_start),
                "rng": capture_rng(),
            }
        return payload

    def save(self, path: Path) -> None:
        """Write a full (resumable) checkpoint atomically; only rank 0 writes."""
        self._flush_losses()
        if self.dist.is_main:
            save_checkpoint(path, self.checkpoint())
        barrier(self.dist)

    def load(self, path: str | Path) -> None:
        """Restore everything a full checkpoint holds, to continue exactly where it stopped.

        Loaded to the CPU: the RNG states must stay CPU byte tensors, and load_state_dict moves the
        weights, optimiser and EMA states to the model's device.
        """
        ckpt = load_checkpoint(path, map_location="cpu")
        state = ckpt.get("train_state")
        if state is None:
            raise ValueError(f"{path} holds weights only (no train_state): it cannot be resumed")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        if (self.ema is None) != (state["ema"] is None):
            saved = "on" if state["ema"] is not None else "off"
            raise ValueError(f"{path}: EMA was {saved} in the saved run; the config must match to resume")
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.best_psnr, self.best_step = state["best_psnr"], state["best_step"]
        self.seconds_before = float(state.get("seconds", 0.0))
        restore_rng(state["rng"])

    def _maybe_resume(self) -> bool:
        """Continue from last.pt when asked and present; either way, drop metric lines of a previous
        run past the step this run starts from (a fresh start keeps none of them) and open the event
        log (which a fresh start empties, and a resumed run appends to from the steps it has not
        logged yet)."""
        resume = self.config.resume and self.out_dir is not None and (self.out_dir / "last.pt").exists()
        if resume:
            self.load(self.out_dir / "last.pt")
        if self.dist.is_main:
            self.log.truncate_after(self.step)
            folder = None if self.out_dir is None else self.out_dir / EVENTS_DIR
            self.events = open_event_log(folder, self.config.tensorboard, fresh=not resume)
        return resume

    def __enter__(self) -> Trainer:
        """`with Trainer(...) as trainer:` closes the trainer when the block ends, also on an error."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release optimiser state, EMA copy and cached device memory (the model stays usable)."""
        self.optimizer.state.clear()
        self.model.zero_grad(set_to_none=True)
        self.ema = None
        self.step_model = None
        self._pending.clear()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


class _Throughput:
    """Patches per second summed over logging windows, skipping the first (warm-up) window."""

    def __init__(self) -> None:
        self.patches, self.seconds = 0, 0.0

    def add(self, patches: int, seconds: float, first: bool) -> None:
        if not first:
            self.patches, self.seconds = self.patches + patches, self.seconds + seconds

    def rate(self) -> float | None:
        return self.patches / self.seconds if self.seconds > 0 else None


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
