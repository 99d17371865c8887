"""Alembic environment of the MultiFlexi schema.

Alembic runs this file for every command. It finds the database in this order:

1. ``config.attributes["connection"]``: a SQLAlchemy ``Connection`` handed over by
   :mod:`multiflexi.database.api` (the migrations then share its transaction);
2. the ``sqlalchemy.url`` option of the Alembic configuration; under Flask-Migrate
   (``flask --app multiflexi.server db upgrade``) the server sets it from its
   Flask-SQLAlchemy engine in a ``Migrate.configure`` callback, so this package
   never imports Flask (ARCHITECTURE.md section 2).

SQLite gets batch mode (``render_as_batch``), so that migrations which alter a table
work there too, by copying it.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, Engine
from sqlalchemy.schema import DefaultClause
from sqlalchemy.sql.elements import False_, True_

from multiflexi.database.connect import create_engine_for
from multiflexi.database.tables import LongBinary, UTCDateTime, metadata

config = context.config

#: how autogenerate writes a UTCDateTime column: plain types, no import of tables.py
UTC_DATETIME_RENDERED = (
    'sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
)
#: and a LongBinary column
LONG_BINARY_RENDERED = 'sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb")'


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write UTCDateTime, LongBinary and boolean server defaults portably in new revisions.

    Autogenerate would otherwise import ``tables.UTCDateTime`` (or ``LongBinary``) into
    the revision, and write ``sa.true()`` the way SQLite spells it (``1``), which
    PostgreSQL refuses.
    """
    if kind == "type" and isinstance(obj, UTCDateTime | LongBinary):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return UTC_DATETIME_RENDERED if isinstance(obj, UTCDateTime) else LONG_BINARY_RENDERED
    if kind == "server_default" and isinstance(obj, DefaultClause):
        if isinstance(obj.arg, True_):
            return "sa.true()"
        if isinstance(obj.arg, False_):
            return "sa.false()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )


def _engine() -> Engine:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "multiflexi.database migrations: no database given (pass a connection in "
            "config.attributes['connection'] or set sqlalchemy.url)"
        )
    return create_engine_for(url)


def run_offline() -> None:
    """Write the SQL instead of running it (``--sql``)."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        url = _engine().url.render_as_string(hide_password=False)
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = _engine()
    with engine.connect() as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
