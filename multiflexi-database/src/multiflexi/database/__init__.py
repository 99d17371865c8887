"""multiflexi.database: the MultiFlexi schema, and where the database is.

The public API (see the README of the multiflexi-database distribution):

- :func:`load_environ`, :func:`read_env_file`, :func:`database_settings`,
  :func:`database_url`, :func:`data_dir`, :func:`mask_url`: the settings;
- :class:`SettingError`, :class:`DatabaseUnavailable`, :class:`MigrationError`: what a
  user can get wrong, each with a one-line message.
"""

from importlib.metadata import version as _version

from multiflexi.database.errors import DatabaseUnavailable, MigrationError, SettingError
from multiflexi.database.settings import (
    DatabaseSettings,
    data_dir,
    database_settings,
    database_url,
    load_environ,
    mask_url,
    read_env_file,
)

__version__ = _version("multiflexi-database")

__all__ = [
    "DatabaseSettings",
    "DatabaseUnavailable",
    "MigrationError",
    "SettingError",
    "__version__",
    "data_dir",
    "database_settings",
    "database_url",
    "load_environ",
    "mask_url",
    "read_env_file",
]
