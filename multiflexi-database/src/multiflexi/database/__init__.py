"""multiflexi.database: see the README of the multiflexi-database distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-database")

__all__ = ["__version__"]
