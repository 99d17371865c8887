"""Migrate a MultiFlexi database: the Python API the other packages use.

Every function takes an SQLAlchemy URL (see :mod:`multiflexi.database.settings` for
where it comes from) and opens and closes its own connection:

- :func:`upgrade` to head (or a given revision), :func:`downgrade` to a revision;
- :func:`current` revision of a database, :func:`head` revision of this code;
- :func:`check`: is the database at head, behind, ahead or never migrated;
- :func:`history`: the migrations this code ships, oldest first.

The Alembic scripts live in :data:`MIGRATIONS_DIR`, inside this package; the Alembic
configuration is built in code (:func:`alembic_config`), so no ``alembic.ini`` is needed.

Errors: :class:`~multiflexi.database.errors.DatabaseUnavailable` when the database
cannot be opened, :class:`~multiflexi.database.errors.MigrationError` when the request
cannot be carried out (unknown revision, database newer than this code). Both leave
the database as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import URL, Connection, make_url

from multiflexi.database.connect import connect, missing_sqlite_file, where
from multiflexi.database.errors import MigrationError
from multiflexi.database.settings import DatabaseSettings

__all__ = [
    "MIGRATIONS_DIR",
    "Migration",
    "SchemaStatus",
    "alembic_config",
    "check",
    "current",
    "downgrade",
    "head",
    "history",
    "new_revision",
    "upgrade",
]


def _migrations_dir() -> Path:
    path = Path(str(resources.files("multiflexi.database").joinpath("migrations")))
    if not (path / "env.py").is_file():  # pragma: no cover - a broken installation
        raise RuntimeError(f"multiflexi.database: the migrations are missing from {path}")
    return path


#: the Alembic script directory (env.py, versions/) shipped in this package
MIGRATIONS_DIR: Path = _migrations_dir()

#: what running ``upgrade`` is called in messages
UPGRADE_COMMAND = "multiflexi-database upgrade"
AHEAD_MESSAGE = "this database is newer than this code: upgrade multiflexi-database"

State = Literal["current", "behind", "ahead", "empty"]


@dataclass(frozen=True)
class Migration:
    """One migration of the history."""

    revision: str
    down_revision: str | None
    message: str
    is_head: bool


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands against this code; ``message`` says what to do."""

    state: State
    current: str | None
    head: str
    message: str

    @property
    def ok(self) -> bool:
        """True when the database is at this code's head revision."""
        return self.state == "current"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic ``Config`` for this package's migrations, built without any ini file.

    With ``connection``, env.py migrates over that connection (and its transaction).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this code knows."""
    revision = _script().get_current_head()
    if revision is None:  # pragma: no cover - the package ships its history
        raise MigrationError("this installation of multiflexi-database has no migrations")
    return revision


def history() -> list[Migration]:
    """The migrations this code ships, oldest first."""
    script = _script()
    heads = set(script.get_heads())
    migrations = [
        Migration(
            revision=rev.revision,
            down_revision=_single(rev.down_revision),
            message=(rev.doc or "").strip(),
            is_head=rev.revision in heads,
        )
        for rev in script.walk_revisions()
    ]
    return list(reversed(migrations))


def _single(down: str | Sequence[str] | None) -> str | None:
    if down is None or isinstance(down, str):
        return down
    return ",".join(down)


def _revisions_of(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def current(url: str | URL) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    if missing_sqlite_file(url):
        return None
    with connect(url) as connection:
        revisions = _revisions_of(connection)
    return ",".join(sorted(revisions)) if revisions else None


def check(url: str | URL | DatabaseSettings) -> SchemaStatus:
    """Compare the database at ``url`` with this code's head revision.

    Given the :class:`~multiflexi.database.settings.DatabaseSettings` instead of a
    bare URL, the message of a database without a schema also says which setting
    chose it. A missing SQLite file is ``empty`` too (nothing is created), with a
    message of its own: following the advice to upgrade would create a new, empty
    database at a mistyped path.
    """
    settings = url if isinstance(url, DatabaseSettings) else None
    address = url.url if isinstance(url, DatabaseSettings) else url
    target = head()
    if missing_sqlite_file(address):
        return SchemaStatus("empty", None, target, _missing_file(address, settings))
    with connect(address) as connection:
        revisions = _revisions_of(connection)
    return _status(revisions, target, _described(address, settings))


def _described(url: str | URL, settings: DatabaseSettings | None) -> str:
    """``the SQLite file /path (named by DB_DATABASE)``, ``the database 'mf' on host:5432``."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        what = f"the SQLite file {parsed.database or ':memory:'}"
    else:
        what = f"the database {parsed.database!r} on {where(parsed)}"
    return f"{what} ({settings.chosen_by})" if settings is not None else what


