"""Geometric self-ensemble (EDSR's "+"): average the SR of the 8 flips/rotations of the input."""

from __future__ import annotations

from collections.abc import Callable

import torch

Forward = Callable[[torch.Tensor], torch.Tensor]


def _transform(x: torch.Tensor, index: int) -> torch.Tensor:
    """The ``index``-th (0..7) element of the dihedral group: optional transpose, then flips."""
    if index & 4:
        x = x.transpose(-2, -1)
    if index & 2:
        x = x.flip(-2)
    if index & 1:
        x = x.flip(-1)
    return x


def _inverse(x: torch.Tensor, index: int) -> torch.Tensor:
    if index & 1:
        x = x.flip(-1)
    if index & 2:
        x = x.flip(-2)
    if index & 4:
        x = x.transpose(-2, -1)
    return x


def self_ensemble(forward: Forward, lr: torch.Tensor) -> torch.Tensor:
    """Mean of ``inverse_t(forward(t(lr)))`` over the 8 flips/transpositions ``t``."""
    total = None
    for index in range(8):
        sr = _inverse(forward(_transform(lr, index).contiguous()), index)
        total = sr if total is None else total + sr
    return total / 8
