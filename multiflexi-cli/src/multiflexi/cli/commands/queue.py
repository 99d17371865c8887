"""``queue``: what is waiting to run, and the repair of lost deliveries."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import pagination

WAITING_STATES = ("scheduled", "queued", "waiting", "blocked")


@click.group("queue")
def group() -> None:
    """The job queue: overview, list, fix (re-deliver what Redis lost, recount jobs)."""


@group.command("overview")
@pass_app
def overview(app: App) -> None:
    """Jobs by state (database) and waiting deliveries per RQ queue (Redis).

    When Redis is down the database part is still shown, with the reason.
    """
    from multiflexi.core import status

    found = status.status(app.session, redis=app.redis)
    if found.redis_error:
        app.message(f"warning: {found.redis_error}")
    app.emit(
        {
            "jobs": found.jobs,
            "waiting_jobs": sum(found.jobs.get(s, 0) for s in WAITING_STATES),
            "queues": found.queues,
            "workers": None if found.workers is None else len(found.workers),
            "redis_error": found.redis_error,
        }
    )


@group.command("list")
@pagination()
@pass_app
def list_(app: App, limit: int, offset: int) -> None:
    """Jobs that have not started yet (scheduled, queued, waiting, blocked), newest first."""
    from multiflexi.core import jobs

    page = jobs.list_jobs(app.session, state=WAITING_STATES, limit=limit, offset=offset)
    app.emit(
        [views.job(j) for j in page.items],
        columns=["id", "runtemplate_id", "state", "queue", "scheduled_at"],
    )


@group.command("fix")
@pass_app
def fix(app: App) -> None:
    """Deliver again every queued job that Redis no longer holds (after Redis lost its data).

    Also rebuilds the companies' job counters (the totals of job lists) from the
    jobs, and reports each one that was wrong (`job_counts_corrected`).
    """
    from multiflexi.core import housekeeping, jobs, queue

    queue.ping(app.redis)  # an empty answer must not hide that Redis is down
    corrections = housekeeping.recount_jobs(app.session, actor=app.actor)
    delivered = jobs.redeliver(app.session, app.redis)
    for company_id, (was, now) in corrections.items():
        said = "no counter" if was is None else f"{was} job(s)"
        app.message(f"job count of company {company_id} corrected: {said} -> {now}")
    app.emit(
        {
            "redelivered": delivered,
            "count": len(delivered),
            "job_counts_corrected": [
                {"company_id": company_id, "was": was, "now": now}
                for company_id, (was, now) in corrections.items()
            ],
        }
    )
