"""Lightweight super-resolution layers, blocks and models behind one registry.

`create_model(name, scale=2, **kwargs)` builds any registered model; `list_models()` names them.
Importing this package registers every model family below; names it does not define are asked of
the other installed ``sr_toolkit.models`` factories (sr-data's parameter-free "bicubic").
"""

from sr_blocks import ecbsr, edsr, esrn, imdn, rdn, repstack, rfdn, sesr, small  # noqa: F401  (registers)
from sr_blocks.layers import optimize_for_inference
from sr_blocks.registry import create_model, list_models, model_entry, register_model
from sr_blocks.version import __version__

__all__ = [
    "__version__",
    "create_model",
    "list_models",
    "model_entry",
    "optimize_for_inference",
    "register_model",
]
