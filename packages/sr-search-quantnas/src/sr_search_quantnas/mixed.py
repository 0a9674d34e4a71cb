"""One searchable layer of the supernet: every operation at every bit width, mixed by the alphas.

A layer holds the candidate operations of its block; ``forward(x, probs)`` takes the layer's
selector weights ``probs`` (length n_ops * n_bits, op-major) and returns
``sum_op S_op * op(x)`` with ``S_op = sum_b probs[op, b]`` (identity: ``S_op * x``; zero: nothing),
where the convolutions of ``op`` see the bit widths mixed as the quantisation mode says:

* ``shared``: one float weight per conv; weights ``sum_b a_b LSQ_b(W)`` and inputs
  ``sum_b a_b HWGQ_b(x)`` with ``a = probs[op] / S_op`` (the reference's SharedQAConv2d);
* ``noise``: weights ``f W + sum_b a'_b (W + n_b(W))`` and inputs ``f relu(x) + sum_b a'_b
  (relu(x) + n_b(relu x))``, ``f = 1 / (n_bits + 1)``, ``a' = probs[op] / (S_op + f)``, where
  ``n_b(t)`` is Gaussian noise of a b-bit quantiser's size for the range of ``t``, fresh for every
  conv, and the noisy terms carry no gradient to W or x (the reference's QuaNoiseConv2d);
* ``separate``: every (op, bits) pair has its own weights: ``sum_b probs[op, b] op_b(x)``.

With ``act_bits`` given, the activation width is a choice of its own: ``forward(x, probs,
act_probs)`` takes the layer's activation selector weights too (length n_act_bits), ``probs`` then
mixes the weight bits only, and every conv's input mixes the activation widths by ``act_probs``
(the same for all ops of the layer) in place of ``a``: ``sum_a act_probs[a] HWGQ_a(x)`` (shared),
``f_a relu(x) + sum_a act_probs[a] / (1 + f_a) (relu(x) + n_a(relu x))`` with
``f_a = 1 / (n_act_bits + 1)`` (noise), and ``sum_{b,a} probs[op, b] act_probs[a] op_{b,a}(x)``
with the weights of b and inputs at a (separate). Without it the activations follow the weight bits,
as in the reference.

Speed (same maths): the input quantisation of the layer is computed once and shared by the first
conv of every operation, mixtures are written as ``q_last + sum_{b<last} a_b (q_b - q_last)`` (one
fused multiply-add per extra bit width), noise is drawn for all bit widths in one call, the
alpha-free work is skipped for operations a hard selector switched off, and tensors stay in
channels-last layout (several times faster convolutions on CPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_search_quantnas.ops import ConvSpec, OpSpec
from sr_search_quantnas.quantizers import hwgq, lsq, lsq_init_scale, noise_std_per_range

QUANT_MODES = ("shared", "noise", "separate")


def _mix_basis(parts: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """``(last, [part_b - last for b < last])``: what `_mix` needs, computed once per input."""
    return parts[-1], [part - parts[-1] for part in parts[:-1]]


def _mix(basis: tuple[Tensor, list[Tensor]], coefs: Tensor) -> Tensor:
    """``sum_b coefs[b] parts[b]`` for coefficients summing to one: last + sum coefs[b] (part_b - last)."""
    out, diffs = basis
    for coef, diff in zip(coefs[:-1], diffs, strict=True):
        out = torch.addcmul(out, coef, diff)
    return out


class SearchConv(nn.Module):
    """The weights of one conv slot of a candidate op: a float weight (one per bit width in
    "separate" mode) and, unless in "noise" mode, one learned LSQ scale per bit width."""

    def __init__(self, spec: ConvSpec, bits: Sequence[int], quant_mode: str) -> None:
        super().__init__()
        self.spec = spec
        self.bits = tuple(bits)
        shape = (spec.out_channels, spec.in_channels // spec.groups, *spec.kernel)
        separate = quant_mode == "separate"
        copies = len(self.bits) if separate else 1
        self.weight = nn.ParameterList(nn.Parameter(self._init_weight(shape)) for _ in range(copies))
        self.scale = nn.ParameterList(
            nn.Parameter(lsq_init_scale(self.weight[i if separate else 0], b).clone())
            for i, b in enumerate(self.bits)
            if quant_mode != "noise"
        )

    @staticmethod
    def _init_weight(shape: tuple[int, ...]) -> Tensor:
        weight = torch.empty(shape)
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # nn.Conv2d's default
        return weight

    def conv(self, x: Tensor, weight: Tensor) -> Tensor:
        return F.conv2d(x, weight, None, 1, self.spec.padding, 1, self.spec.groups)

    def quantized_weights(self) -> list[Tensor]:
        """LSQ_b(W_b) for every bit width (W shared unless separate)."""
        separate = len(self.weight) > 1
        return [lsq(self.weight[i if separate else 0], self.scale[i], b) for i, b in enumerate(self.bits)]


class _LayerInput:
    """Per-forward cache of what every op's first conv needs from the layer input."""

    def __init__(self, x: Tensor, bits: Sequence[int]) -> None:
        self.x, self.bits = x, bits
        self._quantized: list[Tensor] | None = None
        self._basis: tuple[Tensor, list[Tensor]] | None = None
        self._relu: tuple[Tensor, Tensor] | None = None

    def quantized(self) -> list[Tensor]:
        if self._quantized is None:
            self._quantized = [hwgq(self.x, b) for b in self.bits]
        return self._quantized

    def mix_basis(self) -> tuple[Tensor, list[Tensor]]:
        if self._basis is None:
            self._basis = _mix_basis(self.quantized())
        return self._basis

    def relu_and_spread(self) -> tuple[Tensor, Tensor]:
        if self._relu is None:
            self._relu = _relu_and_spread(self.x)
        return self._relu


