"""The discrete QuantNAS network of a genotype, built from Brevitas layers.

Same plan as the supernet (`architecture`): head -> ``body_cells`` residual cells (body + skip) in a
residual around the body -> upsample + pixel shuffle -> tail with a residual at HR, every residual
an `AdaptiveResidual` (ADM when ``skip_mode=False``). Every conv is a `QuantReLUConv` with the weight
and activation bits of its genotype entry (`genotype.layer_bits`: an ``('op', 4, 8)`` entry is w4a8,
an ``('op', 4)`` pair w4a4); ``act_bits``, when given, puts every activation at that width instead
(a uniform w4a8 network is then a genotype of 4-bit pairs with ``act_bits=8``). A nested genotype
(body/skip given per cell) gives each cell its own layers; it needs one list per cell and a head
(the reference's later, head-less architecture with distillation connections is a different network
and is not built here). ``image_residual`` and ``clip_output`` add the upsampled input at the
output and clip it at inference (`image_output`; off by default, as in the reference).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from sr_search_quantnas.adm import AdaptiveResidual
from sr_search_quantnas.architecture import check_scale, layer_channels
from sr_search_quantnas.genotype import Genotype_SR, Layer, is_nested, layer_bits
from sr_search_quantnas.image_output import ImageOutput
from sr_search_quantnas.layers import QuantReLUConv
from sr_search_quantnas.ops import op_spec


class ZeroOp(nn.Module):
    """The ``zero`` operation: outputs zeros shaped like its input."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.zeros_like(x)


def build_op(
    name: str, bits: int, c_in: int, c_out: int, c_fixed: int, act_bits: int | None = None
) -> nn.Module:
    """Operation ``name`` at ``bits`` (activations at ``act_bits``, default ``bits``) between ``c_in``
    and ``c_out`` channels, as Brevitas layers."""
    spec = op_spec(name, c_in, c_out, c_fixed)
    if spec.kind == "identity":
        return nn.Identity()
    if spec.kind == "zero":
        return ZeroOp()
    return nn.Sequential(*(QuantReLUConv(conv, bits, act_bits) for conv in spec.convs))


def build_block(
    block: str,
    gene: Sequence[Layer],
    c_fixed: int,
    in_channels: int,
    scale: int,
    act_bits: int | None = None,
) -> nn.Sequential:
    """The layers of one block type from its genotype entries (every activation at ``act_bits``
    when given, else at each entry's activation bits)."""
    layers = []
    for i, entry in enumerate(gene):
        name, bits, entry_act_bits = layer_bits(entry)
        c_in, c_out = layer_channels(block, i, len(gene), c_fixed, in_channels, scale)
        layers.append(
            build_op(name, bits, c_in, c_out, c_fixed, entry_act_bits if act_bits is None else act_bits)
        )
    return nn.Sequential(*layers)


class DerivedCell(nn.Module):
    """One residual cell: ``residual(x, skip(h) + body(h), x)``."""

    def __init__(self, body: nn.Module, skip: nn.Module, residual: AdaptiveResidual) -> None:
        super().__init__()
        self.body, self.skip, self.residual = body, skip, residual

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(x, lambda h: self.skip(h) + self.body(h), x)


class QuantNASNet(nn.Module):
    """A derived QuantNAS network of Brevitas QuantReLU/QuantConv2d layers; input
    (N, in_channels, h, w) -> (N, in_channels, h*s, w*s).

    ``act_bits`` (default None: each genotype entry's activation bits) sets every activation
    quantiser's width; the weights keep the genotype's. ``image_residual`` ("none", "nearest" or
    "bicubic") adds the upsampled input at the output; ``clip_output`` clips it to [0, 1] in eval.
    """

    def __init__(
        self,
        genotype: Genotype_SR,
        scale: int = 4,
        c_fixed: int = 36,
        body_cells: int = 3,
        skip_mode: bool = True,
        in_channels: int = 3,
        act_bits: int | None = None,
        image_residual: str = "none",
        clip_output: bool = False,
    ) -> None:
        super().__init__()
        self.genotype, self.scale, self.act_bits = genotype, check_scale(scale), act_bits
        if not genotype.head or not genotype.upsample:
            raise ValueError("genotype: head and upsample need at least one layer each")
        body_genes, skip_genes = _per_cell(genotype, body_cells)
        args = (c_fixed, in_channels, scale, act_bits)
        self.head = build_block("head", genotype.head, *args)
        self.cells = nn.ModuleList(
            DerivedCell(
                build_block("body", b, *args),
                build_block("skip", s, *args),
                AdaptiveResidual(c_fixed, skip_mode),
            )
            for b, s in zip(body_genes, skip_genes, strict=True)
        )
        self.body_residual = AdaptiveResidual(c_fixed, skip_mode)
        self.upsample = build_block("upsample", genotype.upsample, *args)
        self.pixel_shuffle = nn.PixelShuffle(scale)
        self.tail = build_block("tail", genotype.tail, *args)
        self.tail_residual = AdaptiveResidual(in_channels, skip_mode)
        self.image_output = ImageOutput(scale, image_residual, clip_output)

    def _body(self, h: Tensor) -> Tensor:
        for cell in self.cells:
            h = cell(h)
        return h

    def forward(self, x: Tensor) -> Tensor:
        features = self.head(x)
        h = self.pixel_shuffle(self.upsample(self.body_residual(features, self._body, features)))
        return self.image_output(self.tail_residual(h, self.tail, h), x)


def _per_cell(genotype: Genotype_SR, body_cells: int) -> tuple[list, list]:
    if isinstance(body_cells, bool) or not isinstance(body_cells, int) or body_cells < 1:
        raise ValueError(f"body_cells must be an integer >= 1, got {body_cells!r}")
    genes = []
    for field in ("body", "skip"):
        gene = getattr(genotype, field)
        if is_nested(gene):
            if len(gene) != body_cells:
                raise ValueError(f"genotype.{field} gives {len(gene)} cells but body_cells={body_cells}")
            genes.append(list(gene))
        else:
            genes.append([gene] * body_cells)
    if any(not cell for cell in genes[0] + genes[1]):
        raise ValueError("genotype: body and skip need at least one layer per cell")
    return genes[0], genes[1]


#: The quantised network of a genotype (the class itself, by the name the search and the apps use).
build_network = QuantNASNet
