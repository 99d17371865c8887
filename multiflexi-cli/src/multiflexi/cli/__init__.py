"""multiflexi.cli: see the README of the multiflexi-cli distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-cli")

__all__ = ["__version__"]
