"""Whether the ONNX export and its onnxruntime check can run (they need the optional onnx packages)."""

from __future__ import annotations

ONNX_MISSING = (
    "ONNX export skipped: it needs onnx, onnxruntime and onnxoptimizer (pip install 'sr-sesr[onnx]')"
)


def onnx_available() -> bool:
    """True when onnx, onnxruntime and onnxoptimizer can be imported (export and the check need them)."""
    try:
        import onnx  # noqa: F401
        import onnxoptimizer  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
