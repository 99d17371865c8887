"""``status``: versions, schema, jobs by state, queues and workers."""

from __future__ import annotations

import click

from multiflexi.cli.context import App, pass_app


@click.command("status")
@pass_app
def command(app: App) -> None:
    """The installation at a glance; says so clearly when Redis is down (exit 0 still)."""
    from multiflexi.core import status

    found = status.status(app.session, redis=app.redis)
    data = found.as_dict()
    data["database"] = app.settings.safe_database_url
    data["redis"] = "down" if found.redis_error else "up"
    if found.redis_error:
        app.message(f"warning: {found.redis_error}")
    app.emit(data)
