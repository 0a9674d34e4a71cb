"""sr_quantnas: the QuantNAS pipeline (`quantnas` command): search, augment, validate, batch experiments."""

from sr_quantnas.version import __version__

__all__ = ["__version__"]
