"""The QuantNAS search step on the reference's supernet (`bench_quantnas.py`, `gpu_suite.py`).

One step is what the search does per batch: an alpha step (L1 + entropy + BitOps penalty, Adam
betas 0.5/0.999) and a weight step (L1, Adam, gradient clipping), `sr_search_quantnas.search.
BilevelStep`. The supernet is the reference's (`arch_pattern` head 2, skip 1, tail 2, body 2, upsample
1; `body_cells` 3; `c_fixed` 36; bits [8, 4]; the reference's primitives; ADM on), fed random LR crops
(45x45 in the reference) at x4.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from sr_search_quantnas.search import BilevelStep
from sr_search_quantnas.settings import REFERENCE_PRIMITIVES, SearchSettings
from sr_search_quantnas.supernet import Supernet

REFERENCE_PATTERN = {"head": 2, "skip": 1, "tail": 2, "body": 2, "upsample": 1}
# the reference implementation's search steps/s on a 2-core CPU at batch 4 (apps/quantnas/README.md)
REFERENCE_CPU_STEPS_PER_S = {"noise": 0.34, "shared": 0.40}
SCALE, CROP, BITS, C_FIXED, BODY_CELLS = 4, 45, [8, 4], 36, 3


def batch_of(batch: int, device: str, seed: int, crop: int = CROP) -> tuple[torch.Tensor, torch.Tensor]:
    """A random (LR, HR) batch of ``crop``-sided LR crops at x4, the same for the same ``seed``."""
    g = torch.Generator().manual_seed(seed)
    lr = torch.rand(batch, 3, crop, crop, generator=g)
    hr = torch.rand(batch, 3, crop * SCALE, crop * SCALE, generator=g)
    return lr.to(device), hr.to(device)


def reference_search_step(mode: str, batch: int, device: str, crop: int = CROP) -> Callable[[], None]:
    """One step of our search on the reference's supernet in quantisation ``mode`` ("noise", "shared" or
    "separate"), with the penalty and entropy terms on."""
    torch.manual_seed(0)
    supernet = Supernet(
        SCALE,
        C_FIXED,
        REFERENCE_PATTERN,
        BODY_CELLS,
        BITS,
        REFERENCE_PRIMITIVES,
        skip_mode=False,
        quant_mode=mode,
    )
    supernet.to(device).train()
    settings = SearchSettings(
        penalty=1e-3, sparse_type="entropy", sparse_coef=1e-3, quant_noise=mode == "noise"
    )
    step = BilevelStep(supernet, settings)
    w, a = batch_of(batch, device, 1, crop), batch_of(batch, device, 2, crop)
    return lambda: step(w, a, True, 0.5)
