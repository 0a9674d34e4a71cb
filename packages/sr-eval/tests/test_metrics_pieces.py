"""The metrics' cut into pieces and threads: any cut, any thread count, the same figures."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest
import torch

from sr_eval import metrics, psnr, psnr_reference, psnr_ssim, ssim, ssim_reference


def _batch(n: int, channels: int, h: int, w: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    hr = torch.rand(n, channels, h, w, generator=g)
    return (hr + 0.05 * torch.randn(hr.shape, generator=g)).clamp(0, 1), hr


@pytest.fixture
def three_threads(monkeypatch):
    """Three metric threads, whatever the machine (restores torch's setting afterwards)."""
    monkeypatch.setattr(metrics.os, "cpu_count", lambda: 3)
    previous = torch.get_num_threads()
    torch.set_num_threads(3)
    yield
    torch.set_num_threads(previous)


@pytest.mark.parametrize(
    ("n", "out_rows", "parts"), [(1, 30, 1), (1, 30, 2), (1, 5, 8), (3, 30, 2), (3, 30, 4)]
)
def test_pieces_cover_every_row_of_every_image_once(monkeypatch, n, out_rows, parts):
    monkeypatch.setattr(metrics, "_PIECE_ELEMENTS", 200)
    pieces = metrics._pieces(n, image_elements=40 * 40, out_rows=out_rows, parts=parts)
    assert len(pieces) >= min(parts, n * out_rows)
    for image in range(n):
        bands = sorted((p.top, p.bottom, p.last_band) for p in pieces if p.first <= image < p.last)
        assert bands[0][0] == 0 and bands[-1][1] == out_rows and bands[-1][2]
        assert all(
            a[1] == b[0] and not a[2] for a, b in zip(bands, bands[1:], strict=False)
        )  # no gap, no overlap


@pytest.mark.parametrize("test_y_channel", [True, False])
def test_bands_of_one_image_give_the_whole_image_figures(monkeypatch, test_y_channel):
    sr, hr = _batch(2, 3, 45, 38)
    whole = psnr_ssim(sr, hr, 3, test_y_channel)
    monkeypatch.setattr(metrics, "_PIECE_ELEMENTS", 64)  # every image in bands of one or two rows
    banded = psnr_ssim(sr, hr, 3, test_y_channel)
    assert torch.allclose(banded[0], whole[0], rtol=0, atol=1e-12)
    assert torch.allclose(banded[1], whole[1], rtol=0, atol=1e-14)
    for i in range(2):
        sr_np, hr_np = (t[i].permute(1, 2, 0).numpy() for t in (sr, hr))
        assert banded[0][i].item() == pytest.approx(
            psnr_reference(sr_np, hr_np, 3, test_y_channel), abs=1e-10
        )
        assert banded[1][i].item() == pytest.approx(
            ssim_reference(sr_np, hr_np, 3, test_y_channel), abs=1e-10
        )


def test_psnr_alone_is_cut_without_the_ssim_window(monkeypatch):
    """PSNR of images smaller than the SSIM window, in bands: no window rows are needed."""
    sr, hr = _batch(1, 3, 9, 8)
    whole = psnr(sr, hr, 1)
    monkeypatch.setattr(metrics, "_PIECE_ELEMENTS", 8)
    assert torch.allclose(psnr(sr, hr, 1), whole, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(sr, hr, 1)


def test_threads_give_the_same_figures_and_leave_the_setting_as_it_was(three_threads):
    sr, hr = _batch(1, 3, 64, 48, seed=1)
    threaded = psnr_ssim(sr, hr, 2)
    assert torch.get_num_threads() == 3
    assert any(t.name.startswith("sr_eval_metrics") for t in threading.enumerate())
    assert metrics._workers(1).submit(torch.get_num_threads).result() == 1  # one intra-op thread each
    seen = []
    other = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    other.start(), other.join()
    assert seen == [3]  # a thread started afterwards gets the process-wide setting, not the workers'
    torch.set_num_threads(1)
    single = psnr_ssim(sr, hr, 2)
    torch.set_num_threads(3)
    assert torch.allclose(threaded[0], single[0], rtol=0, atol=1e-12)
    assert torch.allclose(threaded[1], single[1], rtol=0, atol=1e-14)
    sr_np, hr_np = (t[0].permute(1, 2, 0).numpy() for t in (sr, hr))
    assert threaded[1].item() == pytest.approx(ssim_reference(sr_np, hr_np, 2), abs=1e-10)


def _child_psnr(queue) -> None:
    sr, hr = _batch(1, 3, 40, 40)
    queue.put(psnr(sr, hr, 2).item())


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_a_forked_child_starts_its_own_threads(three_threads):
    sr, hr = _batch(1, 3, 40, 40)
    expected = psnr(sr, hr, 2).item()  # the parent's pool now exists
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_psnr, args=(queue,))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0, "the forked child hung or failed on the parent's thread pool"
    assert queue.get(timeout=5) == pytest.approx(expected, abs=1e-12)


def test_uint8_and_single_channel_batches_in_threads(three_threads):
    sr, hr = _batch(4, 1, 30, 31)
    to_u8 = lambda t: (t * 255).round().to(torch.uint8)  # noqa: E731
    values = psnr_ssim(to_u8(sr), to_u8(hr), 2)
    for i in range(4):
        sr_np, hr_np = (np.round(t[i, 0].numpy() * 255).astype(np.uint8) for t in (sr, hr))
        assert values[0][i].item() == pytest.approx(psnr_reference(sr_np, hr_np, 2), abs=1e-10)
        assert values[1][i].item() == pytest.approx(ssim_reference(sr_np, hr_np, 2), abs=1e-10)
