"""Re-parameterisable plain stacks: the networks of a latency-aware search space, written as genes.

At inference such a network is a plain conv stack: a head conv, ``N`` body convs, a tail conv to
``3 * scale**2`` channels and a pixel shuffle, with optional global residuals. What differs between
networks is each layer's width, activation and *training-time block*, which collapses exactly to
one conv (`sr_reparam.deploy`):

- ``conv``: a plain kxk conv;
- ``ecb``: ECBSR's edge-oriented block (3x3 only);
- ``rep``: a RepVGG-style block, kxk + 1x1 + identity (the identity where the widths agree);
- ``lin<p>``: SESR's collapsible linear block, a kxk conv expanded to ``p`` channels then a 1x1 back,
  with SESR's short residual where the widths agree.

Body layers carry the identity/short residual; the head and tail never do (as in SESR and ECBSR).

Genes are short strings, one per layer, so that a network prints and parses back:

- the first gene is the global one: ``plain`` or ``+``-joined flags, ``nearest`` or ``bicubic`` (the
  upsampled input added at the output), ``long`` (SESR's long residual: the head's output added
  before the tail), ``center`` (the input shifted by -0.5, as SESR does), ``clip`` (output clamped
  to [0, 1]);
- then the head and the body layers, ``<block>[k<kernel>]_<width>_<act>`` with act ``relu``,
  ``prelu`` or ``none``, e.g. ``ecb_16_prelu``, ``lin256k5_16_none``, ``rep_24_relu``;
- last the tail, ``<block>[k<kernel>]`` (its width is ``3 * scale**2`` and it has no activation).

ECBSR-M4C16 and SESR-M5 are points of this space (`REPSTACK_PRESETS`): their genes build networks
with the registry's parameter counts and the same functions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sr_blocks.ecbsr import ECB
from sr_blocks.layers import (
    FusedKernelCache,
    add_to_every_subpixel,
    check_training_mode,
    records_gradients,
    training_mode_property,
)
from sr_blocks.registry import register_model
from sr_blocks.sesr import LinearBlock
from sr_reparam.kernels import fold_residual, pad_kernel

BLOCKS = ("conv", "ecb", "rep", "lin")
ACTIVATIONS = ("relu", "prelu", "none")
GLOBAL_FLAGS = ("nearest", "bicubic", "long", "center", "clip")
_BLOCK = re.compile(r"^(conv|ecb|rep|lin)(\d+)?(?:k(\d+))?$")

#: Hand-designed networks written as genes of this space.
REPSTACK_PRESETS: dict[str, list[str]] = {
    "ecbsr_m4c16": ["nearest", "ecb_16_prelu", *["ecb_16_prelu"] * 4, "ecb"],
    "sesr_m5": ["nearest+long+center+clip", "lin256k5_16_none", *["lin256_16_prelu"] * 5, "lin256k5"],
}


@dataclass(frozen=True)
class LayerGene:
    """One layer: its training-time block, kernel size, output width and activation."""

    block: str
    kernel: int
    width: int
    act: str
    expansion: int = 0  # lin's expanded width

    def text(self, tail: bool = False) -> str:
        name = f"{self.block}{self.expansion or ''}{'' if self.kernel == 3 else f'k{self.kernel}'}"
        return name if tail else f"{name}_{self.width}_{self.act}"


@dataclass(frozen=True)
class RepStackGenes:
    """A parsed gene list: the global flags, the head, the body layers and the tail."""

    flags: frozenset[str]
    head: LayerGene
    body: tuple[LayerGene, ...]
    tail: LayerGene

    def texts(self) -> list[str]:
        """The gene strings, in the canonical order and spelling (`parse_repstack_genes` reads them)."""
        flags = "+".join(f for f in GLOBAL_FLAGS if f in self.flags) or "plain"
        return [flags, self.head.text(), *(g.text() for g in self.body), self.tail.text(tail=True)]


def _parse_block(text: str, gene: str) -> tuple[str, int, int]:
    match = _BLOCK.match(text)
    if not match:
        raise ValueError(f"repstack gene {gene!r}: block {text!r} is not one of {BLOCKS} [k<kernel>]")
    block, expansion, kernel = match.group(1), int(match.group(2) or 0), int(match.group(3) or 3)
    if block == "lin" and expansion < 1:
        raise ValueError(f"repstack gene {gene!r}: a lin block needs its expansion width, e.g. lin256")
    if block != "lin" and match.group(2):
        raise ValueError(f"repstack gene {gene!r}: only lin takes an expansion width")
    if kernel % 2 == 0 or kernel < 1 or (block == "ecb" and kernel != 3):
        raise ValueError(f"repstack gene {gene!r}: kernel {kernel} (odd sizes; ecb is 3x3 only)")
    return block, expansion, kernel


def _parse_layer(gene: str) -> LayerGene:
    parts = gene.split("_")
    if len(parts) != 3:
        raise ValueError(f"repstack gene {gene!r} is not <block>[k<kernel>]_<width>_<act>")
    block, expansion, kernel = _parse_block(parts[0], gene)
    if not parts[1].isdigit() or int(parts[1]) < 1:
        raise ValueError(f"repstack gene {gene!r}: width {parts[1]!r} is not a positive integer")
    if parts[2] not in ACTIVATIONS:
        raise ValueError(f"repstack gene {gene!r}: activation {parts[2]!r} is not one of {ACTIVATIONS}")
    return LayerGene(block, kernel, int(parts[1]), parts[2], expansion)


def parse_repstack_genes(genes: str | Sequence[str], scale: int = 2, out_channels: int = 3) -> RepStackGenes:
    """Parse a gene list (or its comma-joined text); a bad gene is a ValueError naming it."""
    items = [g.strip() for g in genes.split(",")] if isinstance(genes, str) else [str(g) for g in genes]
    if len(items) < 3:
        raise ValueError(f"repstack genes need a global gene, a head and a tail, got {items}")
    flags = frozenset() if items[0] == "plain" else frozenset(items[0].split("+"))
    unknown = sorted(flags - set(GLOBAL_FLAGS))
    if unknown:
        raise ValueError(f"repstack global gene {items[0]!r}: unknown {unknown}; flags are {GLOBAL_FLAGS}")
    if {"nearest", "bicubic"} <= flags:
        raise ValueError(f"repstack global gene {items[0]!r}: choose nearest or bicubic, not both")
    head, body = _parse_layer(items[1]), tuple(_parse_layer(g) for g in items[2:-1])
    block, expansion, kernel = _parse_block(items[-1], items[-1])
    tail = LayerGene(block, kernel, out_channels * scale * scale, "none", expansion)
    if "long" in flags and body and body[-1].width != head.width:
        raise ValueError(
            f"repstack genes {items}: the long residual needs the last body width ({body[-1].width}) "
            f"to equal the head's ({head.width})"
        )
    return RepStackGenes(flags, head, body, tail)


class RepVGGBlock(nn.Module):
    """A kxk conv, a 1x1 conv and (``identity``, needs in == out) the input, summed (no BatchNorm).

    Like ECB it trains on the one kxk conv the branches sum to, computed at every step
    (``training_mode="collapsed"``), or runs the branches (``"expanded"``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        identity: bool = True,
        training_mode: str = "collapsed",
    ) -> None:
        super().__init__()
        self.identity = identity and in_channels == out_channels
        self.training_mode = check_training_mode(training_mode)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.conv1x1 = nn.Conv2d(in_channels, out_channels, 1)
        self._fused_cache = FusedKernelCache()

    def fused(self) -> tuple[Tensor, Tensor]:
        """The (weight, bias) of the one kxk conv this block equals."""
        weight = self.conv.weight + pad_kernel(self.conv1x1.weight, self.conv.kernel_size[0])
        bias = self.conv.bias + self.conv1x1.bias
        return fold_residual(weight, bias) if self.identity else (weight, bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.training_mode == "expanded":
            y = self.conv(x) + self.conv1x1(x)
            return y + x if self.identity else y
        parameters = list(self.parameters())
        if records_gradients(parameters):
            weight, bias = self.fused()
        else:
            weight, bias = self._fused_cache.get(parameters, self.fused)
        return F.conv2d(x, weight, bias, padding=self.conv.padding)

    @torch.no_grad()
    def reparameterize(self) -> nn.Conv2d:
        """The plain kxk conv this block equals."""
        weight, bias = self.fused()
        conv = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[-1], padding=weight.shape[-1] // 2)
        conv = conv.to(weight)
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
        return conv


def _activation(act: str, channels: int) -> nn.Module:
    return {"relu": lambda: nn.ReLU(inplace=True), "prelu": lambda: nn.PReLU(channels), "none": nn.Identity}[
        act
    ]()


def _layer(gene: LayerGene, in_channels: int, residual: bool, training_mode: str) -> nn.Sequential:
    """The training-time block of `gene` followed by its activation."""
    cin, cout, k = in_channels, gene.width, gene.kernel
    if gene.block == "conv":
        block: nn.Module = nn.Conv2d(cin, cout, k, padding=k // 2)
    elif gene.block == "ecb":
        block = ECB(cin, cout, 2.0, "linear", with_idt=False, training_mode=training_mode)
    elif gene.block == "rep":
        block = RepVGGBlock(cin, cout, k, identity=residual, training_mode=training_mode)
    else:
        shortcut = residual and cin == cout
        block = LinearBlock(cin, cout, k, gene.expansion, shortcut, training_mode=training_mode)
    return nn.Sequential(block, _activation(gene.act, cout))


class RepStack(nn.Module):
    """A re-parameterisable plain stack built from genes (module docstring); deploys to plain convs.

    Args:
        genes: the gene list or its comma-joined text.
        scale: 2, 3 or 4.
        in_channels, out_channels: image channels; the image-space residuals need them equal.
        training_mode: 'collapsed' (default) or 'expanded' for every re-parameterisable block.
    """

    def __init__(
        self,
        genes: str | Sequence[str],
        scale: int = 2,
        in_channels: int = 3,
        out_channels: int = 3,
        training_mode: str = "collapsed",
    ) -> None:
        super().__init__()
        spec = parse_repstack_genes(genes, scale, out_channels)
        self.genes = spec.texts()
        self.scale, self.flags = scale, spec.flags
        if in_channels != out_channels:
            self.flags = spec.flags - {"nearest", "bicubic"}
        self.head = _layer(spec.head, in_channels, False, training_mode)
        layers, width = [], spec.head.width
        for gene in spec.body:
            layers.append(_layer(gene, width, True, training_mode))
            width = gene.width
        self.body = nn.Sequential(*layers)
        self.tail = _layer(spec.tail, width, False, training_mode)
        self.upsample = nn.PixelShuffle(scale)

    training_mode = training_mode_property((ECB, LinearBlock, RepVGGBlock))

    def layers(self) -> list[nn.Module]:
        """The training-time blocks in order, head to tail (before their activations): the layers
        `sr_blocks.init.unit_variance_start` rescales, the tail being the output layer."""
        return [self.head[0], *(layer[0] for layer in self.body), self.tail[0]]

    def forward(self, x: Tensor) -> Tensor:
        head = self.head(x - 0.5 if "center" in self.flags else x)
        y = self.body(head)
        if "long" in self.flags:
            y = y + head
        y = self.tail(y)
        if "nearest" in self.flags:
            y = add_to_every_subpixel(y, x, self.scale)
        y = self.upsample(y)
        if "bicubic" in self.flags:
            y = y + F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return y.clamp(0.0, 1.0) if "clip" in self.flags else y


@register_model
def repstack(
    genes: str | Sequence[str] = tuple(REPSTACK_PRESETS["ecbsr_m4c16"]), scale: int = 2, **kwargs
) -> RepStack:
    """A re-parameterisable plain stack from its genes (default: ECBSR-M4C16's)."""
    return RepStack(genes, scale=scale, **kwargs)
