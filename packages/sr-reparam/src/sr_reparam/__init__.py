"""sr_reparam"""

from sr_reparam.version import __version__

__all__ = ["__version__"]
