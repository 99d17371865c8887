"""multiflexi.cli: see the README of the multiflexi-cli distribution."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # read on first use: importlib.metadata costs start-up time every command would pay
    if name == "__version__":
        from importlib.metadata import version

        return version("multiflexi-cli")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
