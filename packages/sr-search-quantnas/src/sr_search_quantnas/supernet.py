"""The QuantNAS supernet: every layer holds every candidate operation at every bit width.

Layout (see `architecture`): head -> ``body_cells`` residual cells (body layers + skip layers on the
same input, summed; identical architecture, own weights) inside a residual around the whole body ->
upsample + pixel shuffle -> tail with a residual at HR. Each residual is an `AdaptiveResidual`
(ADM when ``skip_mode=False``). One architecture weight (alpha) per (operation, bit width) pair of
every layer, shared by all body cells; a selector (softmax, gumbel or hard_gumbel with a
temperature) turns alphas into mixing weights. How bit widths mix inside a layer is
``quant_mode``: "shared", "noise" (QuantNAS' quantisation noise) or "separate" (see `mixed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_deploy.quant import check_bits
from sr_search_quantnas.adm import AdaptiveResidual
from sr_search_quantnas.architecture import (
    BLOCK_TYPES,
    DEFAULT_PRIMITIVES,
    check_arch_pattern,
    check_scale,
    layer_channels,
)
from sr_search_quantnas.mixed import QUANT_MODES, MixedLayer
from sr_search_quantnas.ops import op_spec
from sr_search_quantnas.quantizers import SUPPORTED_BITS

ALPHA_SELECTORS = ("softmax", "gumbel", "hard_gumbel")

# The reference normalises the BitOps penalty between F0 / n and F0 * n, F0 the BitOps under
# uniform alphas and n = (number of block types) / 4.
_NORM_SPREAD = len(BLOCK_TYPES) / 4


class SearchBlock(nn.Module):
    """A chain of mixed layers of one block type."""

    def __init__(self, layers: Sequence[MixedLayer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, probs: Sequence[Tensor]) -> Tensor:
        for layer, p in zip(self.layers, probs, strict=True):
            x = layer(x, p)
        return x


class SearchCell(nn.Module):
    """One residual cell: ``residual(x, skip(h) + body(h), x)``."""

    def __init__(self, body: SearchBlock, skip: SearchBlock, residual: AdaptiveResidual) -> None:
        super().__init__()
        self.body, self.skip, self.residual = body, skip, residual

    def forward(self, x: Tensor, body_probs: Sequence[Tensor], skip_probs: Sequence[Tensor]) -> Tensor:
        return self.residual(x, lambda h: self.skip(h, skip_probs) + self.body(h, body_probs), x)


def resolve_primitives(primitives: Mapping[str, Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    """Candidate op names per block type: ``primitives`` where given, the reference defaults elsewhere."""
    given = dict(primitives or {})
    unknown = sorted(set(given) - set(BLOCK_TYPES))
    if unknown:
        raise ValueError(f"primitives: unknown block types {unknown}; known: {', '.join(BLOCK_TYPES)}")
    resolved = {}
    for block in BLOCK_TYPES:
        ops = given.get(block, DEFAULT_PRIMITIVES[block])
        if isinstance(ops, str) or not ops or len(set(ops)) != len(ops):
            raise ValueError(f"primitives.{block} must be a non-empty list of distinct op names, got {ops!r}")
        resolved[block] = tuple(ops)
    return resolved


class Supernet(nn.Module):
    """QuantNAS supernet for ``scale``x super-resolution; input (N, in_channels, h, w) in [0, 1]."""

    def __init__(
        self,
        scale: int,
        c_fixed: int,
        arch_pattern: Mapping[str, int],
        body_cells: int,
        bits: Sequence[int],
        primitives: Mapping[str, Sequence[str]] | None = None,
        skip_mode: bool = True,
        quant_mode: str = "shared",
        alpha_selector: str = "softmax",
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.scale = check_scale(scale)
        self.arch_pattern = check_arch_pattern(arch_pattern)
        if isinstance(body_cells, bool) or not isinstance(body_cells, int) or body_cells < 1:
            raise ValueError(f"body_cells must be an integer >= 1, got {body_cells!r}")
        if not bits or len(set(bits)) != len(bits):
            raise ValueError(f"bits must be a non-empty list of distinct bit widths, got {bits!r}")
        self.bits = tuple(check_bits(b, "bits", SUPPORTED_BITS) for b in bits)
        if quant_mode not in QUANT_MODES:
            raise ValueError(f"quant_mode must be one of {', '.join(QUANT_MODES)}, got {quant_mode!r}")
        if alpha_selector not in ALPHA_SELECTORS:
            raise ValueError(
                f"alpha_selector must be one of {', '.join(ALPHA_SELECTORS)}, got {alpha_selector!r}"
            )
        self.c_fixed, self.body_cells, self.in_channels = c_fixed, body_cells, in_channels
        self.skip_mode, self.quant_mode, self.alpha_selector = bool(skip_mode), quant_mode, alpha_selector
        self.primitives = resolve_primitives(primitives)
        self.temperature = 1.0
        self.selection: list[Tensor] | None = None

        self.head = self._block("head")
        self.cells = nn.ModuleList(
            SearchCell(self._block("body"), self._block("skip"), AdaptiveResidual(c_fixed, skip_mode))
            for _ in range(body_cells)
        )
        self.body_residual = AdaptiveResidual(c_fixed, skip_mode)
        self.upsample = self._block("upsample")
        self.pixel_shuffle = nn.PixelShuffle(scale)
        self.tail = self._block("tail")
        self.tail_residual = AdaptiveResidual(in_channels, skip_mode)

        self._layers = [(block, i) for block in BLOCK_TYPES for i in range(self.arch_pattern[block])]
        self.alpha = nn.ParameterList(
            nn.Parameter(torch.zeros(len(self.primitives[block]) * len(self.bits)))
            for block, _ in self._layers
        )
        hard = alpha_selector == "hard_gumbel"
        for module in self.modules():
            if isinstance(module, MixedLayer):
                module.skip_zero_ops = hard

    def _block(self, block: str) -> SearchBlock:
        count = self.arch_pattern[block]
        layers = []
        for i in range(count):
            c_in, c_out = layer_channels(block, i, count, self.c_fixed, self.in_channels, self.scale)
            ops = [op_spec(name, c_in, c_out, self.c_fixed) for name in self.primitives[block]]
            layers.append(MixedLayer(ops, self.bits, self.quant_mode))
        return SearchBlock(layers)

    # --- architecture parameters -------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Names of the searchable layers ("head.0", ..., "tail.1") in the order of `alphas()`."""
        return [f"{block}.{i}" for block, i in self._layers]

    def alphas(self) -> list[nn.Parameter]:
        """The architecture parameters, one vector per layer (length n_ops * n_bits, op-major)."""
        return list(self.alpha)

    def weights(self) -> list[nn.Parameter]:
        """Every parameter but the alphas (conv weights, LSQ scales, ADM)."""
        alpha_ids = {id(p) for p in self.alpha}
        return [p for p in self.parameters() if id(p) not in alpha_ids]

    def set_temperature(self, temperature: float) -> None:
        """Temperature of the gumbel selectors (the softmax selector ignores it, as the reference)."""
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.temperature = float(temperature)

    @contextmanager
    def frozen(self, part: str) -> Iterator[None]:
        """Within the block, ``part`` ("alphas" or "weights") does not require gradients.

        Use it around the forward + backward of the other part's step: the frozen part's gradient
        work is then skipped already in the forward graph (same update, less work).
        """
        if part not in ("alphas", "weights"):
            raise ValueError(f"frozen: part must be 'alphas' or 'weights', got {part!r}")
        params = self.alphas() if part == "alphas" else self.weights()
        states = [p.requires_grad for p in params]
        try:
            for p in params:
                p.requires_grad_(False)
            yield
        finally:
            for p, state in zip(params, states, strict=True):
                p.requires_grad_(state)

    def alpha_probs(self) -> list[Tensor]:
        """softmax over each layer's (op, bits) alphas."""
        return [F.softmax(a, dim=-1) for a in self.alpha]

    def select(self) -> list[Tensor]:
        """The selector's mixing weights for one forward (a fresh sample for gumbel selectors)."""
        if self.alpha_selector == "softmax":
            return self.alpha_probs()
        hard = self.alpha_selector == "hard_gumbel"
        return [F.gumbel_softmax(a, tau=self.temperature, hard=hard, dim=-1) for a in self.alpha]

    def _by_block(self, probs: Sequence[Tensor]) -> dict[str, list[Tensor]]:
        if len(probs) != len(self._layers):
            raise ValueError(f"expected {len(self._layers)} per-layer weight vectors, got {len(probs)}")
        grouped: dict[str, list[Tensor]] = {block: [] for block in BLOCK_TYPES}
        for (block, _), p in zip(self._layers, probs, strict=True):
            grouped[block].append(p)
        return grouped

    def mixed_layer(self, block: str, index: int, cell: int = 0) -> MixedLayer:
        """Layer ``index`` of ``block`` (of body cell ``cell`` for body and skip)."""
        owner = getattr(self.cells[cell], block) if block in ("body", "skip") else getattr(self, block)
        return owner.layers[index]

    # --- forward -----------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        self.selection = self.select()
        probs = self._by_block(self.selection)
        x = x.contiguous(memory_format=torch.channels_last)
        features = self.head(x, probs["head"])

        def body(h: Tensor) -> Tensor:
            for cell in self.cells:
                h = cell(h, probs["body"], probs["skip"])
            return h

        h = self.body_residual(features, body, features)
        h = self.pixel_shuffle(self.upsample(h, probs["upsample"]))
        h = h.contiguous(memory_format=torch.channels_last)
        out = self.tail_residual(h, lambda t: self.tail(t, probs["tail"]), h)
        return out.contiguous()

    # --- BitOps ------------------------------------------------------------------------------
    def _layer_costs(self, lr_size: tuple[int, int]) -> list[Tensor]:
        """Per layer, the BitOps of each (op, bits) pair (op-major), body/skip times body_cells."""
        height, width = lr_size
        if min(height, width) < 1:
            raise ValueError(f"lr_size must be positive (h, w), got {lr_size!r}")
        bits = torch.tensor(self.bits, dtype=torch.float64)
        costs = []
        for block, i in self._layers:
            layer = self.mixed_layer(block, i)
            pixels = height * width * (self.scale**2 if block == "tail" else 1)
            repeat = self.body_cells if block in ("body", "skip") else 1
            macs = torch.tensor(layer.macs_per_pixel(), dtype=torch.float64) * pixels * repeat
            costs.append((macs[:, None] * (bits * bits)[None, :]).flatten())
        return costs

    def bitops_table(self, lr_size: tuple[int, int]) -> dict[str, dict[tuple[str, int], int]]:
        """BitOps (MACs x b x b) of every (op, bits) candidate of every layer for one LR input of
        ``lr_size``; body and skip layers count all ``body_cells`` cells."""
        table = {}
        for name, (block, _), cost in zip(
            self.layer_names(), self._layers, self._layer_costs(lr_size), strict=True
        ):
            pairs = [(op, b) for op in self.primitives[block] for b in self.bits]
            table[name] = {pair: int(value) for pair, value in zip(pairs, cost.tolist(), strict=True)}
        return table

    def expected_bitops(
        self, lr_size: tuple[int, int], probs: Sequence[Tensor] | None = None, normalize: bool = False
    ) -> Tensor:
        """Alpha-weighted BitOps of the supernet (differentiable in the alphas).

        ``probs`` defaults to `alpha_probs()`; pass ``self.selection`` to weight by the last
        forward's selector sample as the reference does. ``normalize=True`` maps it as the
        reference's penalty does: ``(E - F0/n) / (F0*n - F0/n)`` with F0 the BitOps under uniform
        alphas and n = 5/4.
        """
        probs = self.alpha_probs() if probs is None else probs
        costs = self._layer_costs(lr_size)
        device, dtype = self.alpha[0].device, self.alpha[0].dtype
        expected = sum((p * c.to(device, dtype)).sum() for p, c in zip(probs, costs, strict=True))
        if not normalize:
            return expected
        uniform = sum(float(c.mean()) for c in costs)
        low, high = uniform / _NORM_SPREAD, uniform * _NORM_SPREAD
        return (expected - low) / (high - low)
