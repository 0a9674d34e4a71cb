"""The QuantNAS search: bi-level optimisation of a supernet's weights and its (op, bits) alphas
(and its activation-bit alphas, when `arch.act_bits` makes the activation width a choice of its own).

Each step, as in the reference's `search_sr.py`: (1) after `warm_up` epochs, one Adam step
(betas 0.5, 0.999) of the alphas on a batch of the held-out alpha stream, minimising
L1 + sparsity + hardware penalty; (2) one step of the weights (Adam or SGD, weight decay, gradient
clipping) on a batch of the weight stream, minimising L1. The weights' learning rate follows a
per-epoch cosine or step ("linear") schedule; the selector temperature goes from `temp_max` to
`temp_min`. After every epoch the soft supernet's L1 on the selection stream is measured, the
argmax genotype derived, and `best_arch.gen`, `alpha_history.jsonl` and the resumable state are
written (see `search_state`). Running it again on the same folder resumes after the last
finished epoch and ends exactly as an uninterrupted run would; Ctrl-C stops with
`sr_eval.runtime.Interrupted` saying which epochs are saved.

With TensorBoard installed, the search also writes event files into `out_dir/tensorboard`
(`sr_train.eventlog`), at step = the optimisation step: every `print_freq` steps search/train_l1,
search/alpha_entropy, search/bitops_penalty (once the alphas are trained with a penalty) and
search/genotype_bitops (the argmax genotype's BitOps, with `bitops_of`); after every epoch
epoch/selection_l1, epoch/temperature and epoch/expected_bitops. A resumed search appends to them.

Each backward pass asks only for the gradients that step uses (alphas, or weights), which leaves
the optimisation identical to the reference's and skips the weight-gradient kernels of the alpha
step.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sr_eval.runtime import Interrupted
from sr_search_quantnas.bitops import bitops
from sr_search_quantnas.genotype import Genotype_SR, derive_genotype, parse_genotype
from sr_search_quantnas.losses import (
    HardwarePenalty,
    alpha_entropy,
    entropy_weight,
    sparsity_loss,
    temperature_at,
)
from sr_search_quantnas.network import build_network
from sr_search_quantnas.search_data import SearchData
from sr_search_quantnas.search_state import load_state, save_state, write_epoch_files
from sr_search_quantnas.settings import ArchSettings, SearchSettings
from sr_search_quantnas.supernet import Supernet
from sr_train import load_checkpoint
from sr_train.checkpoint import capture_rng, restore_rng
from sr_train.eventlog import EVENTS_DIR, EventLog, open_event_log


@dataclass
class SearchResult:
    """What a finished search reports: the best genotype (lowest selection L1) and every epoch's line."""

    best_genotype: Genotype_SR
    best_loss: float
    last_genotype: Genotype_SR
    history: list[dict[str, Any]]
    seconds: float
    steps: int


def build_supernet(arch: ArchSettings, search: SearchSettings) -> Supernet:
    """The supernet of the `arch` section with the mixed-precision mode and selector of `search`."""
    return Supernet(
        scale=arch.scale,
        c_fixed=arch.c_fixed,
        arch_pattern=arch.pattern(),
        body_cells=arch.body_cells,
        bits=list(arch.bits),
        primitives=arch.primitives,
        skip_mode=arch.skip_mode,
        quant_mode=search.quant_mode,
        alpha_selector=search.alpha_selector,
        in_channels=arch.channels,
        act_bits=arch.act_bits,
        **arch.image_output_args(),
    )


def genotype_bitops(arch: ArchSettings) -> Callable[[Genotype_SR, tuple[int, int]], float]:
    """BitOps of a genotype's network under `arch` for one LR input of a given size (`bitops_of`)."""

    def count(genotype: Genotype_SR, lr_size: tuple[int, int]) -> float:
        return float(bitops(build_network(genotype, **arch.network_args()), lr_size=lr_size).total)

    return count


def build_weight_optimizer(params: list[nn.Parameter], settings: SearchSettings) -> torch.optim.Optimizer:
    """Adam (lr, weight decay) or SGD (lr, momentum, weight decay) for the supernet's weights."""
    if settings.optimizer == "sgd":
        return torch.optim.SGD(
            params, settings.w_lr, momentum=settings.w_momentum, weight_decay=settings.w_weight_decay
        )
    return torch.optim.Adam(params, settings.w_lr, weight_decay=settings.w_weight_decay)


def build_weight_schedule(optimizer: torch.optim.Optimizer, settings: SearchSettings) -> Any:
    """Per-epoch schedule: cosine over `epochs`, or "linear" (x0.8 every 3 epochs), as the reference."""
    if settings.lr_scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, settings.epochs)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.8)


