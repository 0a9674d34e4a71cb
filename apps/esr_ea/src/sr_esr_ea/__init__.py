"""sr_esr_ea: the ESR_EA pipeline (`esr-ea` command): evolutionary search of an efficient SR network
from residual dense blocks under a parameter budget, then full training, benchmark, deploy and ONNX."""

from sr_esr_ea.version import __version__

__all__ = ["__version__"]
