"""multiflexi.core: see the README of the multiflexi-core distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-core")

__all__ = ["__version__"]
