"""sr_sesr: the SESR pipeline (`sesr` command): train x2, x4 from x2, collapse, evaluate,
export to ONNX, quantise to int8 (PTQ, and QAT with --quant_W/--quant_A)."""

from sr_sesr.version import __version__

__all__ = ["__version__"]
