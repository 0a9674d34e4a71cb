"""imresize against BasicSR's MATLAB port (goldens from make_golden.py), and its contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sr_data import imresize

GOLDEN = np.load(Path(__file__).parent / "data" / "imresize_golden.npz")
CASES = [(kind, way, s) for kind in ("real", "synthetic") for way in ("down", "up") for s in (2, 3, 4)]


def golden_case(kind: str, direction: str, s: int) -> tuple[np.ndarray, float, np.ndarray]:
    source = GOLDEN[f"{kind}_{direction}_in" if kind == "real" else "synthetic_in"]
    image = source.astype(np.float64) / 255 if source.dtype == np.uint8 else source
    image = image.astype(np.float32).astype(np.float64)  # BasicSR saw float32 input
    return image, (1 / s if direction == "down" else s), GOLDEN[f"{kind}_{direction}_x{s}"]


@pytest.mark.parametrize(("kind", "direction", "s"), CASES)
def test_numpy_matches_basicsr(kind, direction, s):
    image, scale, expected = golden_case(kind, direction, s)
    out = imresize(image, scale)
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() <= 1e-6


@pytest.mark.parametrize(("kind", "direction", "s"), CASES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_torch_matches_basicsr(kind, direction, s, dtype):
    image, scale, expected = golden_case(kind, direction, s)
    chw = torch.from_numpy(image if image.ndim == 3 else image[:, :, None]).permute(2, 0, 1).to(dtype)
    out = imresize(chw, scale)
    assert out.dtype == dtype
    got = out.permute(1, 2, 0).numpy()
    assert np.abs(got.reshape(expected.shape) - expected).max() <= 1e-6


def test_batched_equals_per_image():
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(rng.random((3, 2, 17, 23)))
    out = imresize(batch, 1 / 3)
    assert out.shape == (3, 2, 6, 8)
    for n in range(3):
        single = imresize(batch[n].permute(1, 2, 0).numpy(), 1 / 3)
        assert np.abs(out[n].permute(1, 2, 0).numpy() - single).max() < 1e-12


def test_scale_one_is_identity_and_constant_is_preserved():
    image = np.random.default_rng(1).random((9, 7, 3))
    assert np.allclose(imresize(image, 1.0), image, atol=1e-12)
    flat = np.full((10, 13), 0.3)
    for scale in (0.5, 1 / 3, 2, 3):
        assert np.allclose(imresize(flat, scale), 0.3, atol=1e-12)


def test_size_argument_and_tiny_images():
    image = np.random.default_rng(2).random((5, 4))
    assert imresize(image, size=(10, 3)).shape == (10, 3)
    assert imresize(np.random.default_rng(3).random((2, 2)), 1 / 4).shape == (1, 1)


def test_antialias_off_differs_on_downscale_only():
    image = np.random.default_rng(4).random((16, 16))
    assert not np.allclose(imresize(image, 0.5), imresize(image, 0.5, antialias=False))
    assert np.allclose(imresize(image, 2), imresize(image, 2, antialias=False))


def test_half_precision_tensor_keeps_dtype():
    x = torch.rand(1, 3, 8, 8, dtype=torch.bfloat16)
    assert imresize(x, 0.5).dtype == torch.bfloat16


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((np.zeros((4, 4), np.uint8), 0.5), TypeError),
        ((np.zeros((4,)), 0.5), ValueError),
        ((torch.zeros(4, 4), 0.5), ValueError),
        ((np.zeros((4, 4)),), ValueError),
        ((np.zeros((4, 4)), -1.0), ValueError),
        (([[0.0]], 0.5), TypeError),
    ],
)
def test_bad_input(args, error):
    with pytest.raises(error):
        imresize(*args)


def test_torch_stays_exact_when_tf32_or_bf16_matmuls_are_allowed(monkeypatch):
    monkeypatch.setattr(torch, "get_float32_matmul_precision", lambda: "medium")
    image, scale, expected = golden_case("real", "down", 3)
    out = imresize(torch.from_numpy(image).permute(2, 0, 1).float(), scale)
    assert out.dtype == torch.float32
    assert np.abs(out.permute(1, 2, 0).numpy() - expected).max() <= 1e-6


def test_bicubic_lr_rounds_exact_ties_half_up_like_matlab():
    # At x2 the antialiased cubic weights are dyadic, so this HR gives LR pixel (0, 1) = 115/2
    # exactly (checked with fractions); MATLAB's imresize of the uint8 image rounds it to 58.
    # On the [0, 1] scale the same sum comes out as 57.4999... and would round to 57.
    from sr_data.pairs import bicubic_lr

    gray = np.array([[35, 126, 19, 78], [104, 186, 59, 2], [216, 18, 157, 140], [43, 149, 59, 118]])
    hr = np.repeat(gray[..., None], 3, axis=2).astype(np.uint8)
    assert imresize(gray.astype(np.float64), scale=0.5)[0, 1] == 57.5
    assert bicubic_lr(hr, 2)[..., 0].tolist() == [[101, 58], [110, 108]]
    hr16 = hr.astype(np.uint16) * 257  # the same image as 16 bits: the same LR
    assert np.array_equal(bicubic_lr(hr16, 2), bicubic_lr(hr, 2))
