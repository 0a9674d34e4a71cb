"""sr_zoo"""

from sr_zoo.version import __version__

__all__ = ["__version__"]