def _relu_and_spread(x: Tensor) -> tuple[Tensor, Tensor]:
    r = torch.relu(x)
    low, high = torch.aminmax(r.detach())
    return r, high - low


def _gaussian_like(t: Tensor) -> Tensor:
    """Standard Gaussian noise shaped like ``t``, drawn in t's memory order (channels-last stays so)."""
    if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
        n, c, h, w = t.shape
        return torch.randn(n, h, w, c, dtype=t.dtype, device=t.device).permute(0, 3, 1, 2)
    return torch.randn(t.shape, dtype=t.dtype, device=t.device)


def _flat_view(t: Tensor) -> Tensor | None:
    """A 1-d view of a dense tensor in its memory order (channels-last or contiguous), else None."""
    if t.is_contiguous():
        return t.view(-1)
    if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).reshape(-1)
    return None


def _inner(a: Tensor, b: Tensor) -> Tensor:
    """``(a * b).sum()`` without the temporary when both are dense in the same memory order."""
    flat_a, flat_b = _flat_view(a), _flat_view(b)
    if flat_a is not None and flat_b is not None and a.stride() == b.stride():
        return torch.dot(flat_a, flat_b)
    return (a * b).sum()


class _NoisyMix(torch.autograd.Function):
    """``fp * t + sum_b c_b * (t + n_b).detach()`` with independent ``n_b ~ N(0, s_b^2)``.

    The per-bit noises are drawn as one Gaussian of the summed variance ``sum_b (c_b s_b)^2``: the
    same distribution as the reference's sum of independent draws, from 1/n_bits of the random
    numbers. Gradients: ``fp`` to ``t`` (the noisy copies are constants, as in the reference);
    to ``c_b``: ``<g, t>`` plus the noise's pathwise derivative ``<g, z> c_b s_b^2 / sigma``.
    """

    @staticmethod
    def forward(ctx, t: Tensor, coefs: Tensor, noise_std: Tensor, fp: float) -> Tensor:  # noqa: D102
        sigma = torch.sqrt(((coefs * noise_std) ** 2).sum())
        z = _gaussian_like(t)
        ctx.save_for_backward(t, z, coefs, noise_std, sigma)
        ctx.fp = fp
        return torch.mul(t, fp + coefs.sum()).addcmul_(z, sigma)  # 0-d tensors: no device sync

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None, None]:  # noqa: D102
        t, z, coefs, noise_std, sigma = ctx.saved_tensors
        grad_t = grad * ctx.fp if ctx.needs_input_grad[0] else None
        grad_coefs = None
        if ctx.needs_input_grad[1]:
            along_t, along_z = _inner(grad, t), _inner(grad, z)
            grad_coefs = along_t + along_z * coefs * noise_std**2 / sigma.clamp_min(
                torch.finfo(sigma.dtype).tiny
            )
        return grad_t, grad_coefs, None, None