def load_supernet_weights(supernet: nn.Module, path: str | Path) -> None:
    """`search.load_path`: a saved supernet (a search state or a plain state dict) into `supernet`."""
    data = load_checkpoint(path)
    state = data.get("supernet", data.get("state_dict", data))
    try:
        supernet.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"search.load_path {path}: does not fit this supernet ({err})") from None


def seed_all(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class BilevelStep:
    """One search step on `supernet`: an alpha step (when asked) then a weight step.

    Owns both optimisers, the weights' schedule and the hardware penalty; the penalty is
    calibrated on the first step's LR size with the alphas as they are then.
    """

    def __init__(self, supernet: nn.Module, settings: SearchSettings) -> None:
        self.supernet, self.settings = supernet, settings
        self.alphas = list(supernet.alphas())
        self.weights = list(supernet.weights())
        self.w_optim = build_weight_optimizer(self.weights, settings)
        self.alpha_optim = torch.optim.Adam(
            self.alphas, settings.alpha_lr, betas=(0.5, 0.999), weight_decay=settings.alpha_weight_decay
        )
        self.schedule = build_weight_schedule(self.w_optim, settings)
        self.penalty = HardwarePenalty(settings.penalty)
        self.last_penalty: torch.Tensor | None = None  # the last alpha step's BitOps penalty

    def __call__(
        self,
        weight_batch: tuple[torch.Tensor, torch.Tensor],
        alpha_batch: tuple[torch.Tensor, torch.Tensor],
        update_alphas: bool,
        entropy_weight: float,
    ) -> torch.Tensor:
        """Run the step; returns the weight step's L1 (a tensor, not synchronised)."""
        a_lr, a_hr = alpha_batch
        lr_size = (a_lr.shape[-2], a_lr.shape[-1])
        if not self.penalty.calibrated:
            with torch.no_grad():
                self.penalty.calibrate(self.supernet.expected_bitops(lr_size))
        if update_alphas:
            with self.supernet.frozen("weights"):  # no weight-gradient work in the alpha step
                self._alpha_step(a_lr, a_hr, lr_size, entropy_weight)
        with self.supernet.frozen("alphas"):
            return self._weight_step(*weight_batch)

    def _alpha_step(
        self, lr: torch.Tensor, hr: torch.Tensor, lr_size: tuple[int, int], ent_weight: float
    ) -> None:
        cfg = self.settings
        self.alpha_optim.zero_grad(set_to_none=True)
        loss = nn.functional.l1_loss(self.supernet(lr), hr)
        loss = loss + sparsity_loss(self.alphas, cfg.sparse_type, cfg.sparse_coef, ent_weight)
        if cfg.penalty:
            # weighted by this forward's selector sample (softmax for the softmax selector), as the reference
            bitops = self.supernet.expected_bitops(lr_size, probs=self.supernet.selection)
            penalty = self.penalty(bitops)
            self.last_penalty = penalty.detach()
            loss = loss + penalty
        loss.backward(inputs=self.alphas)
        self.alpha_optim.step()

    def _weight_step(self, lr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        self.w_optim.zero_grad(set_to_none=True)
        loss = nn.functional.l1_loss(self.supernet(lr), hr)
        loss.backward(inputs=self.weights)
        nn.utils.clip_grad_norm_(self.weights, self.settings.w_grad_clip)
        self.w_optim.step()
        return loss.detach()

    def state_dict(self) -> dict[str, Any]:
        """Both optimisers, the schedule and the penalty's normaliser."""
        return {
            "w_optim": self.w_optim.state_dict(),
            "alpha_optim": self.alpha_optim.state_dict(),
            "schedule": self.schedule.state_dict(),
            "penalty": self.penalty.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.w_optim.load_state_dict(state["w_optim"])
        self.alpha_optim.load_state_dict(state["alpha_optim"])
        self.schedule.load_state_dict(state["schedule"])
        self.penalty.load_state_dict(state["penalty"])


class Search:
    """One search over `supernet` with `data` and `settings`, writing into `out_dir`.

    `bitops_of(genotype, lr_size)` gives the BitOps of a derived genotype for the epoch log (the
    caller builds the network; see `network.build_network` and `bitops.bitops`). `log` receives
    progress lines; `print_freq` is the reference's env.print_freq (also how often the event log
    gets a point); `tensorboard`: write the event log when the package is installed.
    """

    def __init__(
        self,
        supernet: nn.Module,
        data: SearchData,
        settings: SearchSettings,
        out_dir: str | Path,
        *,
        seed: int = 0,
        device: str | torch.device = "cpu",
        bitops_of: Callable[[Genotype_SR, tuple[int, int]], float] | None = None,
        log: Callable[[str], None] = print,
        print_freq: int = 60,
        tensorboard: bool = True,
    ) -> None:
        self.supernet = supernet.to(device)
        self.data, self.settings, self.seed = data, settings, seed
        self.device = torch.device(device)
        self.out_dir = Path(out_dir)
        self.bitops_of, self.log, self.print_freq = bitops_of, log, print_freq
        self.step = BilevelStep(self.supernet, settings)
        self.epoch, self.steps = 0, 0
        self.best_loss, self.best_genotype = math.inf, None
        self.history: list[dict[str, Any]] = []
        self.seconds_before = 0.0
        self.tensorboard = tensorboard
        self.events: EventLog | None = None  # opened by run
        self._genotype_bitops: dict[str, float] = {}  # BitOps by genotype, for the event log

    # ------------------------------------------------------------------------------------------ state
    def _identity(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self.settings),
            "seed": self.seed,
            "batch_size": self.data.batch_size,
            "patches": len(self.data.weights),
            "lr_size": list(self.data.lr_size),
        }

    def _state(self, seconds: float) -> dict[str, Any]:
        return {
            "settings": self._identity(),
            "epoch": self.epoch,
            "steps": self.steps,
            "supernet": {k: v.detach().cpu() for k, v in self.supernet.state_dict().items()},
            "optimisation": self.step.state_dict(),
            "best_loss": self.best_loss,
            "best_genotype": str(self.best_genotype),
            "history": self.history,
            "seconds": seconds,
            "rng": capture_rng(),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self.supernet.load_state_dict(state["supernet"])
        self.step.load_state_dict(state["optimisation"])
        self.epoch, self.steps = state["epoch"], state["steps"]
        self.best_loss = state["best_loss"]
        self.best_genotype = parse_genotype(state["best_genotype"])
        self.history = list(state["history"])
        self.seconds_before = float(state["seconds"])
        restore_rng(state["rng"])

    # ------------------------------------------------------------------------------------------- run
    def run(self) -> SearchResult:
        """Search to `settings.epochs` (resuming from `out_dir` when a state is there) and report."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        state = load_state(self.out_dir, self._identity())
        data, lr_size = self.data, "x".join(map(str, self.data.lr_size))
        self.log(
            f"search: {len(data.weights)} weight / {len(data.alphas)} alpha / {len(data.selection)} "
            f"selection patches of {lr_size} LR per epoch, batch {data.batch_size}, "
            f"penalty {self.settings.penalty}, device {self.device}"
        )
        self.events = open_event_log(self.out_dir / EVENTS_DIR, self.tensorboard, fresh=state is None)
        if state is not None:
            self._restore(state)
            self.log(f"resuming the search at epoch {self.epoch + 1}/{self.settings.epochs}")
        else:
            if self.settings.load_path:
                load_supernet_weights(self.supernet, self.settings.load_path)
                self.log(f"loaded a supernet from {self.settings.load_path}")
            seed_all(self.seed)
        t0 = time.perf_counter()
        try:
            while self.epoch < self.settings.epochs:
                self._run_epoch(t0)
        except KeyboardInterrupt:
            raise Interrupted(
                f"search epoch {self.epoch + 1} of {self.settings.epochs} "
                f"({self.epoch} finished epoch(s) saved in {self.out_dir})"
            ) from None
        finally:
            if self.events is not None:
                self.events.close()
                self.events = None
        seconds = self.seconds_before + time.perf_counter() - t0
        last = derive_genotype(self.supernet)
        return SearchResult(self.best_genotype, self.best_loss, last, self.history, seconds, self.steps)

    def _run_epoch(self, t0: float) -> None:
        cfg, epoch = self.settings, self.epoch
        temperature = temperature_at(epoch, cfg.epochs, cfg.warm_up, cfg.temp_max, cfg.temp_min)
        self.supernet.set_temperature(temperature)
        ent_weight = entropy_weight(epoch, cfg.epochs, cfg.warm_up) if cfg.sparse_type == "entropy" else 1.0
        lr = self.step.schedule.get_last_lr()[0]
        train_loss, batches = self._train_epoch(epoch, ent_weight)
        self.step.schedule.step()
        val_loss = self._selection_loss(epoch)
        genotype = derive_genotype(self.supernet)
        if val_loss < self.best_loss:
            self.best_loss, self.best_genotype = val_loss, genotype
        row = self._epoch_row(epoch, lr, temperature, ent_weight, train_loss, val_loss, genotype)
        self.history.append(row)
        self.epoch += 1
        seconds = self.seconds_before + time.perf_counter() - t0
        write_epoch_files(self.out_dir, self.history, str(self.best_genotype), str(genotype))
        save_state(self.out_dir, self._state(seconds))
        if self.events is not None:
            epoch_keys = ("selection_l1", "temperature", "expected_bitops")
            self.events.scalars(self.steps, {f"epoch/{k}": row[k] for k in epoch_keys})
            self.events.flush()
        bitops = row.get("genotype_bitops")
        self.log(
            f"epoch {epoch + 1}/{cfg.epochs}: train L1 {train_loss:.4f}, selection L1 {val_loss:.4f}, "
            f"alpha entropy {row['alpha_entropy']:.3f}"
            + (f", genotype BitOps {bitops:.3e}" if bitops is not None else "")
            + f", {batches} steps, {seconds:.0f}s"
        )

    def _train_epoch(self, epoch: int, ent_weight: float) -> tuple[float, int]:
        cfg = self.settings
        self.supernet.train()
        update_alphas = epoch >= cfg.warm_up
        w_batches = self.data.batches(self.data.weights, epoch, self.seed)
        a_batches = self.data.batches(self.data.alphas, epoch, self.seed + 1)
        total, count, step = torch.zeros((), device=self.device), 0, 0
        for step, ((w_lr, w_hr), (a_lr, a_hr)) in enumerate(zip(w_batches, a_batches, strict=False)):
            weight_batch = (w_lr.to(self.device), w_hr.to(self.device))
            alpha_batch = (a_lr.to(self.device), a_hr.to(self.device))
            loss = self.step(weight_batch, alpha_batch, update_alphas, ent_weight)
            total += loss * len(w_lr)
            count += len(w_lr)
            self.steps += 1
            if step % self.print_freq == 0:
                self.log(f"  epoch {epoch + 1} step {step}: L1 {loss.item():.4f}")
                self._log_step(loss)
        return (total / max(count, 1)).item(), step + 1

    @torch.no_grad()
    def _log_step(self, loss: torch.Tensor) -> None:
        """The event log's points of this step (every `print_freq` steps, when the log is on)."""
        if self.events is None:
            return
        penalty = self.step.last_penalty
        values = {
            "search/train_l1": loss.item(),
            "search/alpha_entropy": alpha_entropy(self.step.alphas).item(),
            "search/bitops_penalty": None if penalty is None else penalty.item(),
        }
        if self.bitops_of is not None:
            genotype = derive_genotype(self.supernet)
            if str(genotype) not in self._genotype_bitops:
                self._genotype_bitops[str(genotype)] = self.bitops_of(genotype, self.data.lr_size)
            values["search/genotype_bitops"] = self._genotype_bitops[str(genotype)]
        self.events.scalars(self.steps, values)

    @torch.no_grad()
    def _selection_loss(self, epoch: int) -> float:
        self.supernet.eval()
        total, count = torch.zeros((), device=self.device), 0
        for lr, hr in self.data.batches(self.data.selection, epoch, self.seed + 2):
            lr, hr = lr.to(self.device), hr.to(self.device)
            total += nn.functional.l1_loss(self.supernet(lr), hr, reduction="sum") / hr[0].numel()
            count += len(lr)
        self.supernet.train()
        return (total / max(count, 1)).item()

    @torch.no_grad()
    def _epoch_row(
        self,
        epoch: int,
        lr: float,
        temperature: float,
        ent_weight: float,
        train_loss: float,
        val_loss: float,
        genotype: Genotype_SR,
    ) -> dict[str, Any]:
        lr_size = self.data.lr_size
        row: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "temperature": temperature,
            "entropy_weight": ent_weight,
            "train_l1": train_loss,
            "selection_l1": val_loss,
            "alpha_entropy": alpha_entropy(self.step.alphas).item(),
            "expected_bitops": float(self.supernet.expected_bitops(lr_size)),
            "lr_size": list(lr_size),
            "genotype": str(genotype),
            "best": val_loss <= self.best_loss,
            "alpha_probs": [p.detach().flatten().cpu().tolist() for p in self.supernet.alpha_probs()],
            "layers": self.supernet.alpha_names(),
            "candidates": self.supernet.alpha_labels(),
        }
        if self.bitops_of is not None:
            row["genotype_bitops"] = float(self.bitops_of(genotype, lr_size))
        return row


def run_search(
    supernet: nn.Module,
    data: SearchData,
    settings: SearchSettings,
    out_dir: str | Path,
    **kwargs: Any,
) -> SearchResult:
    """Run (or resume) a search; see `Search` for the keyword arguments."""
    return Search(supernet, data, settings, out_dir, **kwargs).run()
