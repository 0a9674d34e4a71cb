"""Deprecated alias of `sr_deploy.quant` (PTQ/QAT/int8 ONNX moved to sr-deploy); removed in the next release.

`import sr_search_quantnas.quant` and its submodules (`sr_search_quantnas.quant.export`, ...) still
work for one release and warn; import `sr_deploy.quant` instead.
"""

import importlib
import sys
import warnings

from sr_deploy.quant import *  # noqa: F403
from sr_deploy.quant import __all__  # noqa: F401

warnings.warn(
    "sr_search_quantnas.quant moved to sr_deploy.quant (pip install 'sr-deploy[quant]'); "
    "the alias is removed in the next release",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (
    "agreement",
    "bits",
    "calibration",
    "checkpoint",
    "convert",
    "export",
    "finetune",
    "int8_report",
    "layers",
    "onnx_rewrites",
    "quantize",
    "quantizers",
    "report",
    "sample_study",
)
for _name in _MODULES:  # the old submodule paths name the new modules
    try:
        sys.modules.setdefault(f"{__name__}.{_name}", importlib.import_module(f"sr_deploy.quant.{_name}"))
    except ImportError:  # onnx_rewrites needs the onnx extra, as before
        pass
