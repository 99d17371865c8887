"""Settings from the environment (and an env file), the engine and the sessions.

Every component reads the same variables (ARCHITECTURE.md section 4). The
process environment wins over the env file; the env-file format and the
database URL rules belong to multiflexi-database and are reused here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import multiflexi.database as database
from multiflexi.core import schedules
from multiflexi.core.errors import ConfigurationError, SchemaMismatch
from multiflexi.database import settings as db_settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: the original's alias for ENCRYPTION_MASTER_KEY, still honoured
MASTER_KEY_VARIABLES = ("ENCRYPTION_MASTER_KEY", "MULTIFLEXI_MASTER_KEY")
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: the key that signs the web UI's session cookies; when unset, kept in SESSION_KEY_FILE
SESSION_KEY_VARIABLE = "MULTIFLEXI_SECRET_KEY"
#: the file of the data directory that keeps the generated session key (mode 0600)
SESSION_KEY_FILE = "session.key"


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a MultiFlexi process needs to know about its surroundings."""

    database_url: str = dataclasses.field(repr=False)
    redis_url: str = dataclasses.field(repr=False)
    timezone: str
    data_dir: Path
    tmp_dir: Path
    master_key: str | None = dataclasses.field(default=None, repr=False)
    #: the merged variables (file + process), for settings of other components
    environ: Mapping[str, str] = dataclasses.field(default_factory=dict, repr=False)

    def require_master_key(self) -> str:
        if not self.master_key:
            raise ConfigurationError(
                "ENCRYPTION_MASTER_KEY",
                "is not set; secrets cannot be stored or read without it "
                "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')",
            )
        return self.master_key

    @property
    def safe_database_url(self) -> str:
        """The database URL with its password hidden, fit for messages and logs."""
        return make_url(self.database_url).render_as_string(hide_password=True)


def default_tmp_dir(data_dir: Path) -> Path:
    """Where jobs' work directories go when MULTIFLEXI_TMP is unset: beside the data directory.

    Never inside it: the data directory (database, keys, settings) stays closed to
    the user jobs run as, who must reach its own work directory.
    """
    return data_dir.with_name(f"{data_dir.name}-jobs")


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (mode 0600), atomically replacing any old one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def persistent_secret(
    data_dir: Path, file_name: str, environ: Mapping[str, str], *variables: str
) -> str:
    """A secret from the first of ``variables`` that is set, else from its file in
    ``data_dir``, made once (mode 0600) when missing.

    Processes that start together on a new data directory agree on one secret: the
    file appears by a hard link that fails when another process made it first.
    A file that cannot be read or made raises :class:`ConfigurationError` naming
    the first variable (setting it is the way out).
    """
    for variable in variables:
        if environ.get(variable):
            return environ[variable]
    key_file = data_dir / file_name
    named = variables[0] if variables else file_name
    try:
        if not key_file.exists():
            data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = key_file.with_name(f".{file_name}.{os.getpid()}.new")
            write_private(tmp, secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, key_file)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                tmp.unlink(missing_ok=True)
        secret = key_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(
            named, f"is not set and {key_file} cannot be used: {exc.strerror or exc}"
        ) from None
    if not secret:
        raise ConfigurationError(named, f"is not set and {key_file} is empty")
    return secret


def session_key(settings: Settings) -> str:
    """The key that signs session cookies: MULTIFLEXI_SECRET_KEY, else the data
    directory's ``session.key`` (made once), so sessions outlive a restart and every
    server process of one installation accepts the others' cookies."""
    return persistent_secret(
        settings.data_dir, SESSION_KEY_FILE, settings.environ, SESSION_KEY_VARIABLE
    )


