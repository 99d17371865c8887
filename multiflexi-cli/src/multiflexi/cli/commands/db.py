"""``db``: the database schema, through multiflexi-database's API."""

from __future__ import annotations

import click

from multiflexi.cli.context import App, pass_app


@click.group("db")
def group() -> None:
    """The database schema: upgrade, current, check."""


@group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def upgrade(app: App, revision: str) -> None:
    """Migrate the database to the newest schema (or --revision)."""
    import multiflexi.database as database

    before, after = database.upgrade(app.settings.database_url, revision)
    app.emit({"before": before, "after": after, "changed": before != after})


@group.command("current")
@pass_app
def current(app: App) -> None:
    """The revision the database is at (null when it was never migrated)."""
    import multiflexi.database as database

    app.emit({"current": database.current(app.settings.database_url), "head": database.head()})


@group.command("check")
@pass_app
def check(app: App) -> None:
    """Is the database at this code's schema? Exit 1 when it is not (the message says why)."""
    import multiflexi.database as database

    found = database.check(app.settings.database_url)
    app.emit(
        {
            "state": found.state,
            "current": found.current,
            "head": found.head,
            "message": found.message,
        }
    )
    if not found.ok:
        from multiflexi.core.errors import SchemaMismatch

        raise SchemaMismatch(found.message)
