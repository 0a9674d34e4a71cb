"""PSNR and SSIM as SR papers report them, batched in torch (CPU or GPU, float64).

Same protocol and same numbers as the per-image numpy reference in :mod:`sr_eval.reference`
(which these functions also use for numpy inputs): uint8 quantisation, ``crop_border`` pixels cut
from each edge, the Y channel of MATLAB's ``rgb2ycbcr`` (or every RGB channel), float64 on the
0..255 scale, Wang et al.'s SSIM with an 11x11 Gaussian window (sigma 1.5) and 'valid' filtering.
With ``test_y_channel``, a 1-channel SR image may be scored against an RGB HR image: it is taken
as the Y output of a Y-only model (quantised to the uint8 grid like any SR output) and compared
with the HR's unrounded Y, the same target the RGB path uses.

How the work is cut (CPU): a batch is split into pieces of a few images, or an image into bands of
rows (a band carries the 10 extra rows its SSIM window needs); each piece returns its sums of squared
errors and of the SSIM map, so the figures do not depend on the cut. The pieces run on
``torch.get_num_threads()`` Python threads, each with ONE intra-op thread. A metric is a few hundred
element-wise operations on arrays of ~1 MB: run as OpenMP parallel regions, every one of them ends
at a barrier, and on a machine whose cores are busy a thread spins there for a partner the kernel
has descheduled (6-10x slower than one thread). One hand-off per piece instead keeps the speed of
the threads on an idle machine and falls back to one thread's speed on a busy one.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from sr_eval.color import Y_OFFSET, Y_WEIGHTS
from sr_eval.reference import (
    SSIM_C1,
    SSIM_C2,
    SSIM_WINDOW_SIZE,
    gaussian_kernel_1d,
    psnr_reference,
    ssim_reference,
)

_PIECE_ELEMENTS = 1 << 18  # target size of a piece: channels x rows x columns after cropping, summed
_SSIM_HALO = SSIM_WINDOW_SIZE - 1  # extra input rows a band of SSIM output rows needs
_SSIM_TAPS = gaussian_kernel_1d().tolist()
_Y_PER_LEVEL = tuple(weight / 255.0 for weight in Y_WEIGHTS)  # Y weights for R, G, B on the 0..255 scale

# ---------------------------------------------------------------------------------------------
# Threads: pieces on Python threads, one intra-op thread each

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0


def _one_intra_op_thread() -> None:
    # torch reads a new thread's intra-op setting from the process-wide one at the thread's first
    # operation; make that happen now, while the creating thread holds it at 1 (see _workers).
    torch.get_num_threads()
    torch.set_num_threads(1)


def _forget_pool() -> None:
    """In a forked child the parent's worker threads do not exist: start a new pool on demand."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


os.register_at_fork(after_in_child=_forget_pool)


def _workers(count: int) -> ThreadPoolExecutor:
    """The shared pool of helper threads (at least ``count``), each with one intra-op thread.

    The threads are started and set up before this returns, with the process-wide setting at 1
    meanwhile, so the caller's setting is the process-wide one again once it restores it.
    """
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < count:
            if _pool is not None:
                _pool.shutdown(wait=False)
            with _intra_op_threads(1):
                _pool = ThreadPoolExecutor(count, "sr_eval_metrics", initializer=_one_intra_op_thread)
                all_started = threading.Barrier(count + 1, timeout=60)
                for _ in range(count):  # each task holds its thread, so the pool starts all of them
                    _pool.submit(all_started.wait)
                all_started.wait()
            _pool_size = count
        return _pool