def load_settings(
    env_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read the settings; a wrong one raises :class:`ConfigurationError` naming it."""
    try:
        merged = db_settings.load_environ(env_file=env_file, environ=environ)
        database_url = db_settings.database_url(merged)
    except db_settings.SettingError as exc:
        raise ConfigurationError(exc.variable, exc.message) from None
    data_dir = Path(db_settings.data_dir(merged))
    tmp_dir = Path(merged.get("MULTIFLEXI_TMP") or default_tmp_dir(data_dir))
    zone = merged.get("MULTIFLEXI_TIMEZONE") or schedules.system_timezone_name(merged)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(
            "MULTIFLEXI_TIMEZONE",
            f"unknown time zone {zone!r} (use an IANA name like Europe/Prague)",
        ) from None
    redis_url = merged.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(
            "REDIS_URL",
            f"must start with redis://, rediss:// or unix:// (for example {DEFAULT_REDIS_URL})",
        )
    master_key = next((merged[v] for v in MASTER_KEY_VARIABLES if merged.get(v)), None)
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        timezone=zone,
        data_dir=data_dir,
        tmp_dir=tmp_dir,
        master_key=master_key,
        environ=dict(merged),
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for SQLite, PostgreSQL or MariaDB/MySQL with MultiFlexi's settings.

    SQLite gets foreign keys, a busy timeout and WAL (several processes share
    it in the one-machine stack); the others get pre-ping so that a restarted
    database server costs one retry, not an error.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs.setdefault("pool_pre_ping", True)
    return configure_engine(sa.create_engine(url, **kwargs))


def configure_engine(engine: Engine) -> Engine:
    """Give an engine made elsewhere (Flask-SQLAlchemy's) MultiFlexi's connection settings."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(
        engine, "connect", _sqlite_pragmas
    ):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not engine.url.query.get("uri"):
            _watch_sqlite_file(engine, database)
    return engine


_FILE_IDENTITY = "multiflexi.sqlite_file"


def _watch_sqlite_file(engine: Engine, path: str) -> None:
    """Never write into a SQLite file that was deleted or replaced under an open connection.

    A connection keeps writing to the file it opened, even after the file is
    deleted: each change would be acknowledged and lost. So each connection
    remembers which file it opened (and whether it could write to it); a
    connection whose file is gone, replaced or made read-only is dropped when it
    is next taken from the pool, and once the file has been seen, a missing file
    is an error (``unable to open database file``) instead of a new empty
    database. A new connection to a read-only file refuses writes
    (``attempt to write a readonly database``).
    """
    seen: list[bool] = [False]

    def identity() -> tuple[int, int, bool] | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino, os.access(path, os.W_OK, effective_ids=True)

    def do_connect(_dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        if seen[0] and identity() is None:
            import sqlite3

            raise sqlite3.OperationalError(f"unable to open database file: {path} is missing")

    def connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_FILE_IDENTITY] = identity()
        seen[0] = True

    def checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        opened = record.info.get(_FILE_IDENTITY)
        if opened is not None and identity() != opened:
            raise sa.exc.DisconnectionError(f"the SQLite file {path} was deleted or changed")

    sa.event.listen(engine, "do_connect", do_connect)
    sa.event.listen(engine, "connect", connect)
    sa.event.listen(engine, "checkout", checkout)


def session_factory(engine: Engine, settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions that carry the settings (``session.info["settings"]``) for the core's use."""
    info: dict[str, Any] = {"settings": settings} if settings is not None else {}
    return sessionmaker(bind=engine, expire_on_commit=False, info=info)


@contextlib.contextmanager
def one_session(settings: Settings) -> Iterator[Session]:
    """A session on an engine of its own, disposed afterwards: one short piece of work."""
    engine = create_engine(settings.database_url)
    try:
        with session_factory(engine, settings)() as session:
            yield session
    finally:
        engine.dispose()


def settings_of(session: Session) -> Settings:
    """The settings a session was made with (see :func:`session_factory`)."""
    settings = session.info.get("settings")
    if settings is None:
        raise RuntimeError("this session was not made by multiflexi.core.config.session_factory")
    return settings


#: a write that changes nothing, to learn whether the database accepts writes
_WRITE_PROBE = sa.text("UPDATE companies SET id = id WHERE 1 = 0")


def write_refusal(session: Session) -> str | None:
    """Why the database refuses writes (read-only file or server), or None when it accepts them.

    Tries a write that changes nothing and rolls the session back.
    """
    try:
        session.execute(_WRITE_PROBE)
    except sa.exc.DBAPIError as exc:
        return str(exc.orig or exc).splitlines()[0]
    finally:
        session.rollback()
    return None


def require_schema(settings: Settings) -> None:
    """Refuse to work on a database whose schema this code does not know.

    Raises :class:`SchemaMismatch` saying what to run (``multiflexi-database
    upgrade``, or to upgrade the code when the database is newer), or
    :class:`ConfigurationError` naming the setting when the database cannot be
    reached (DB_HOST, DB_PASSWORD, ...).
    """
    if _at_head(database, settings.database_url):
        return  # the usual case, answered without loading Alembic
    chosen = _database_settings(database, settings)
    try:
        # with the settings, the message names the file or database and what chose it
        status = database.check(chosen if chosen is not None else settings.database_url)
    except database.DatabaseUnavailable as failure:
        explained = (chosen or database.database_settings(settings.environ)).explain(failure)
        raise ConfigurationError(explained.variable, explained.message) from None
    if not status.ok:
        raise SchemaMismatch(status.message)


def _database_settings(database: Any, settings: Settings) -> Any:
    """The database package's settings of ``settings.database_url``, or None when the
    URL did not come from ``settings.environ`` (settings made by hand)."""
    try:
        chosen = database.database_settings(settings.environ)
    except database.SettingError:
        return None
    return chosen if chosen.url == settings.database_url else None


def _at_head(database: Any, url: str) -> bool:
    try:
        return bool(database.at_head(url))
    except database.DatabaseUnavailable:
        return False  # the full check below names the setting to fix


__all__ = [
    "DEFAULT_REDIS_URL",
    "MASTER_KEY_VARIABLES",
    "SESSION_KEY_FILE",
    "SESSION_KEY_VARIABLE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Settings",
    "configure_engine",
    "create_engine",
    "default_tmp_dir",
    "load_settings",
    "one_session",
    "persistent_secret",
    "require_schema",
    "session_factory",
    "session_key",
    "settings_of",
    "write_private",
    "write_refusal",
]
