"""multiflexi.database: the MultiFlexi schema, its migrations, and where the database is.

The public API (see the README of the multiflexi-database distribution):

- :data:`metadata`: every table, in one SQLAlchemy ``MetaData``;
- :data:`MIGRATIONS_DIR`: the Alembic scripts shipped in this package (for Flask-Migrate);
- :func:`upgrade`, :func:`downgrade`, :func:`current`, :func:`head`, :func:`check`,
  :func:`history`: migrate and inspect a database given by URL;
- :func:`load_environ`, :func:`read_env_file`, :func:`database_settings`,
  :func:`database_url`, :func:`data_dir`, :func:`mask_url`: the settings;
- :class:`SettingError`, :class:`DatabaseUnavailable`, :class:`MigrationError`: what a
  user can get wrong, each with a one-line message.

Test support for MultiFlexi's own distributions lives in :mod:`multiflexi.database.testing`.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below load lazily: importing tables must not load Alembic
    from multiflexi.database.api import (
        MIGRATIONS_DIR,
        Migration,
        SchemaStatus,
        alembic_config,
        check,
        current,
        downgrade,
        head,
        history,
        upgrade,
    )
    from multiflexi.database.errors import DatabaseUnavailable, MigrationError, SettingError
    from multiflexi.database.quickcheck import at_head
    from multiflexi.database.settings import (
        DatabaseSettings,
        data_dir,
        database_settings,
        database_url,
        load_environ,
        mask_url,
        read_env_file,
    )
    from multiflexi.database.tables import metadata

_LAZY = {
    **dict.fromkeys(
        (
            "MIGRATIONS_DIR",
            "Migration",
            "SchemaStatus",
            "alembic_config",
            "at_head",
            "check",
            "current",
            "downgrade",
            "head",
            "history",
            "upgrade",
        ),
        "api",
    ),
    **dict.fromkeys(("DatabaseUnavailable", "MigrationError", "SettingError"), "errors"),
    **dict.fromkeys(
        (
            "DatabaseSettings",
            "data_dir",
            "database_settings",
            "database_url",
            "load_environ",
            "mask_url",
            "read_env_file",
        ),
        "settings",
    ),
    "metadata": "tables",
    "at_head": "quickcheck",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _version("multiflexi-database")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'multiflexi.database' has no attribute {name!r}")
    value = getattr(import_module(f"multiflexi.database.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseSettings",
    "DatabaseUnavailable",
    "Migration",
    "MigrationError",
    "SchemaStatus",
    "SettingError",
    "__version__",
    "alembic_config",
    "at_head",
    "check",
    "current",
    "data_dir",
    "database_settings",
    "database_url",
    "downgrade",
    "head",
    "history",
    "load_environ",
    "mask_url",
    "metadata",
    "read_env_file",
    "upgrade",
]
