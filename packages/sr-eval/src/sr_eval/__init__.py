"""sr_eval"""

from sr_eval.version import __version__

__all__ = ["__version__"]
