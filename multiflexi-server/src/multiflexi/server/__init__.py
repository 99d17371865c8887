"""multiflexi.server: see the README of the multiflexi-server distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-server")

__all__ = ["__version__"]
