"""Every kernel-algebra function against the unfused computation (float64, odd sizes, non-zero biases)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sr_reparam import kernels as K

ATOL = 1e-10


def rand(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64)


def conv(x, weight, bias, groups=1):
    return F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2, groups=groups)


@pytest.fixture
def x() -> torch.Tensor:
    torch.manual_seed(0)
    return rand(2, 3, 7, 9)


def test_fuse_kxk_after_1x1_exact_with_bias_padding(x):
    w1, b1, w2, b2 = rand(5, 3, 1, 1), rand(5), rand(4, 5, 3, 3), rand(4)
    reference = F.conv2d(K.pad_with_bias(F.conv2d(x, w1, b1), b1, 1), w2, b2)
    weight, bias = K.fuse_kxk_after_1x1(w1, b1, w2, b2)
    torch.testing.assert_close(conv(x, weight, bias), reference, atol=ATOL, rtol=0)


def test_fuse_kxk_after_1x1_zero_padding_differs_only_at_border(x):
    w1, b1, w2, b2 = rand(5, 3, 1, 1), rand(5), rand(4, 5, 3, 3), rand(4)
    zero_padded = conv(F.conv2d(x, w1, b1), w2, b2)
    fused = conv(x, *K.fuse_kxk_after_1x1(w1, b1, w2, b2))
    torch.testing.assert_close(fused[..., 1:-1, 1:-1], zero_padded[..., 1:-1, 1:-1], atol=ATOL, rtol=0)
    assert (fused[..., 0, :] - zero_padded[..., 0, :]).abs().max() > 1e-3


def test_fuse_depthwise_after_1x1_exact_with_bias_padding(x):
    w1, b1, w2, b2 = rand(5, 3, 1, 1), rand(5), rand(5, 1, 3, 3), rand(5)
    reference = F.conv2d(K.pad_with_bias(F.conv2d(x, w1, b1), b1, 1), w2, b2, groups=5)
    weight, bias = K.fuse_depthwise_after_1x1(w1, b1, w2, b2)
    torch.testing.assert_close(conv(x, weight, bias), reference, atol=ATOL, rtol=0)
    dense_weight, dense_bias = K.fuse_kxk_after_1x1(w1, b1, K.depthwise_to_dense(w2), b2)
    torch.testing.assert_close(weight, dense_weight, atol=ATOL, rtol=0)
    torch.testing.assert_close(bias, dense_bias, atol=ATOL, rtol=0)
    with pytest.raises(ValueError, match="depthwise"):
        K.fuse_depthwise_after_1x1(w1, b1, rand(4, 1, 3, 3), b2)


def test_fuse_1x1_after_kxk(x):
    w1, b1, w2, b2 = rand(6, 3, 5, 5), rand(6), rand(4, 6, 1, 1), rand(4)
    reference = F.conv2d(conv(x, w1, b1), w2, b2)
    torch.testing.assert_close(conv(x, *K.fuse_1x1_after_kxk(w1, b1, w2, b2)), reference, atol=ATOL, rtol=0)


def test_fuse_handles_missing_biases(x):
    w1, w2 = rand(6, 3, 3, 3), rand(4, 6, 1, 1)
    weight, bias = K.fuse_1x1_after_kxk(w1, None, w2, None)
    assert torch.count_nonzero(bias) == 0
    torch.testing.assert_close(conv(x, weight, None), F.conv2d(conv(x, w1, None), w2), atol=ATOL, rtol=0)


def test_fuse_rejects_non_pointwise():
    with pytest.raises(ValueError, match="1x1"):
        K.fuse_kxk_after_1x1(rand(5, 3, 3, 3), None, rand(4, 5, 3, 3), None)


def test_pad_kernel_keeps_output(x):
    w, b = rand(4, 3, 3, 3), rand(4)
    torch.testing.assert_close(conv(x, K.pad_kernel(w, 5), b), conv(x, w, b), atol=ATOL, rtol=0)
    with pytest.raises(ValueError, match="symmetrically"):
        K.pad_kernel(w, 4)


def test_sum_branches_mixed_sizes(x):
    branches = [(rand(4, 3, 1, 1), rand(4)), (rand(4, 3, 3, 3), None), (rand(4, 3, 5, 5), rand(4))]
    reference = sum(conv(x, w, b) for w, b in branches)
    torch.testing.assert_close(conv(x, *K.sum_branches(*branches)), reference, atol=ATOL, rtol=0)


@pytest.mark.parametrize("groups", [1, 3])
@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_identity_kernel(x, groups, kernel_size):
    weight = K.identity_kernel(3, kernel_size, groups, dtype=torch.float64)
    torch.testing.assert_close(conv(x, weight, None, groups), x, atol=0, rtol=0)


def test_identity_kernel_grouped_shape():
    assert K.identity_kernel(6, 3, groups=2).shape == (6, 3, 3, 3)
    with pytest.raises(ValueError, match="divisible"):
        K.identity_kernel(5, 3, groups=2)


@pytest.mark.parametrize("groups", [1, 3])
def test_fold_residual(x, groups):
    w, b = rand(3, 3 // groups, 3, 3), rand(3)
    reference = conv(x, w, b, groups) + x
    torch.testing.assert_close(conv(x, *K.fold_residual(w, b, groups), groups), reference, atol=ATOL, rtol=0)


def test_fold_residual_needs_square():
    with pytest.raises(ValueError, match="in == out"):
        K.fold_residual(rand(4, 3, 3, 3), None)


def test_fold_batchnorm(x):
    w, b = rand(4, 3, 3, 3), rand(4)
    bn = torch.nn.BatchNorm2d(4).double().eval()
    with torch.no_grad():
        bn.running_mean.copy_(rand(4))
        bn.running_var.copy_(rand(4).abs() + 0.5)
        bn.weight.copy_(rand(4))
        bn.bias.copy_(rand(4))
    fused = K.fold_batchnorm(w, b, bn.running_mean, bn.running_var, bn.weight, bn.bias, bn.eps)
    torch.testing.assert_close(conv(x, *fused), bn(conv(x, w, b)), atol=ATOL, rtol=0)


@pytest.mark.parametrize("name", ["sobel_x", "sobel_y", "laplacian"])
def test_fixed_filter_kernel(x, name):
    scale, bias = rand(3), rand(3)
    depthwise = scale.view(-1, 1, 1, 1) * K.fixed_filter(name, dtype=torch.float64).expand(3, 1, 3, 3)
    reference = conv(x, depthwise, bias, groups=3)
    torch.testing.assert_close(
        conv(x, *K.fixed_filter_kernel(name, scale, bias)), reference, atol=ATOL, rtol=0
    )


def test_fixed_filters_are_edge_detectors():
    assert K.fixed_filter("sobel_x").sum() == 0 and K.fixed_filter("laplacian")[1, 1] == -4
    torch.testing.assert_close(K.fixed_filter("sobel_y"), K.fixed_filter("sobel_x").T)
    with pytest.raises(ValueError, match="unknown fixed filter"):
        K.fixed_filter("prewitt")


def test_depthwise_to_dense(x):
    depthwise = rand(3, 1, 3, 3)
    reference = conv(x, depthwise, None, groups=3)
    torch.testing.assert_close(conv(x, K.depthwise_to_dense(depthwise), None), reference, atol=ATOL, rtol=0)


def test_pad_with_bias_keeps_interior_exactly(x):
    bias = rand(3)
    padded = K.pad_with_bias(x, bias, 2)
    assert torch.equal(padded[..., 2:-2, 2:-2], x)
    torch.testing.assert_close(padded[0, :, 0, 0], bias)
    torch.testing.assert_close(padded[1, :, -1, 5], bias)


@pytest.mark.parametrize("padding", [1, 2])
def test_pad_with_bias_values_and_gradients_equal_a_full_ring(x, padding):
    """Border-only writes give the map and the gradients of 'zero-pad, then add bias times a ring mask'."""
    x = x.clone().requires_grad_()
    bias = rand(3).requires_grad_()
    h, w = x.shape[-2:]
    ring = F.pad(torch.zeros(1, 1, h, w, dtype=x.dtype), (padding,) * 4, value=1.0)
    expected = F.pad(x, (padding,) * 4) + ring * bias.view(1, -1, 1, 1)
    padded = K.pad_with_bias(x, bias, padding)
    assert torch.equal(padded, expected)
    weights = rand(*padded.shape)
    grads = torch.autograd.grad((padded * weights).sum(), (x, bias))
    expected_grads = torch.autograd.grad((expected * weights).sum(), (x, bias))
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want, atol=ATOL, rtol=0)
    assert K.pad_with_bias(x, bias, 0) is x
    with pytest.raises(ValueError, match="padding"):
        K.pad_with_bias(x, bias, -1)


def test_algebra_is_differentiable():
    w1, b1 = rand(5, 3, 1, 1).requires_grad_(), rand(5).requires_grad_()
    weight, bias = K.fuse_kxk_after_1x1(w1, b1, rand(4, 5, 3, 3), rand(4))
    (weight.sum() + bias.sum()).backward()
    assert w1.grad is not None and b1.grad is not None