@contextlib.contextmanager
def _intra_op_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads in this thread, then restore the setting."""
    previous = torch.get_num_threads()
    if previous == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ---------------------------------------------------------------------------------------------
# The arithmetic of one piece


def _as_batch(img: torch.Tensor, name: str) -> torch.Tensor:
    if img.dim() == 3:
        img = img.unsqueeze(0)
    if img.dim() != 4 or img.shape[1] not in (1, 3):
        raise ValueError(
            f"{name}: expected a tensor (N, 3, H, W), (3, H, W) or 1-channel, got {tuple(img.shape)}"
        )
    if img.dtype != torch.uint8 and not img.is_floating_point():
        raise TypeError(f"{name}: expected a uint8 tensor or a float tensor in [0, 1], got {img.dtype}")
    return img


def _protocol_into(img: torch.Tensor, out: torch.Tensor, test_y_channel: bool) -> None:
    """Quantise to the uint8 grid (float64, 0..255) and optionally take Y, writing ``out``."""
    take_y = test_y_channel and img.shape[1] == 3
    levels = torch.empty(img.shape, dtype=torch.float64, device=img.device) if take_y else out
    levels.copy_(img)
    if img.dtype != torch.uint8:
        levels.clamp_(0.0, 1.0).mul_(255.0).round_()
    if take_y:  # MATLAB's Y (unrounded): four passes over one plane
        torch.mul(levels[:, 0:1], _Y_PER_LEVEL[0], out=out)
        out.add_(levels[:, 1:2], alpha=_Y_PER_LEVEL[1]).add_(levels[:, 2:3], alpha=_Y_PER_LEVEL[2])
        out.add_(Y_OFFSET)


def _filter_valid(planes: torch.Tensor) -> torch.Tensor:
    """Correlate (..., H, W) planes with the SSIM window, keeping only 'valid' positions.

    The window is separable: shifted in-place multiply-adds along W, then along H. On a CPU this
    is far faster than ``conv2d`` in float64 (which has no optimised kernel); it runs on a GPU as is.
    """
    taps, size = _SSIM_TAPS, len(_SSIM_TAPS)
    out_h, out_w = planes.shape[-2] - size + 1, planes.shape[-1] - size + 1
    rows = planes[..., :, 0:out_w] * taps[0]
    for offset in range(1, size):
        rows.add_(planes[..., :, offset : offset + out_w], alpha=taps[offset])
    out = rows[..., 0:out_h, :] * taps[0]
    for offset in range(1, size):
        out.add_(rows[..., offset : offset + out_h, :], alpha=taps[offset])
    return out


def _ssim_map_sum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Sum of Wang et al.'s SSIM map over channels and positions, per image: (N,).

    Few passes over memory (this is bound by element-wise work): the two variances only appear
    summed, so one filtered ``a² + b²`` replaces two filters, and every intermediate is in place.
    """
    mu_a, mu_b = _filter_valid(a), _filter_valid(b)
    cross = _filter_valid(a * b)
    squares = _filter_valid(torch.addcmul(a * a, b, b))
    mu_ab = mu_a * mu_b
    mu_sq = mu_a.square_().add_(mu_b.square_())
    numerator = cross.sub_(mu_ab).mul_(2.0).add_(SSIM_C2).mul_(mu_ab.mul_(2.0).add_(SSIM_C1))
    denominator = squares.sub_(mu_sq).add_(SSIM_C2).mul_(mu_sq.add_(SSIM_C1))
    return numerator.div_(denominator).sum(dim=(1, 2, 3))


@dataclass(frozen=True)
class _Piece:
    """Images ``first:last`` of the batch, SSIM output rows ``top:bottom`` (cropped coordinates).

    Its PSNR rows are the same (the last band of an image also takes the final ``halo`` rows), so
    the pieces of an image share no PSNR row and no SSIM position.
    """

    first: int
    last: int
    top: int
    bottom: int
    last_band: bool


