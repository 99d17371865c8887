"""multiflexi.executor: see the README of the multiflexi-executor distribution."""

from importlib.metadata import version as _version

__version__ = _version("multiflexi-executor")

__all__ = ["__version__"]
