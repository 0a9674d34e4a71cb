"""Fake-quantisation maths shared by the supernet and the Brevitas layers.

Three quantisers, as QuantNAS uses them:

* HWGQ activation quantiser: ReLU, clip at ``step * (2**b - 1)``, round to the grid of ``step``.
  The step is fixed per bit width (the half-wave Gaussian quantiser's steps for a unit Gaussian).
* LSQ weight quantiser: per output channel learned scale ``s``, integers in
  ``[-2**(b-1), 2**(b-1) - 1]``, rounding with a straight-through gradient, and LSQ's gradient
  scaling of ``s``.
* Quantisation noise: the float tensor plus Gaussian noise the size of a b-bit quantiser's error
  (``range / (2**b - 1) * N(0, 1) / 2``), used by the supernet's "noise" mode.

``FLOAT_BITS`` (32) means "not quantised": plain ReLU and float weights.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sr_deploy.quant import check_bits

FLOAT_BITS = 32

# Steps of the half-wave Gaussian quantiser per bit width (values of the QuantNAS reference).
HWGQ_STEPS: dict[int, float] = {
    1: 1.0576462792297525,
    2: 0.6356366866203315,
    3: 0.3720645813370479,
    4: 0.21305606790772952,
    8: 0.020300567823662602,
    16: 9.714825915156693e-05,
}

SUPPORTED_BITS = (*sorted(HWGQ_STEPS), FLOAT_BITS)


def hwgq_step(bits: int) -> float:
    """Grid step of the HWGQ activation quantiser at ``bits`` (< 32)."""
    check_bits(bits, "bits", SUPPORTED_BITS)
    if bits >= FLOAT_BITS:
        raise ValueError("hwgq_step: 32 bits means no quantisation (plain ReLU)")
    return HWGQ_STEPS[bits]


class _RoundSTE(torch.autograd.Function):
    """Round to nearest (ties to even, like torch.round) with an identity gradient."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # noqa: D102
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: D102
        return grad


def round_ste(x: Tensor) -> Tensor:
    """Round with a straight-through gradient."""
    return _RoundSTE.apply(x)


class _HWGQ(torch.autograd.Function):
    """Clip to [0, clip], round to the grid of ``step``; gradient: identity inside [0, clip], else 0."""

    @staticmethod
    def forward(ctx, x: Tensor, step: float, clip: float) -> Tensor:  # noqa: D102
        ctx.save_for_backward(x)
        ctx.clip = clip
        return x.clamp(0.0, clip).div_(step).round_().mul_(step)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None, None]:  # noqa: D102
        (x,) = ctx.saved_tensors
        return grad * ((x >= 0) & (x <= ctx.clip)), None, None


def hwgq(x: Tensor, bits: int) -> Tensor:
    """HWGQ: ``relu`` then clip to ``[0, step*(2^b-1)]`` and round to the step grid (STE).

    At 32 bits this is exactly ``relu(x)``.
    """
    if bits >= FLOAT_BITS:
        return torch.relu(x)
    step = hwgq_step(bits)
    return _HWGQ.apply(x, step, step * float(2**bits - 1))


def lsq_limits(bits: int) -> tuple[int, int]:
    """Signed integer range of the LSQ weight quantiser (not narrow): ``(-2^(b-1), 2^(b-1)-1)``."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def lsq_init_scale(weight: Tensor, bits: int) -> Tensor:
    """LSQ's initial per-output-channel scale: ``2 * mean|W| / sqrt(2^(b-1) - 1)``, shape (C_out,1,1,1)."""
    _, high = lsq_limits(bits)
    dims = list(range(1, weight.dim()))
    return weight.detach().abs().mean(dim=dims, keepdim=True) * 2.0 / high**0.5


def _grad_scaled(value: Tensor, factor: float) -> Tensor:
    """``value`` in the forward pass, gradient multiplied by ``factor`` in the backward pass."""
    scaled = value * factor
    return (value - scaled).detach() + scaled


def lsq(weight: Tensor, scale: Tensor, bits: int) -> Tensor:
    """LSQ fake quantisation of ``weight`` with per-channel ``scale`` (identity at 32 bits)."""
    if bits >= FLOAT_BITS:
        return weight
    low, high = lsq_limits(bits)
    s = _grad_scaled(scale, 1.0 / (high * weight.numel()) ** 0.5)
    return round_ste((weight / s).clamp(low, high)) * s


def noise_unit(bits: int) -> float:
    """Size of one quantisation level relative to the tensor's range: ``1 / (2^b - 1)``."""
    return 1.0 / float(2**bits - 1)


def noise_std_per_range(bits: int) -> float:
    """Standard deviation of the b-bit quantisation noise per unit of range (Gaussian ``N(0,1)/2``)."""
    return 0.5 * noise_unit(bits)


def quant_noise(x: Tensor, bits: int, generator: torch.Generator | None = None) -> Tensor:
    """``x`` plus b-bit quantisation noise, detached (the reference's noise: no gradient through it)."""
    x = x.detach()
    spread = x.max() - x.min()
    noise = torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)
    return x + spread * noise_std_per_range(bits) * noise
