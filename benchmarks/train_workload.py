"""Training throughput of sr_train's loop on random in-memory patches (`bench_train.py`, `gpu_suite.py`).

No data loading is measured: the patches are made once and moved to the device before the run.
"""

from __future__ import annotations

from typing import Any

import torch

from sr_blocks import create_model
from sr_train import PatchTensors, TrainConfig, Trainer


def measure(
    model_name: str,
    device: str,
    amp: str,
    compile_: bool,
    batch: int,
    patch: int,
    scale: int,
    warmup: int,
    steps: int,
    channels_last: bool | None = None,
    model_kwargs: dict[str, Any] | None = None,
) -> dict[str, float]:
    """Steady-state steps/s and patches/s of `steps` training steps after `warmup` steps.

    `patch` is the HR patch side (the LR side is `patch // scale`); `channels_last` None means on
    CUDA only. The first logging window (`warmup` steps: warm-up, torch.compile) is left out.
    """
    g = torch.Generator().manual_seed(0)
    hr = torch.rand(batch * 4, 3, patch, patch, generator=g)
    lr = torch.nn.functional.avg_pool2d(hr, scale)
    model = create_model(model_name, scale=scale, **(model_kwargs or {}))
    config = TrainConfig(
        steps=warmup + steps,
        batch_size=batch,
        log_every=warmup,
        scale=scale,
        amp=amp,
        compile=compile_,
        channels_last=torch.device(device).type == "cuda" if channels_last is None else channels_last,
        device=device,
        progress=False,
        tensorboard=False,
        scheduler="constant",
        lr=1e-4,
    )
    with Trainer(model, PatchTensors(lr, hr).to(device), None, config) as trainer:
        result = trainer.fit()
    rate = result.steady_patches_per_s or result.patches_per_s
    return {"patches_per_s": rate, "steps_per_s": rate / batch}