def _missing_file(url: str | URL, settings: DatabaseSettings | None) -> str:
    path = Path(str((make_url(url) if isinstance(url, str) else url).database))
    described = _described(url, settings)
    if settings is not None and settings.origin == "default":
        return f"{described} does not exist yet: run `{UPGRADE_COMMAND}` to create it"
    setting = settings.setting if settings is not None else "the database setting"
    if not path.parent.is_dir():
        return f"{described} does not exist, nor does its directory {path.parent}: check {setting}"
    return (
        f"{described} does not exist: check {setting}, "
        f"or run `{UPGRADE_COMMAND}` to create a new database there"
    )


def _status(
    revisions: tuple[str, ...], target: str, described: str = "the database"
) -> SchemaStatus:
    if not revisions:
        return SchemaStatus(
            "empty",
            None,
            target,
            f"{described} has no MultiFlexi schema yet: run `{UPGRADE_COMMAND}`",
        )
    shown = ",".join(sorted(revisions))
    known = _known(revisions)
    if not known:
        return SchemaStatus(
            "ahead",
            shown,
            target,
            f"the database is at revision {shown}, which this code does not know: {AHEAD_MESSAGE}",
        )
    if revisions == (target,):
        return SchemaStatus("current", shown, target, f"the database is at head ({target})")
    return SchemaStatus(
        "behind",
        shown,
        target,
        f"the database is at revision {shown}, this code expects {target}: run `{UPGRADE_COMMAND}`",
    )


def _known(revisions: tuple[str, ...]) -> bool:
    script = _script()
    for revision in revisions:
        try:
            if script.get_revision(revision) is None:
                return False
        except CommandError:
            return False
    return True


def upgrade(url: str | URL, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database at ``url`` up to ``revision``; return (before, after).

    All migrations run in one transaction where the backend allows it (SQLite and
    PostgreSQL): a failure leaves the database as it was.
    """
    return _migrate(url, revision, "upgrade")


def downgrade(url: str | URL, revision: str) -> tuple[str | None, str | None]:
    """Migrate the database at ``url`` down to ``revision`` (``base``: drop everything)."""
    return _migrate(url, revision, "downgrade")


def _migrate(
    url: str | URL, revision: str, direction: Literal["upgrade", "downgrade"]
) -> tuple[str | None, str | None]:
    revision = revision.strip()
    if not revision:
        raise MigrationError(f"name the revision to {direction} to")
    with connect(url) as connection:
        before = _revisions_of(connection)
        if before and not _known(before):
            raise MigrationError(_status(before, head()).message)
        config = alembic_config(connection)
        try:
            if direction == "upgrade":
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
        except CommandError as exc:
            raise MigrationError(_explain(exc, revision, direction)) from None
        after = _revisions_of(connection)
    return (",".join(before) or None, ",".join(after) or None)


def _explain(exc: CommandError, revision: str, direction: str) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if "locate revision" in text or "No such revision" in text:
        return f"unknown revision {revision!r} (see `multiflexi-database history`)"
    return f"cannot {direction} to {revision!r}: {text}"


def new_revision(message: str) -> Path:
    """Write a new migration (for developers of this package), autogenerated.

    Compares :data:`~multiflexi.database.tables.metadata` with a throwaway SQLite
    database at head and writes the differences as a new file in ``versions/``.
    Read it and check it by hand before committing it.
    """
    with tempfile.TemporaryDirectory(prefix="multiflexi-revision-") as tmp:
        url = URL.create("sqlite", database=str(Path(tmp) / "head.sqlite"))
        upgrade(url)
        with connect(url) as connection:
            script = command.revision(
                alembic_config(connection), message=message, autogenerate=True
            )
    if script is None or isinstance(script, list):  # pragma: no cover - single head
        raise MigrationError("alembic wrote no single revision")
    return Path(script.path)
