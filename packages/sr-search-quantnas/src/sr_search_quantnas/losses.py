"""The search losses besides L1: the hardware (BitOps) penalty and the alphas' sparsity regulariser.

Both follow the reference's `search_sr.py` (On-Point-RND/QuantNAS):

- hardware penalty: the alpha-weighted BitOps `F` of the supernet, normalised by `F0`, its value
  with uniform alphas measured once at the first alpha step: with `n = len(block types) / 4`
  (= 5/4), the loss is `penalty * (F - F0 / n) / (F0 * n - F0 / n)`, so that it is 0 at 80 % of
  the uniform supernet's BitOps and 1 at 125 %;
- sparsity: `entropy` (sum over alpha vectors of the entropy of softmax(alpha): each layer's
  (op, bits) vector and, when activation bits are searched, its activation-bit vector), `l1` (|alpha|_1),
  `l1_softmax` (|exp(alpha)|_1) or `none`, times `sparse_coef`; the entropy term is further
  weighted by the reference's epoch schedule (`entropy_weight`), which is 0 at the first alpha
  epoch and grows to 1 at the last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from sr_search_quantnas.architecture import BLOCK_TYPES

SPARSE_TYPES = ("entropy", "l1", "l1_softmax", "none")


def alpha_entropy(alphas: Sequence[torch.Tensor]) -> torch.Tensor:
    """Sum over the alpha vectors (per layer: (op, bits), and activation bits when searched) of the
    entropy (nats) of their softmax."""
    total = alphas[0].new_zeros(())
    for alpha in alphas:
        log_p = torch.log_softmax(alpha.flatten(), dim=0)
        total = total - (log_p.exp() * log_p).sum()
    return total


def entropy_weight(epoch: int, epochs: int, warm_up: int) -> float:
    """The reference's weight of the entropy term at `epoch` (0-based), alphas frozen `warm_up` epochs.

    weight1 = t / (T - 1) and weight2 = 0 for t < T // 4, else log(t - T//4 + 2) / log(T - T//4 + 1),
    with t = epoch - warm_up and T = epochs - warm_up (the 2022 code is the case warm_up = 0; the
    later code shifts by warm_up like this). With a single alpha epoch (T = 1) weight1 is 0.
    """
    t, span = epoch - warm_up, epochs - warm_up
    if t < 0 or span < 1:
        return 0.0
    ramp = t / (span - 1) if span > 1 else 0.0
    start = span // 4
    if t < start:
        return 0.0
    return ramp * math.log(t - start + 2) / math.log(span - start + 1)


def temperature_at(epoch: int, epochs: int, warm_up: int, temp_max: float, temp_min: float) -> float:
    """Selector temperature: temp_max until warm-up ends, then linear to temp_min at the last epoch."""
    if epoch < warm_up:
        return temp_max
    span = epochs - 1 - warm_up
    progress = (epoch - warm_up) / span if span > 0 else 0.0
    return temp_max - (temp_max - temp_min) * progress


def sparsity_loss(
    alphas: Sequence[torch.Tensor], kind: str, coef: float, weight: float = 1.0
) -> torch.Tensor:
    """`coef` times the `kind` regulariser of the alphas (`weight` scales the entropy term only)."""
    if kind not in SPARSE_TYPES:
        raise ValueError(f"sparse_type must be one of {', '.join(SPARSE_TYPES)}, got {kind!r}")
    zero = alphas[0].new_zeros(())
    if kind == "none" or coef == 0:
        return zero
    if kind == "entropy":
        return coef * weight * alpha_entropy(alphas) if weight else zero
    flat = torch.cat([a.flatten() for a in alphas])
    if kind == "l1":
        return coef * flat.abs().sum()
    return coef * flat.exp().sum()


class HardwarePenalty:
    """`penalty` times the alpha-weighted BitOps, normalised as the reference's FlopsLoss does.

    `calibrate(bitops_uniform)` fixes `F0` (call once, with the BitOps of the supernet under uniform
    alphas); until then the penalty cannot be evaluated. `state_dict`/`load_state_dict` carry `F0`
    across a resumed search.
    """

    def __init__(self, penalty: float, block_types: int = len(BLOCK_TYPES)) -> None:
        self.penalty = float(penalty)
        self.spread = block_types / 4
        self.norm: float | None = None

    @property
    def calibrated(self) -> bool:
        return self.norm is not None

    def calibrate(self, bitops_uniform: torch.Tensor | float) -> None:
        value = float(bitops_uniform)
        if not value > 0:
            raise ValueError(f"BitOps of the uniform supernet must be > 0 to normalise, got {value}")
        self.norm = value

    def __call__(self, weighted_bitops: torch.Tensor) -> torch.Tensor:
        if self.norm is None:
            raise RuntimeError("HardwarePenalty.calibrate() must be called before the penalty is used")
        low, high = self.norm / self.spread, self.norm * self.spread
        return self.penalty * (weighted_bitops - low) / (high - low)

    def state_dict(self) -> dict[str, float | None]:
        return {"norm": self.norm, "penalty": self.penalty, "spread": self.spread}

    def load_state_dict(self, state: dict[str, float | None]) -> None:
        self.norm = state["norm"]
