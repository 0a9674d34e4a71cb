"""Exact parameter counts of ESRN networks (`sr_blocks.esrn`, no biases) in closed form.

Equal to summing the parameters of `create_model("esrn", scale, genes=..., G0=...)`, but costs a
few integer operations, so repair can count thousands of candidate networks. Unlike ESR_EA's
reference estimate it counts the 1x1 input projection and skip projection of every block (the
reference only gets them right for the first block) and the x3/x4 upsamplers.

`block_cost` splits a block's weights by the resolution they run at, which is what
`sr_search_evo.esr_macs` multiplies by pixel counts for the exact MACs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sr_blocks.esrn import Gene, group_conv_groups, parse_gene
from sr_blocks.layers import upsample_stages

KERNEL = 9  # 3x3


def _squeezes(gene: Gene, last_in: int) -> int:
    """1x1 squeezes of S/C blocks: (2+i)*g -> g for every conv but the last, then last_in -> out."""
    g = gene.growth
    return sum((2 + i) * g * g for i in range(gene.convs - 1)) + last_in * gene.out


@dataclass(frozen=True)
class BlockCost:
    """A block's parameters, and its MACs per pixel at the input resolution (`full`) and per pixel
    at half resolution (`half`; a contextual block's inner convs, each applied three times)."""

    params: int
    full: int
    half: int


@lru_cache(maxsize=65536)
def block_cost(gene_text: str, in_channels: int) -> BlockCost:
    """Parameters and per-pixel MACs of the block `gene_text` reading `in_channels` channels."""
    gene = parse_gene(gene_text)
    g, n, out = gene.growth, gene.convs, gene.out
    projections = in_channels * g if in_channels != g else 0  # input projection to the growth rate
    if out not in (g, in_channels):
        projections += in_channels * out  # skip projection to the output width
    if gene.kind == "S":
        params = projections + n * KERNEL * g * g + _squeezes(gene, (n + 1) * g)
        return BlockCost(params, params, 0)
    if gene.kind == "G":  # grouped dense layers over (i+1)*g channels, then a 1x1 fuse to out
        dense = sum(KERNEL * (i + 1) * g * g // group_conv_groups(i) for i in range(n))
        params = projections + dense + (n + 1) * g * out
        return BlockCost(params, params, 0)
    # "C": the 3x3 convs (each run three times) and all squeezes but the last at half resolution;
    # the last squeeze reads the pixel-shuffled concat at full resolution
    convs, last = n * KERNEL * g * g, (n + 1) * g // 4 * out
    inner = _squeezes(gene, 0)  # the squeezes before the last one
    return BlockCost(projections + convs + inner + last, projections + last, 3 * convs + inner)


def block_params(gene_text: str, in_channels: int) -> int:
    """Parameters of the block `gene_text` reading `in_channels` channels (no biases)."""
    return block_cost(gene_text, in_channels).params


def frame_params(
    G0: int, scale: int, block_outputs: Sequence[int], in_channels: int = 3, out_channels: int = 3
) -> int:
    """Parameters of the RDN frame around the blocks: shallow convs, global fusion, upsampler, last conv."""
    stages = upsample_stages(scale)
    width = 3 * G0 // 4 if len(stages) == 1 else G0
    count = KERNEL * in_channels * G0 + KERNEL * G0 * G0  # conv_first, conv_shallow
    count += sum(block_outputs) * G0 + KERNEL * G0 * G0  # 1x1 global fusion, 3x3 after it
    channels = G0
    for r in stages:
        count += KERNEL * channels * width * r * r
        channels = width
    return count + KERNEL * width * out_channels


@lru_cache(maxsize=4096)
def out_width(gene_text: str) -> int:
    """Output channels of the block `gene_text`."""
    return parse_gene(gene_text).out


def esrn_params(genes: Sequence[str], G0: int = 32, scale: int = 2) -> int:
    """Trainable parameters of `create_model("esrn", scale, genes=genes, G0=G0)` (bias-free)."""
    if not genes:
        raise ValueError("an ESRN needs at least one gene")
    total, width = 0, G0
    outputs = []
    for text in genes:
        total += block_params(text, width)
        width = out_width(text)
        outputs.append(width)
    return total + frame_params(G0, scale, outputs)
