"""Exact multiply-accumulates (MACs) of ESRN networks in closed form, for a stated LR input size.

Counts what `sr_eval.profile` counts (every convolution's weights times the pixels it runs on; no
biases, activations, additions, pooling or pixel shuffles), in a few integer operations, so repair
can hold a MACs window as cheaply as the parameter window. A contextual block runs its inner convs
on the average-pooled half-resolution grid, ceil(h/2) x ceil(w/2) (odd sizes are padded by one
row/column first), three times each.
"""

from __future__ import annotations

from collections.abc import Sequence

from sr_blocks.layers import upsample_stages
from sr_search_evo.esr_params import KERNEL, block_cost, out_width


def block_macs(gene_text: str, in_channels: int, lr_size: tuple[int, int]) -> int:
    """MACs of the block `gene_text` reading `in_channels` channels of an `lr_size` (h, w) map."""
    height, width = lr_size
    cost = block_cost(gene_text, in_channels)
    return cost.full * height * width + cost.half * ((height + 1) // 2) * ((width + 1) // 2)


def frame_macs(
    G0: int,
    scale: int,
    block_outputs: Sequence[int],
    lr_size: tuple[int, int],
    in_channels: int = 3,
    out_channels: int = 3,
) -> int:
    """MACs of the RDN frame around the blocks: shallow convs, global fusion, upsampler, last conv."""
    height, width = lr_size
    stages = upsample_stages(scale)
    up_width = 3 * G0 // 4 if len(stages) == 1 else G0
    per_lr_pixel = KERNEL * in_channels * G0 + KERNEL * G0 * G0  # conv_first, conv_shallow
    per_lr_pixel += sum(block_outputs) * G0 + KERNEL * G0 * G0  # 1x1 global fusion, 3x3 after it
    count = per_lr_pixel * height * width
    channels = G0
    for r in stages:
        count += KERNEL * channels * up_width * r * r * height * width
        height, width, channels = height * r, width * r, up_width
    return count + KERNEL * up_width * out_channels * height * width


def esrn_macs(genes: Sequence[str], lr_size: tuple[int, int], G0: int = 32, scale: int = 2) -> int:
    """MACs of one forward pass of `create_model("esrn", scale, genes=genes, G0=G0)` on an `lr_size` input.

    Equal to `sr_eval.profile(model, scale=scale, lr_size=lr_size).macs`.
    """
    if not genes:
        raise ValueError("an ESRN needs at least one gene")
    if len(lr_size) != 2 or min(lr_size) < 1:
        raise ValueError(f"lr_size must be (height, width) of positive sizes, got {lr_size!r}")
    total, channels, outputs = 0, G0, []
    for text in genes:
        total += block_macs(text, channels, tuple(lr_size))
        channels = out_width(text)
        outputs.append(channels)
    return total + frame_macs(G0, scale, outputs, tuple(lr_size))
