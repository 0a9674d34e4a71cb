"""The QuantNAS supernet: every layer holds every candidate operation at every bit width.

Layout (see `architecture`): head -> ``body_cells`` residual cells (body layers + skip layers on the
same input, summed; identical architecture, own weights) inside a residual around the whole body ->
upsample + pixel shuffle -> tail with a residual at HR. Each residual is an `AdaptiveResidual`
(ADM when ``skip_mode=False``). One architecture weight (alpha) per (operation, bit width) pair of
every layer, shared by all body cells; a selector (softmax, gumbel or hard_gumbel with a
temperature) turns alphas into mixing weights. How bit widths mix inside a layer is
``quant_mode``: "shared", "noise" (QuantNAS' quantisation noise) or "separate" (see `mixed`).

The activations follow the weight bits (the reference), or, with ``act_bits``, their width is a
choice of its own: every layer gets a second alpha vector, one weight per activation width, and
its expected BitOps are ``E[MACs x weight bits] x E[activation bits]`` (the two choices independent).
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
from sr_search_quantnas.image_output import ImageOutput
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

    def forward(self, x: Tensor, probs: Sequence[tuple[Tensor, Tensor | None]]) -> Tensor:
        """``probs``: per layer, its (op, bits) weights and its activation-bit weights (or None)."""
        for layer, (p, act_p) in zip(self.layers, probs, strict=True):
            x = layer(x, p, act_p)
        return x


class SearchCell(nn.Module):
    """One residual cell: ``residual(x, skip(h) + body(h), x)``."""

    def __init__(self, body: SearchBlock, skip: SearchBlock, residual: AdaptiveResidual) -> None:
        super().__init__()
        self.body, self.skip, self.residual = body, skip, residual

    def forward(self, x: Tensor, body_probs: Sequence[tuple], skip_probs: Sequence[tuple]) -> Tensor:
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
    """QuantNAS supernet for ``scale``x super-resolution; input (N, in_channels, h, w) in [0, 1].

    ``bits`` are the candidate weight widths; ``act_bits`` (default None: activations at the weight
    bits) the candidate activation widths, searched as a separate choice. ``image_residual`` and
    ``clip_output`` as in the derived network (`image_output`).
    """

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
        act_bits: Sequence[int] | None = None,
        image_residual: str = "none",
        clip_output: bool = False,
    ) -> None:
        super().__init__()
        self.scale = check_scale(scale)
        self.arch_pattern = check_arch_pattern(arch_pattern)
        if isinstance(body_cells, bool) or not isinstance(body_cells, int) or body_cells < 1:
            raise ValueError(f"body_cells must be an integer >= 1, got {body_cells!r}")
        if not bits or len(set(bits)) != len(bits):
            raise ValueError(f"bits must be a non-empty list of distinct bit widths, got {bits!r}")
        self.bits = tuple(check_bits(b, "bits", SUPPORTED_BITS) for b in bits)
        if act_bits is not None and (not act_bits or len(set(act_bits)) != len(act_bits)):
            raise ValueError(f"act_bits must be a non-empty list of distinct bit widths, got {act_bits!r}")
        self.act_bits = (
            None if act_bits is None else tuple(check_bits(b, "act_bits", SUPPORTED_BITS) for b in act_bits)
        )
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
        self.image_output = ImageOutput(scale, image_residual, clip_output)

        self._layers = [(block, i) for block in BLOCK_TYPES for i in range(self.arch_pattern[block])]
        self.alpha = nn.ParameterList(
            nn.Parameter(torch.zeros(len(self.primitives[block]) * len(self.bits)))
            for block, _ in self._layers
        )
        self.act_alpha = nn.ParameterList(
            nn.Parameter(torch.zeros(len(self.act_bits))) for _ in self._layers if self.act_bits is not None
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
            layers.append(MixedLayer(ops, self.bits, self.quant_mode, self.act_bits))
        return SearchBlock(layers)

    # --- architecture parameters -------------------------------------------------------------
    def layer_names(self) -> list[str]:
        """Names of the searchable layers ("head.0", ..., "tail.1") in the order of `alpha`."""
        return [f"{block}.{i}" for block, i in self._layers]

    def alphas(self) -> list[nn.Parameter]:
        """The architecture parameters: one (op, bits) vector per layer (length n_ops * n_bits,
        op-major), then, when activation bits are searched, one activation-bit vector per layer."""
        return [*self.alpha, *self.act_alpha]

    def alpha_names(self) -> list[str]:
        """A name per vector of `alphas()`: the layer's, with ".act" for its activation-bit vector."""
        names = self.layer_names()
        return names + [f"{name}.act" for name in names if self.act_bits is not None]

    def alpha_labels(self) -> list[list[str]]:
        """Per vector of `alphas()`, a label per candidate: "op@bits", or "act@bits"."""
        labels = [
            [f"{op}@{b}" for op in self.primitives[block] for b in self.bits] for block, _ in self._layers
        ]
        return labels + [[f"act@{b}" for b in self.act_bits] for _ in self.act_alpha]

    def weights(self) -> list[nn.Parameter]:
        """Every parameter but the alphas (conv weights, LSQ scales, ADM)."""
        alpha_ids = {id(p) for p in self.alphas()}
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
        """softmax over each vector of `alphas()`."""
        return [F.softmax(a, dim=-1) for a in self.alphas()]

    def select(self) -> list[Tensor]:
        """The selector's mixing weights for one forward, one per vector of `alphas()` (a fresh
        sample for gumbel selectors)."""
        if self.alpha_selector == "softmax":
            return self.alpha_probs()
        hard = self.alpha_selector == "hard_gumbel"
        return [F.gumbel_softmax(a, tau=self.temperature, hard=hard, dim=-1) for a in self.alphas()]

    def _per_layer(self, probs: Sequence[Tensor]) -> list[tuple[Tensor, Tensor | None]]:
        """Weights aligned with `alphas()` as (op-bits weights, activation-bit weights or None) per layer."""
        if len(probs) != len(self.alpha) + len(self.act_alpha):
            raise ValueError(
                f"expected {len(self.alpha) + len(self.act_alpha)} weight vectors (one per alpha vector), "
                f"got {len(probs)}"
            )
        layers = len(self._layers)
        act_probs = list(probs[layers:]) if self.act_bits is not None else [None] * layers
        return list(zip(probs[:layers], act_probs, strict=True))

    def _by_block(self, probs: Sequence[Tensor]) -> dict[str, list[tuple[Tensor, Tensor | None]]]:
        grouped: dict[str, list[tuple[Tensor, Tensor | None]]] = {block: [] for block in BLOCK_TYPES}
        for (block, _), pair in zip(self._layers, self._per_layer(probs), strict=True):
            grouped[block].append(pair)
        return grouped

    def mixed_layer(self, block: str, index: int, cell: int = 0) -> MixedLayer:
        """Layer ``index`` of ``block`` (of body cell ``cell`` for body and skip)."""
        owner = getattr(self.cells[cell], block) if block in ("body", "skip") else getattr(self, block)
        return owner.layers[index]

    # --- forward -----------------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tensor:
        self.selection = self.select()
        probs = self._by_block(self.selection)
        lr, x = x, x.contiguous(memory_format=torch.channels_last)
        features = self.head(x, probs["head"])

        def body(h: Tensor) -> Tensor:
            for cell in self.cells:
                h = cell(h, probs["body"], probs["skip"])
            return h

        h = self.body_residual(features, body, features)
        h = self.pixel_shuffle(self.upsample(h, probs["upsample"]))
        h = h.contiguous(memory_format=torch.channels_last)
        out = self.tail_residual(h, lambda t: self.tail(t, probs["tail"]), h)
        return self.image_output(out.contiguous(), lr)

    # --- BitOps ------------------------------------------------------------------------------
    def _layer_costs(self, lr_size: tuple[int, int]) -> list[tuple[Tensor, Tensor]]:
        """Per layer, (the cost of each (op, bits) pair (op-major), the factor of each activation
        width): MACs x b x b and (1,) when the activations follow the weights, MACs x b and the
        activation widths when searched; body/skip MACs times body_cells."""
        height, width = lr_size
        if min(height, width) < 1:
            raise ValueError(f"lr_size must be positive (h, w), got {lr_size!r}")
        bits = torch.tensor(self.bits, dtype=torch.float64)
        weight_factor = bits if self.act_bits is not None else bits * bits
        act_factor = torch.tensor(self.act_bits or (1,), dtype=torch.float64)
        costs = []
        for block, i in self._layers:
            layer = self.mixed_layer(block, i)
            pixels = height * width * (self.scale**2 if block == "tail" else 1)
            repeat = self.body_cells if block in ("body", "skip") else 1
            macs = torch.tensor(layer.macs_per_pixel(), dtype=torch.float64) * pixels * repeat
            costs.append(((macs[:, None] * weight_factor[None, :]).flatten(), act_factor))
        return costs

    def bitops_table(self, lr_size: tuple[int, int]) -> dict[str, dict[tuple, int]]:
        """BitOps (MACs x weight bits x activation bits) of every candidate of every layer for one LR
        input of ``lr_size``, keyed like genotype entries: (op, bits), or (op, weight_bits,
        act_bits) when activation bits are searched; body and skip layers count all cells."""
        table = {}
        for name, (block, _), (cost, act_factor) in zip(
            self.layer_names(), self._layers, self._layer_costs(lr_size), strict=True
        ):
            pairs = [(op, b) for op in self.primitives[block] for b in self.bits]
            if self.act_bits is None:
                table[name] = {pair: int(value) for pair, value in zip(pairs, cost.tolist(), strict=True)}
                continue
            table[name] = {
                (*pair, a): int(value * a)
                for pair, value in zip(pairs, cost.tolist(), strict=True)
                for a in act_factor.int().tolist()
            }
        return table

    def expected_bitops(
        self, lr_size: tuple[int, int], probs: Sequence[Tensor] | None = None, normalize: bool = False
    ) -> Tensor:
        """Alpha-weighted BitOps of the supernet (differentiable in the alphas): per layer
        ``sum_(op,b) p[op,b] MACs_op b b``, or with searched activation bits
        ``(sum_(op,b) p[op,b] MACs_op b) (sum_a q[a] a)``.

        ``probs`` (one vector per `alphas()` vector) defaults to `alpha_probs()`; pass
        ``self.selection`` to weight by the last forward's selector sample as the reference does.
        ``normalize=True`` maps it as the reference's penalty does: ``(E - F0/n) / (F0*n - F0/n)``
        with F0 the BitOps under uniform alphas and n = 5/4.
        """
        probs = self.alpha_probs() if probs is None else probs
        costs = self._layer_costs(lr_size)
        device, dtype = self.alpha[0].device, self.alpha[0].dtype
        expected = sum(
            (p * cost.to(device, dtype)).sum() * (1.0 if q is None else (q * act.to(device, dtype)).sum())
            for (p, q), (cost, act) in zip(self._per_layer(probs), costs, strict=True)
        )
        if not normalize:
            return expected
        uniform = sum(float(cost.mean() * act.mean()) for cost, act in costs)
        low, high = uniform / _NORM_SPREAD, uniform * _NORM_SPREAD
        return (expected - low) / (high - low)
