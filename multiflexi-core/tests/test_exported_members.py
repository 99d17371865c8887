"""The core's public surface: each module says what it exports (``__all__``), as httpx does.

The faces (server, CLI, executor) may use only those names; multiflexi-all's
test_exported_members checks that side.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import multiflexi.core


def core_modules() -> list[str]:
    """Every module of multiflexi.core, its subpackages' modules included."""
    return sorted(
        info.name for info in pkgutil.walk_packages(multiflexi.core.__path__, "multiflexi.core.")
    )


#: the modules of multiflexi.core itself (not of its subpackages, which export through
#: their package)
TOP_LEVEL = [name for name in core_modules() if name.count(".") == 2]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_each_core_module_declares_what_it_exports(name):
    module = importlib.import_module(name)
    assert isinstance(getattr(module, "__all__", None), list), f"{name} has no __all__"


@pytest.mark.parametrize("name", ["multiflexi.core", *core_modules()])
def test_every_exported_name_exists_once(name):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", [])
    assert [n for n in exported if not hasattr(module, n)] == []
    assert len(set(exported)) == len(exported)
