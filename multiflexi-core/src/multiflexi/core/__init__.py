"""multiflexi.core: see the README of the multiflexi-core distribution."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # read on first use: every command imports this package, few ask for its version
    if name == "__version__":
        from importlib.metadata import version

        return version("multiflexi-core")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