@dataclass(frozen=True)
class _Job:
    sr: torch.Tensor
    hr: torch.Tensor
    crop_border: int
    test_y_channel: bool
    want_psnr: bool
    want_ssim: bool

    @property
    def halo(self) -> int:
        return _SSIM_HALO if self.want_ssim else 0

    def sums(self, piece: _Piece) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(sum of squared errors, sum of the SSIM map) of each image of the piece."""
        c, width = self.crop_border, self.sr.shape[-1]
        images = slice(piece.first, piece.last)
        rows = slice(c + piece.top, c + piece.bottom + self.halo)
        cols = slice(c, width - c)
        sr, hr = self.sr[images, :, rows, cols], self.hr[images, :, rows, cols]
        channels = 1 if self.test_y_channel else sr.shape[1]
        planes = torch.empty((2, len(sr), channels, *sr.shape[-2:]), dtype=torch.float64, device=sr.device)
        a, b = planes
        _protocol_into(sr, a, self.test_y_channel)
        _protocol_into(hr, b, self.test_y_channel)
        squared = None
        if self.want_psnr:
            psnr_rows = slice(0, None if piece.last_band else piece.bottom - piece.top)
            squared = (a[..., psnr_rows, :] - b[..., psnr_rows, :]).square_().sum(dim=(1, 2, 3))
        return squared, (_ssim_map_sum(a, b) if self.want_ssim else None)


def _pieces(n: int, image_elements: int, out_rows: int, parts: int) -> list[_Piece]:
    """Cut ``n`` images into pieces of about ``_PIECE_ELEMENTS``, and at least ``parts`` pieces."""
    per_piece = max(1, _PIECE_ELEMENTS // image_elements)
    groups = [(i, min(n, i + per_piece)) for i in range(0, n, per_piece)]
    if len(groups) >= parts:
        return [_Piece(first, last, 0, out_rows, True) for first, last in groups]
    bands_per_image = min(out_rows, max(-(-parts // n), -(-image_elements // _PIECE_ELEMENTS)))
    pieces = []
    for image in range(n):
        edges = [round(k * out_rows / bands_per_image) for k in range(bands_per_image + 1)]
        for k in range(bands_per_image):
            pieces.append(_Piece(image, image + 1, edges[k], edges[k + 1], k == bands_per_image - 1))
    return pieces


def _batched(
    sr: torch.Tensor,
    hr: torch.Tensor,
    crop_border: int,
    test_y_channel: bool,
    want_psnr: bool,
    want_ssim: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    sr_b, hr_b = _as_batch(sr, "sr"), _as_batch(hr, "hr")
    same_pixels = len(sr_b) == len(hr_b) and sr_b.shape[-2:] == hr_b.shape[-2:]
    y_against_rgb = test_y_channel and sr_b.shape[1] == 1 and hr_b.shape[1] == 3  # a Y-only model's output
    if not same_pixels or (sr_b.shape[1] != hr_b.shape[1] and not y_against_rgb):
        raise ValueError(f"image shapes differ: sr {tuple(sr.shape)} vs hr {tuple(hr.shape)}")
    if crop_border < 0 or 2 * crop_border >= min(sr_b.shape[-2:]):
        raise ValueError(f"crop_border {crop_border} does not fit images of shape {tuple(sr.shape)}")
    n, channels = len(sr_b), 1 if test_y_channel else sr_b.shape[1]
    height, width = (side - 2 * crop_border for side in sr_b.shape[-2:])
    if want_ssim and min(height, width) < SSIM_WINDOW_SIZE:
        raise ValueError(
            f"SSIM needs images of at least {SSIM_WINDOW_SIZE}x{SSIM_WINDOW_SIZE}, got {height}x{width}"
        )
    job = _Job(sr_b, hr_b, crop_border, test_y_channel, want_psnr, want_ssim)
    on_cpu = sr_b.device.type == "cpu"
    parts = min(torch.get_num_threads(), os.cpu_count() or 1) if on_cpu else 1
    pieces = _pieces(n, channels * height * width, height - job.halo, parts)
    squared = torch.zeros(n, dtype=torch.float64, device=sr_b.device)
    ssim_sum = torch.zeros(n, dtype=torch.float64, device=sr_b.device)

    def run(share: list[_Piece]) -> list[tuple[_Piece, tuple]]:
        return [(piece, job.sums(piece)) for piece in share]

    shares = [pieces[k::parts] for k in range(min(parts, len(pieces)))]
    with _intra_op_threads(1) if on_cpu else contextlib.nullcontext():
        pool = _workers(len(shares) - 1) if len(shares) > 1 else None
        futures = [pool.submit(run, share) for share in shares[1:]]
        done = run(shares[0]) + [item for future in futures for item in future.result()]
    for piece, (piece_squared, piece_ssim) in done:
        if piece_squared is not None:
            squared[piece.first : piece.last] += piece_squared
        if piece_ssim is not None:
            ssim_sum[piece.first : piece.last] += piece_ssim
    psnrs = 10.0 * torch.log10(255.0**2 / (squared / (channels * height * width))) if want_psnr else None
    ssims = ssim_sum / (channels * (height - _SSIM_HALO) * (width - _SSIM_HALO)) if want_ssim else None
    empty = sr_b.new_empty(0, dtype=torch.float64)
    return (empty if psnrs is None else psnrs), (empty if ssims is None else ssims)


def _squeeze_like(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return values[0] if like.dim() == 3 else values


def _check_same_kind(sr, hr, name: str) -> bool:
    """True for two tensors, False for two arrays; a mix is an error."""
    if isinstance(sr, torch.Tensor) and isinstance(hr, torch.Tensor):
        return True
    if isinstance(sr, torch.Tensor) or isinstance(hr, torch.Tensor):
        raise TypeError(f"{name}: pass two tensors or two numpy arrays, not one of each")
    return False


def psnr(
    sr: np.ndarray | torch.Tensor,
    hr: np.ndarray | torch.Tensor,
    crop_border: int,
    test_y_channel: bool = True,
) -> float | torch.Tensor:
    """PSNR in dB (peak 255, ``inf`` for identical images).

    numpy (H, W, 3) uint8 or float [0, 1] -> float (per-image reference). Tensors (N, 3, H, W) ->
    float64 tensor of N values on the same device; (3, H, W) -> a 0-d tensor. With
    ``test_y_channel``, ``sr`` may have one channel (a Y image in [0, 1]) while ``hr`` is RGB.
    """
    if not _check_same_kind(sr, hr, "psnr"):
        return psnr_reference(sr, hr, crop_border, test_y_channel)
    return _squeeze_like(_batched(sr, hr, crop_border, test_y_channel, True, False)[0], sr)


def ssim(
    sr: np.ndarray | torch.Tensor,
    hr: np.ndarray | torch.Tensor,
    crop_border: int,
    test_y_channel: bool = True,
) -> float | torch.Tensor:
    """SSIM (Y channel, or the mean of the per-channel SSIMs when ``test_y_channel`` is False).

    Same input conventions as :func:`psnr`.
    """
    if not _check_same_kind(sr, hr, "ssim"):
        return ssim_reference(sr, hr, crop_border, test_y_channel)
    return _squeeze_like(_batched(sr, hr, crop_border, test_y_channel, False, True)[1], sr)


def psnr_ssim(
    sr: torch.Tensor, hr: torch.Tensor, crop_border: int, test_y_channel: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both metrics of tensor batches in one pass (the images are prepared once)."""
    if not _check_same_kind(sr, hr, "psnr_ssim"):
        raise TypeError("psnr_ssim takes tensors; use psnr and ssim for numpy arrays")
    values_psnr, values_ssim = _batched(sr, hr, crop_border, test_y_channel, True, True)
    return _squeeze_like(values_psnr, sr), _squeeze_like(values_ssim, sr)
