"""sr_train"""

from sr_train.version import __version__

__all__ = ["__version__"]
