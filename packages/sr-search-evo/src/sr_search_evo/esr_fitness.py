"""Fitness of a gene list: validation PSNR after a short training run of the network it builds.

`GeneFitness` trains any registry model built from genes (`create_model(model, genes=...)`);
`ESRFitness` is it for ESR_EA's ESRN, `GeneFitness(model="repstack")` for the plain-stack space.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

import torch

from sr_blocks import create_model
from sr_blocks.init import unit_variance_start
from sr_eval import profile
from sr_eval.runtime import resolve_device
from sr_search_evo.devices import current_device
from sr_train import PatchTensors, TrainConfig, train_and_validate

STARTS = ("default", "unit_variance")  # a candidate's initial weights (GeneFitness's `start`)
START_SAMPLE = 32  # training patches the unit-variance start measures on

# TrainConfig fields a fitness call sets itself (budget, seed, device) or that do not apply to it
# (files, console, SSIM: the fitness is PSNR)
NOT_FROM_CONFIG = (
    "steps",
    "epochs",
    "scale",
    "seed",
    "device",
    "out_dir",
    "resume",
    "progress",
    "tensorboard",
)


def candidate_seed(key: str, base_seed: int = 0) -> int:
    """A training seed from the candidate itself, so its result never depends on order or worker."""
    digest = hashlib.sha256(f"{base_seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _as_patches(data: Any, name: str) -> Any:
    if isinstance(data, tuple):
        if len(data) != 2:
            raise ValueError(f"fitness: {name} as a tuple must be (lr, hr) tensors, got {len(data)} items")
        return PatchTensors(*data)
    return data


class GeneFitness:
    """Train the network of a gene list for `steps` steps and report PSNR, params, MACs and seconds.

    Picklable (send it to workers once). `train_data`/`val_data` are `PatchTensors`, (lr, hr) tensor
    pairs or datasets; tensors are moved once to the worker's device and kept there.
    `train_config` (a TrainConfig, e.g. a config section's) and `train_overrides` (TrainConfig
    fields over it: lr, batch_size, ...) set the training; the config's budget, seed, device and
    files do not apply, and validation computes PSNR only. The training seed is derived from the
    gene list and `seed` (see `candidate_seed`), so a candidate gets the same result whichever
    worker trains it and in whatever order. `device` None means the evaluator
    worker's device (`current_device()`); a named device is checked here, before any work (an
    unknown or absent one is a `sr_eval.runtime.DeviceError`). MACs are counted for an `hr_size`
    output (default: a 1280x720 frame). The network is `create_model(model, scale, genes=genes,
    **model_kwargs)`.

    `start`: "default" trains from the model's own initial weights; "unit_variance" first rescales
    them on the first training patches (`sr_blocks.init.unit_variance_start`, for models with a
    `layers()` method such as `repstack`), so a deep candidate starts learning at once instead of
    sitting at its residual for the first few hundred steps, which a short training mistakes for a
    bad network (measured by `benchmarks/bench_fitness_rank.py`).
    """

    def __init__(
        self,
        train_data: Any,
        val_data: Any,
        steps: int,
        scale: int = 2,
        model: str = "esrn",
        model_kwargs: dict[str, Any] | None = None,
        train_overrides: dict[str, Any] | None = None,
        hr_size: tuple[int, int] = (720, 1280),
        device: str | None = None,
        seed: int = 0,
        train_config: TrainConfig | None = None,
        start: str = "default",
    ) -> None:
        name = type(self).__name__
        if start not in STARTS:
            raise ValueError(f"{name}: start {start!r} is not one of {STARTS}")
        reserved = {"steps", "scale", "seed", "device"} & set(train_overrides or {})
        if reserved:
            raise ValueError(f"{name}: set {sorted(reserved)} through {name}'s own arguments")
        if device is not None:
            resolve_device(device)
        self.train_data = _as_patches(train_data, "train_data")
        self.val_data = _as_patches(val_data, "val_data")
        self.steps, self.scale = steps, scale
        self.model, self.model_kwargs = model, dict(model_kwargs or {})
        from_config = {} if train_config is None else train_config.to_dict()
        self.train_overrides = {
            **{k: v for k, v in from_config.items() if k not in NOT_FROM_CONFIG},
            "val_ssim": False,
            **(train_overrides or {}),
        }
        self.hr_size, self.device, self.seed, self.start = tuple(hr_size), device, seed, start
        if start == "unit_variance":
            self._check_unit_variance_start()
        self._placed: dict[str, tuple[Any, Any]] = {}

    def _check_unit_variance_start(self) -> None:
        """Refuse, before any work, a model or data the unit-variance start cannot use."""
        name = type(self).__name__
        if not isinstance(self.train_data, PatchTensors):
            raise ValueError(f"{name}: start='unit_variance' needs the training data as PatchTensors")
        with torch.random.fork_rng(devices=[]):
            example = create_model(self.model, scale=self.scale, **self.model_kwargs)
        if not callable(getattr(example, "layers", None)):
            raise ValueError(
                f"{name}: start='unit_variance' needs a model with layers(); {self.model!r} has none"
            )

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_placed": {}}

    def data_on(self, device: str) -> tuple[Any, Any]:
        """(training, validation) data on `device`, moved there once and kept."""
        if device not in self._placed:
            self._placed = {
                device: tuple(
                    d.to(device) if isinstance(d, PatchTensors) else d
                    for d in (self.train_data, self.val_data)
                )
            }
        return self._placed[device]

    def build(self, genes: Sequence[str]) -> torch.nn.Module:
        """The untrained network of `genes`, its initial weights drawn from the candidate's seed (and
        rescaled on the training patches with `start="unit_variance"`)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(candidate_seed(",".join(genes), self.seed))
            model = create_model(self.model, scale=self.scale, genes=list(genes), **self.model_kwargs)
        if self.start == "unit_variance":
            unit_variance_start(model, model.layers(), self.train_data.lr[:START_SAMPLE])
        return model

    def __call__(self, genes: Sequence[str]) -> dict[str, Any]:
        genes = list(genes)
        device = self.device or current_device()
        seed = candidate_seed(",".join(genes), self.seed)
        model = self.build(genes)
        costs = profile(model, scale=self.scale, hr_size=self.hr_size)
        train, val = self.data_on(device)
        start = time.perf_counter()
        psnr = train_and_validate(
            model.to(device),
            train,
            self.steps,
            val,
            scale=self.scale,
            device=device,
            seed=seed,
            **self.train_overrides,
        )
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize(device)
        return {
            "psnr": float(psnr),
            "params": costs.params,
            "macs": costs.macs,
            "macs_hr_size": list(self.hr_size),
            "seconds": time.perf_counter() - start,
            "seed": seed,
            "device": device,
            "genes": genes,
            "steps": self.steps,
        }


class ESRFitness(GeneFitness):
    """`GeneFitness` of ESR_EA's ESRN on a `G0`-wide frame (the paper's name for its width)."""

    def __init__(
        self, train_data: Any, val_data: Any, steps: int, scale: int = 2, G0: int = 32, **kwargs: Any
    ):
        super().__init__(train_data, val_data, steps, scale, "esrn", {"G0": G0}, **kwargs)
        self.G0 = G0