class MixedLayer(nn.Module):
    """Every candidate op of one layer at every bit width; see the module docstring.

    ``act_bits`` (default None: activations at the weight bits) makes the activation width a
    separate choice among these widths. The op's factor ``S_op`` is applied to the last conv's
    weights (convolution is linear), not to its output.
    """

    def __init__(
        self,
        ops: Sequence[OpSpec],
        bits: Sequence[int],
        quant_mode: str,
        act_bits: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if quant_mode not in QUANT_MODES:
            raise ValueError(f"quant_mode must be one of {', '.join(QUANT_MODES)}, got {quant_mode!r}")
        self.specs = tuple(ops)
        self.bits = tuple(bits)
        self.tied = act_bits is None
        self.act_bits = self.bits if act_bits is None else tuple(act_bits)
        self.quant_mode = quant_mode
        self.ops = nn.ModuleList(
            nn.ModuleList(SearchConv(conv, self.bits, quant_mode) for conv in spec.convs)
            for spec in self.specs
        )
        for name, widths in (("noise_std", self.bits), ("act_noise_std", self.act_bits)):
            stds = torch.tensor([noise_std_per_range(b) for b in widths])
            self.register_buffer(name, stds, persistent=False)
        self.skip_zero_ops = False  # set by the supernet for hard selectors

    def forward(self, x: Tensor, probs: Tensor, act_probs: Tensor | None = None) -> Tensor:
        if (act_probs is None) != self.tied:
            raise ValueError(
                "act_probs must be given exactly when the layer searches activation bits separately"
            )
        weights = probs.view(len(self.specs), len(self.bits))
        active = (weights != 0).any(dim=1).tolist() if self.skip_zero_ops else [True] * len(self.specs)
        layer_input = _LayerInput(x, self.act_bits)
        out: Tensor | None = None
        for spec, convs, alpha, on in zip(self.specs, self.ops, weights, active, strict=True):
            if not on or spec.kind == "zero":
                continue
            if spec.kind == "identity":
                y = x * alpha.sum()
            elif self.quant_mode == "separate":
                y = self._separate(convs, layer_input, alpha, act_probs)
            else:
                y = self._chain(convs, layer_input, alpha, alpha.sum(), act_probs)
            out = y if out is None else out + y
        if out is None:  # only zero ops (or all switched off): the zero op's output
            c_out = self.specs[0].out_channels
            return x.new_zeros(x.shape[0], c_out, *x.shape[2:]).contiguous(memory_format=torch.channels_last)
        return out

    def _chain(
        self,
        convs: Sequence[SearchConv],
        layer_input: _LayerInput,
        alpha: Tensor,
        total: Tensor,
        act_probs: Tensor | None,
    ) -> Tensor:
        h = layer_input.x
        if self.quant_mode == "shared":
            coefs = alpha / total
            act_coefs = coefs if act_probs is None else act_probs
            for i, conv in enumerate(convs):
                acts = layer_input.mix_basis() if i == 0 else _mix_basis([hwgq(h, b) for b in self.act_bits])
                weight = _mix(_mix_basis(conv.quantized_weights()), coefs)
                h = conv.conv(_mix(acts, act_coefs), weight * total if i == len(convs) - 1 else weight)
            return h
        fp = 1.0 / (len(self.bits) + 1)
        coefs = alpha / (total + fp)
        act_fp = fp if act_probs is None else 1.0 / (len(self.act_bits) + 1)
        act_coefs = coefs if act_probs is None else act_probs / (1.0 + act_fp)
        for i, conv in enumerate(convs):
            r, spread = layer_input.relu_and_spread() if i == 0 else _relu_and_spread(h)
            acts = _NoisyMix.apply(r, act_coefs, self.act_noise_std * spread, act_fp)
            w = conv.weight[0]
            low, high = torch.aminmax(w.detach())
            weight = _NoisyMix.apply(w, coefs, self.noise_std * (high - low), fp)
            h = conv.conv(acts, weight * total if i == len(convs) - 1 else weight)
        return h

    def _separate(
        self,
        convs: Sequence[SearchConv],
        layer_input: _LayerInput,
        alpha: Tensor,
        act_probs: Tensor | None,
    ) -> Tensor:
        """``sum_{b,a} c_{b,a} op(x)`` with the weights of bit width b and inputs at width a; tied,
        only the pairs a = b with ``c = alpha``, else every pair with ``c = alpha[b] act_probs[a]``."""
        if act_probs is None:
            pairs = [(b, b, alpha[b]) for b in range(len(self.bits))]
        else:
            pairs = [
                (b, a, alpha[b] * act_probs[a])
                for b in range(len(self.bits))
                for a in range(len(self.act_bits))
            ]
        out = None
        per_conv_weights = [conv.quantized_weights() for conv in convs]
        for b, a, coef in pairs:
            h = layer_input.quantized()[a]
            for i, conv in enumerate(convs):
                acts = h if i == 0 else hwgq(h, self.act_bits[a])
                h = conv.conv(acts, per_conv_weights[i][b])
            y = h * coef
            out = y if out is None else out + y
        return out

    def macs_per_pixel(self) -> list[int]:
        """MACs of each candidate op per output pixel (the convs keep the spatial size)."""
        return [spec.macs(1, 1) for spec in self.specs]
