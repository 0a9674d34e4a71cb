"""Tiled inference: run an SR model on overlapping LR tiles and stitch the outputs.

Each output pixel is taken from exactly one tile, the one in which it lies farthest from an inner
tile edge (neighbouring tiles split their overlap in the middle). A fully convolutional network
whose receptive-field radius is at most ``overlap // 2`` LR pixels therefore gives the same result
as one untiled pass, while memory is bounded by the tile size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Forward = Callable[[torch.Tensor], torch.Tensor]


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Tiles along one axis as (window_start, window_end, keep_start, keep_end) in LR pixels.

    Windows of ``tile`` pixels step by ``tile - overlap``; the last one ends at ``length``. The
    kept parts partition ``[0, length)``.
    """
    if tile <= overlap:
        raise ValueError(f"tile ({tile}) must be larger than overlap ({overlap})")
    if overlap < 0:
        raise ValueError(f"overlap must be >= 0, got {overlap}")
    if length <= tile:
        return [(0, length, 0, length)]
    starts = list(range(0, length - tile, tile - overlap)) + [length - tile]
    bounds = [0]
    for left, right in zip(starts[:-1], starts[1:], strict=True):
        bounds.append((right + left + tile) // 2)  # middle of the overlap of the two windows
    bounds.append(length)
    return [(s, s + tile, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


def tiled_forward(
    model: nn.Module | Forward, lr: torch.Tensor, scale: int, tile: int, overlap: int = 16
) -> torch.Tensor:
    """SR of ``lr`` (N, C, H, W) computed on ``tile`` x ``tile`` LR tiles overlapping by ``overlap``.

    ``model`` maps (N, C, h, w) to (N, C', h*scale, w*scale). Gradients follow the caller's mode
    (use ``torch.inference_mode()`` for evaluation).
    """
    if lr.dim() != 4:
        raise ValueError(f"tiled_forward expects (N, C, H, W), got {tuple(lr.shape)}")
    height, width = lr.shape[-2:]
    out: torch.Tensor | None = None
    for y0, y1, keep_y0, keep_y1 in tile_spans(height, tile, overlap):
        for x0, x1, keep_x0, keep_x1 in tile_spans(width, tile, overlap):
            sr_tile = model(lr[..., y0:y1, x0:x1])
            expected = ((y1 - y0) * scale, (x1 - x0) * scale)
            if tuple(sr_tile.shape[-2:]) != expected:
                raise ValueError(
                    f"model output {tuple(sr_tile.shape)} is not the tile {expected} at scale {scale}"
                )
            if out is None:
                out = sr_tile.new_empty(lr.shape[0], sr_tile.shape[1], height * scale, width * scale)
            out[..., keep_y0 * scale : keep_y1 * scale, keep_x0 * scale : keep_x1 * scale] = sr_tile[
                ...,
                (keep_y0 - y0) * scale : (keep_y1 - y0) * scale,
                (keep_x0 - x0) * scale : (keep_x1 - x0) * scale,
            ]
    return out
