"""sr_zoo: train, evaluate, deploy and export any model of the sr_blocks registry (`zoo` command)."""

from sr_zoo.version import __version__

__all__ = ["__version__"]
