"""``task``: SLA tasks, the scheduled windows of run templates held to a deadline."""

from __future__ import annotations

from typing import Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, LazyChoice, check_time, company_option, pagination, parse_time

COLUMNS = ["id", "runtemplate_id", "state", "attempts", "window_start", "deadline"]


def _state_names() -> list[str]:
    from multiflexi.core import tasks

    return list(tasks.STATES)


@click.group("task")
def group() -> None:
    """SLA tasks: list (with counts by state), get (with its jobs)."""


@group.command("list")
@click.option(
    "--state", type=LazyChoice(_state_names), default=None, help="Only tasks in this state."
)
@company_option(required=False)
@click.option("--runtemplate-id", type=ID, default=None, help="Only tasks of this run template.")
@click.option(
    "--since",
    default=None,
    callback=check_time,
    help="Only windows starting at or after this ISO time (MULTIFLEXI_TIMEZONE without a zone).",
)
@click.option(
    "--until", default=None, callback=check_time, help="Only windows starting before this time."
)
@pagination(default_limit=50)
@pass_app
def list_(
    app: App,
    state: str | None,
    company: str | None,
    runtemplate_id: int | None,
    since: str | None,
    until: str | None,
    limit: int,
    offset: int,
) -> None:
    """List tasks, latest window first."""
    from multiflexi.core import companies, tasks

    company_id = companies.get(app.session, company).id if company else None
    zone = app.settings.timezone
    page = tasks.list_tasks(
        app.session,
        company_id=company_id,
        run_template_id=runtemplate_id,
        state=state,
        since=parse_time(since, zone) if since else None,
        until=parse_time(until, zone) if until else None,
        limit=limit,
        offset=offset,
    )
    app.emit([views.task(t) for t in page.items], columns=COLUMNS)


@group.command("get")
@click.option("--id", "object_id", type=ID, required=True, help="Task id.")
@pass_app
def get(app: App, object_id: int) -> None:
    """Show a task and its jobs (attempts)."""
    from multiflexi.core import tasks

    task = tasks.get(app.session, object_id)
    data: dict[str, Any] = views.task(task)
    found = tasks.jobs_of(app.session, task.id)
    if app.fmt == "table":
        data["jobs"] = ", ".join(f"{j.id} ({j.state})" for j in found) or "-"
    else:
        data["jobs"] = [views.job(j) for j in found]
    app.emit(data)
