"""Structural re-parameterisation for super-resolution networks.

The kernel algebra (`sr_reparam.kernels`), the `Reparameterizable` protocol with `deploy()` that
turns a training-form model into a plain conv net, and `export_onnx()` for the deployed result.
"""

from sr_reparam.deploy import (
    PLAIN_LEAVES,
    Reparameterizable,
    assert_plain,
    deploy,
    is_plain,
    plain_violations,
)
from sr_reparam.kernels import (
    depthwise_to_dense,
    fixed_filter,
    fixed_filter_kernel,
    fold_batchnorm,
    fold_residual,
    fuse_1x1_after_kxk,
    fuse_depthwise_after_1x1,
    fuse_kxk_after_1x1,
    identity_kernel,
    pad_kernel,
    pad_with_bias,
    scaled_depthwise,
    sum_branches,
)
from sr_reparam.onnx_export import export_onnx, onnxruntime_max_difference, onnxruntime_session
from sr_reparam.version import __version__

__all__ = [
    "PLAIN_LEAVES",
    "Reparameterizable",
    "__version__",
    "assert_plain",
    "deploy",
    "depthwise_to_dense",
    "export_onnx",
    "onnxruntime_max_difference",
    "onnxruntime_session",
    "fixed_filter",
    "fixed_filter_kernel",
    "fold_batchnorm",
    "fold_residual",
    "fuse_1x1_after_kxk",
    "fuse_depthwise_after_1x1",
    "fuse_kxk_after_1x1",
    "identity_kernel",
    "is_plain",
    "pad_kernel",
    "pad_with_bias",
    "plain_violations",
    "scaled_depthwise",
    "sum_branches",
]
