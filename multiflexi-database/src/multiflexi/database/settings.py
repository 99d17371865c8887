"""Where the MultiFlexi database is: settings from the environment and an env file.

Every MultiFlexi component reads its settings the same way (ARCHITECTURE.md section 4),
so the core and the server reuse these functions rather than repeat them:

``load_environ(env_file=None, environ=None)``
    The settings as one ``dict``: the env file (``env_file``, else the file named by
    ``MULTIFLEXI_ENV_FILE``, else ``/etc/multiflexi/multiflexi.env`` when it exists),
    overridden by the process environment.
``read_env_file(path)``
    One env file: flat ``KEY=value`` lines (see :func:`read_env_file`).
``database_settings(environ)`` / ``database_url(environ)``
    The database URL, from ``DATABASE_URL``, else from the ``DB_*`` variables of the
    original MultiFlexi, else an SQLite file ``multiflexi.sqlite`` in the data directory.
``data_dir(environ)``
    ``MULTIFLEXI_DATA_DIR``, else ``/var/lib/multiflexi`` for root, else
    ``$XDG_DATA_HOME/multiflexi`` (``~/.local/share/multiflexi``).

A missing or wrong setting raises :class:`~multiflexi.database.errors.SettingError`,
whose message is one line naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from multiflexi.database.errors import DatabaseUnavailable, Problem, SettingError

__all__ = [
    "DEFAULT_ENV_FILE",
    "DRIVERS",
    "SQLITE_FILE_NAME",
    "DatabaseSettings",
    "SettingError",
    "data_dir",
    "database_settings",
    "database_url",
    "load_environ",
    "mask_url",
    "read_env_file",
]

#: read when no env file is named and it exists
DEFAULT_ENV_FILE = Path("/etc/multiflexi/multiflexi.env")
#: the SQLite file used when no database is configured, inside the data directory
SQLITE_FILE_NAME = "multiflexi.sqlite"
#: DB_CONNECTION values (and bare DATABASE_URL schemes) -> SQLAlchemy driver names
DRIVERS: dict[str, str] = {
    "sqlite": "sqlite",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "pgsql": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
#: the variables that choose a database through DB_CONNECTION
DB_VARIABLES = ("DB_CONNECTION", "DB_HOST", "DB_PORT", "DB_DATABASE", "DB_USERNAME", "DB_PASSWORD")

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOUBLE_QUOTED_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


# -- env files ---------------------------------------------------------------------------


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read a flat env file into a dict.

    Each line is ``KEY=value``, optionally prefixed by ``export``. Blank lines and
    lines starting with ``#`` are ignored. A value may be wrapped in single quotes
    (taken literally) or double quotes (``\\"``, ``\\\\``, ``\\n``, ``\\t`` and ``\\$``
    are unescaped); an unquoted value is taken as is, without its surrounding
    blanks (a ``#`` inside it is part of the value). No variable expansion is done.

    Raises :class:`SettingError` naming the file (and the line) when the file cannot be
    read or a line is not of that form; raises nothing else.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingError(source, "env file not found") from None
    except IsADirectoryError:
        raise SettingError(source, "is a directory, not an env file") from None
    except PermissionError:
        raise SettingError(source, "env file not readable (permission denied)") from None
    except UnicodeDecodeError:
        raise SettingError(source, "env file is not UTF-8 text") from None
    except OSError as exc:
        raise SettingError(source, f"env file cannot be read: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            raise SettingError(f"{source}:{number}", "expected a KEY=value line")
        try:
            values[key] = _unquote(value.strip())
        except ValueError as exc:
            raise SettingError(f"{source}:{number}", f"{key}: {exc}") from None
    return values


def _unquote(value: str) -> str:
    if not value or value[0] not in "'\"":
        return value
    quote = value[0]
    if len(value) < 2 or value[-1] != quote:
        raise ValueError(f"the value opens a {quote} quote it does not close")
    inner = value[1:-1]
    if quote == "'":
        if "'" in inner:
            raise ValueError("a single-quoted value cannot contain a single quote")
        return inner
    out: list[str] = []
    chars = iter(inner)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            out.append(_DOUBLE_QUOTED_ESCAPES.get(following, "\\" + following))
        elif char == '"':
            raise ValueError('a double quote inside a double-quoted value must be written \\"')
        else:
            out.append(char)
    return "".join(out)


def load_environ(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    default_env_file: str | os.PathLike[str] | None = DEFAULT_ENV_FILE,
) -> dict[str, str]:
    """The settings: an env file's values, overridden by ``environ`` (``os.environ``).

    The env file is ``env_file`` if given (it must exist), else the file named by
    ``MULTIFLEXI_ENV_FILE`` in ``environ`` (it must exist), else ``default_env_file``
    (``/etc/multiflexi/multiflexi.env``) if it exists, else none.

    Raises :class:`SettingError` naming ``--env-file``, ``MULTIFLEXI_ENV_FILE`` or the
    file when a named file is missing or malformed.
    """
    process = dict(os.environ if environ is None else environ)
    path: str | None = None
    origin: str | None = None
    if env_file is not None and os.fspath(env_file) != "":
        path, origin = os.fspath(env_file), "--env-file"
    elif process.get("MULTIFLEXI_ENV_FILE", "").strip():
        path, origin = process["MULTIFLEXI_ENV_FILE"].strip(), "MULTIFLEXI_ENV_FILE"
    elif default_env_file is not None and Path(default_env_file).is_file():
        path = os.fspath(default_env_file)
    if path is None:
        return process
    try:
        values = read_env_file(path)
    except SettingError as exc:
        if origin is not None and exc.variable == path:
            raise SettingError(origin, f"{path}: {exc.message}") from None
        raise
    values.update(process)
    return values


# -- the data directory ------------------------------------------------------------------


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """MultiFlexi's data directory (it is not created here)."""
    env = os.environ if environ is None else environ
    configured = env.get("MULTIFLEXI_DATA_DIR", "").strip()
    if configured:
        return Path(configured).expanduser().absolute()
    if os.geteuid() == 0:
        return Path("/var/lib/multiflexi")
    xdg = env.get("XDG_DATA_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "multiflexi"
    home = env.get("HOME", "").strip()
    return (Path(home) if home else Path.home()) / ".local" / "share" / "multiflexi"


# -- the database URL --------------------------------------------------------------------

Origin = Literal["DATABASE_URL", "DB_CONNECTION", "default", "option"]


@dataclass(frozen=True)
class DatabaseSettings:
    """The database to use and the settings it came from.

    ``url`` holds the password: show :attr:`masked_url` instead. ``origin`` is
    ``"DATABASE_URL"``, ``"DB_CONNECTION"`` (the ``DB_*`` variables), ``"default"``
    (the SQLite file in the data directory) or ``"option"`` (a command-line option,
    named by ``option``).
    """

    url: str = field(repr=False)
    origin: Origin
    option: str = "--url"
    #: with origin ``DB_CONNECTION`` and SQLite: whether DB_DATABASE named the file
    #: (else it is ``multiflexi.sqlite`` in the data directory)
    named_file: bool = True

    @property
    def masked_url(self) -> str:
        """The URL with its password replaced by ``***``."""
        return mask_url(self.url)

    @property
    def backend(self) -> str:
        """``sqlite``, ``postgresql`` or ``mysql``."""
        return make_url(self.url).get_backend_name()

    def __repr__(self) -> str:
        return f"DatabaseSettings(url={self.masked_url!r}, origin={self.origin!r})"

    @property
    def chosen_by(self) -> str:
        """What chose this database, for messages: ``named by DB_DATABASE``, ..."""
        if self.origin == "DATABASE_URL":
            return "named by DATABASE_URL"
        if self.origin == "option":
            return f"named by {self.option}"
        if self.origin == "default":
            return (
                "the default in the data directory: neither DATABASE_URL nor DB_CONNECTION is set"
            )
        if self.backend != "sqlite":
            return "chosen by DB_CONNECTION, DB_HOST, DB_PORT and DB_DATABASE"
        if self.named_file:
            return "named by DB_DATABASE"
        return "the default in the data directory: DB_CONNECTION=sqlite, DB_DATABASE is not set"

    @property
    def setting(self) -> str:
        """The setting that names the database (to check when it is the wrong one)."""
        if self.origin == "DATABASE_URL":
            return "DATABASE_URL"
        if self.origin == "option":
            return self.option
        if self.origin == "default":
            return "MULTIFLEXI_DATA_DIR"
        if self.backend == "sqlite" and not self.named_file:
            return "DB_DATABASE (not set) and MULTIFLEXI_DATA_DIR"
        return "DB_DATABASE"

    def variable_for(self, problem: Problem) -> str:
        """The setting a user has to fix for ``problem``."""
        if self.origin == "DATABASE_URL":
            return "DATABASE_URL"
        if self.origin == "option":
            return self.option
        if self.origin == "default":
            return "MULTIFLEXI_DATA_DIR" if problem != "driver" else "DATABASE_URL"
        if self.backend == "sqlite":
            return "DB_CONNECTION" if problem == "driver" else "DB_DATABASE"
        return {
            "driver": "DB_CONNECTION",
            "unreachable": "DB_HOST/DB_PORT",
            "authentication": "DB_USERNAME/DB_PASSWORD",
            "database": "DB_DATABASE",
            "other": "DB_HOST/DB_DATABASE",
        }[problem]

    def explain(self, failure: DatabaseUnavailable) -> SettingError:
        """``failure`` as a :class:`SettingError` naming the setting to fix."""
        return SettingError(self.variable_for(failure.problem), failure.message)

    def prepare(self) -> None:
        """Create the data directory when the database is the default SQLite file in it.

        Raises :class:`SettingError` naming ``MULTIFLEXI_DATA_DIR`` when it cannot be made.
        """
        if self.origin != "default":
            return
        database = make_url(self.url).database
        if not database:
            return
        directory = Path(database).parent
        try:
            directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingError(
                "MULTIFLEXI_DATA_DIR", f"cannot create {directory}: {exc.strerror}"
            ) from None

    @classmethod
    def from_option(cls, url: str, option: str = "--url") -> DatabaseSettings:
        """Settings for a URL given on the command line as ``option``."""
        return cls(_checked_url(url, option), "option", option)


def database_settings(environ: Mapping[str, str] | None = None) -> DatabaseSettings:
    """The database chosen by ``environ`` (``os.environ`` when None).

    ``DATABASE_URL`` wins; else ``DB_CONNECTION`` with the other ``DB_*`` variables;
    else the SQLite file ``multiflexi.sqlite`` in :func:`data_dir`.
    """
    env = os.environ if environ is None else environ
    raw_url = env.get("DATABASE_URL", "").strip()
    if raw_url:
        return DatabaseSettings(_checked_url(raw_url, "DATABASE_URL"), "DATABASE_URL")
    if env.get("DB_CONNECTION", "").strip():
        named = bool(env.get("DB_DATABASE", "").strip())
        return DatabaseSettings(_url_from_db_variables(env), "DB_CONNECTION", named_file=named)
    stray = [name for name in DB_VARIABLES if env.get(name, "").strip()]
    if stray:
        raise SettingError(
            "DB_CONNECTION",
            f"not set, but {', '.join(stray)} {'is' if len(stray) == 1 else 'are'}: "
            "set DB_CONNECTION to sqlite, mysql or pgsql",
        )
    path = data_dir(env) / SQLITE_FILE_NAME
    return DatabaseSettings(URL.create("sqlite", database=str(path)).render_as_string(), "default")


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The SQLAlchemy URL (with its password) of the database chosen by ``environ``."""
    return database_settings(environ).url


def mask_url(url: str | URL) -> str:
    """``url`` as text with its password replaced by ``***`` (safe to print)."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return "(an unparsable database URL)"
    return parsed.render_as_string(hide_password=True)


def _checked_url(raw: str, variable: str) -> str:
    """Parse ``raw``, map a bare scheme to its driver, check SQLAlchemy knows the dialect."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingError(
            variable,
            "not a database URL (expected e.g. postgresql://user:password@host/db, "
            "mysql://user:password@host/db or sqlite:////path/to/file.sqlite)",
        ) from None
    if "+" not in url.drivername and url.drivername in DRIVERS:
        url = url.set(drivername=DRIVERS[url.drivername])
    try:
        url.get_dialect()
    except NoSuchModuleError:
        raise SettingError(
            variable,
            f"unknown database driver {url.drivername!r} "
            "(use postgresql, mysql, mariadb or sqlite, optionally with +driver)",
        ) from None
    if url.get_backend_name() == "mysql" and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url.render_as_string(hide_password=False)


def _url_from_db_variables(env: Mapping[str, str]) -> str:
    connection = env.get("DB_CONNECTION", "").strip().lower()
    driver = DRIVERS.get(connection)
    if driver is None:
        raise SettingError(
            "DB_CONNECTION",
            f"unknown value {connection!r}: use sqlite, mysql (or mariadb) or pgsql "
            "(or postgresql)",
        )
    name = env.get("DB_DATABASE", "").strip()
    if driver == "sqlite":
        if name == ":memory:":
            return "sqlite://"
        path = Path(name).expanduser() if name else Path(SQLITE_FILE_NAME)
        if not path.is_absolute():
            path = data_dir(env) / path
        return URL.create("sqlite", database=str(path)).render_as_string()
    if not name:
        raise SettingError(
            "DB_DATABASE", f"not set: name the database (DB_CONNECTION={connection})"
        )
    host = env.get("DB_HOST", "").strip() or "localhost"
    port = _port(env.get("DB_PORT", "").strip())
    query: dict[str, str] = {}
    if host.startswith("/"):  # a directory (PostgreSQL) or socket file (MariaDB)
        query["host" if driver.startswith("postgresql") else "unix_socket"] = host
        host_part: str | None = None
    else:
        host_part = host
    if driver.startswith("mysql"):
        query["charset"] = "utf8mb4"
    url = URL.create(
        driver,
        username=env.get("DB_USERNAME", "").strip() or None,
        password=env.get("DB_PASSWORD", "") or None,
        host=host_part,
        port=port,
        database=name,
        query=query,
    )
    return url.render_as_string(hide_password=False)


def _port(value: str) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise SettingError("DB_PORT", f"not a port number (1-65535): {value!r}")
    return int(value)
