"""sr_data"""

from sr_data.version import __version__

__all__ = ["__version__"]
