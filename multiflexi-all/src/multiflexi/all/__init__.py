"""multiflexi.all: see the README of the multiflexi-all distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-all")

__all__ = ["__version__"]
