"""Brevitas, imported once before the rest of `sr_deploy.quant`: a missing install says how to get it."""

import warnings

# Brevitas warns on import that an optional CUDA kernel package is missing; it changes nothing here.
warnings.filterwarnings("ignore", message="fast_hadamard_transform package not found")

try:
    import brevitas  # noqa: F401
except ImportError as error:
    raise ImportError(f"sr_deploy.quant needs Brevitas: pip install 'sr-deploy[quant]' ({error})") from error
