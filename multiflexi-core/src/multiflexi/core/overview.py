"""The dashboard's picture of the installation, for one principal, in one call.

:func:`dashboard` gathers what a person opening MultiFlexi wants to know first:
how the jobs of the last 24 hours ended (counted by state), what runs now, what
failed lately, what runs in the next 24 hours (computed from each active run
template's schedule), the success and failure of every hour of the last 7 days,
and whether the parts that make jobs happen are alive: the scheduler (its lease),
the executor workers (their RQ heartbeats) and Redis.

Every number is an aggregate the database computes over an index with a time bound
(``jobs(state, scheduled_at)``, ``jobs(company_id, state, id)``), never a scan of
job rows in Python. The time of a job here is its due time (``scheduled_at``), as in
the job list's ``since``/``until`` filters, so each count opens a list that shows
as many jobs. A principal sees the jobs and run templates of its companies only
(:func:`multiflexi.core.access.visible_company_ids`); the health of the
installation is the same for everyone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import access, queue, runtemplates, schedules, scheduling, status
from multiflexi.core.audit import Actor
from multiflexi.core.config import settings_of
from multiflexi.core.errors import ValidationError
from multiflexi.core.jobs import STATES
from multiflexi.core.models import Company, Job, RunTemplate
from multiflexi.core.unit import in_companies

if TYPE_CHECKING:
    from redis import Redis

#: how far back the counts by state look
RECENT = dt.timedelta(hours=24)
#: how far ahead the next runs are computed
AHEAD = dt.timedelta(hours=24)
#: hours in the chart (7 days)
CHART_HOURS = 7 * 24
#: running jobs listed (the total is counted beside)
RUNNING_LIMIT = 10
#: latest failures listed
FAILURES_LIMIT = 10
#: run templates in the next runs, and occurrences shown per run template
UPCOMING_LIMIT = 12
UPCOMING_PER_TEMPLATE = 5
#: states whose jobs count as failures (the chart's red part, the latest failures)
FAILURE_STATES = ("failed", "lost")
#: a worker whose last heartbeat is older than this is not counted as alive
WORKER_SILENCE = dt.timedelta(minutes=10)

_HOUR = dt.timedelta(hours=1)


@dataclasses.dataclass(frozen=True)
class JobRef:
    """A job with the names a person recognises it by (running or failed)."""

    id: int
    state: str
    run_template_id: int
    run_template_name: str
    company_id: int
    company_name: str
    scheduled_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    exit_code: int | None


@dataclasses.dataclass(frozen=True)
class Upcoming:
    """A run template's next occurrences within :data:`AHEAD` (the first ones)."""

    run_template_id: int
    run_template_name: str
    company_id: int
    company_name: str
    schedule: str
    times: list[dt.datetime]
    #: more occurrences follow within the window than ``times`` lists
    more: bool


@dataclasses.dataclass(frozen=True)
class Hour:
    """One bar of the chart: jobs due in [start, start + 1 h) that ended so."""

    start: dt.datetime
    success: int
    failed: int

    @property
    def end(self) -> dt.datetime:
        return self.start + _HOUR

    @property
    def total(self) -> int:
        return self.success + self.failed


@dataclasses.dataclass(frozen=True)
class Health:
    """Whether the parts that run jobs are alive (the same for every principal)."""

    #: who holds the scheduler's lease now; None: no scheduler is running
    scheduler: str | None
    #: executor workers that sent a heartbeat lately; None when Redis did not answer
    workers: int | None
    #: why Redis did not answer (None: it did)
    redis_error: str | None

    @property
    def scheduler_alive(self) -> bool:
        return self.scheduler is not None

    @property
    def workers_alive(self) -> bool:
        return bool(self.workers)


@dataclasses.dataclass(frozen=True)
class Dashboard:
    now: dt.datetime
    #: the start of the counts' window (``now - RECENT``)
    since: dt.datetime
    #: state -> jobs due in [since, now), every state present (0 when none)
    counts: dict[str, int]
    running: list[JobRef]
    #: all running jobs the principal may see (``running`` lists the longest-running)
    running_total: int
    failures: list[JobRef]
    upcoming: list[Upcoming]
    #: the chart, oldest hour first, :data:`CHART_HOURS` bars ending with the current hour
    hours: list[Hour]
    health: Health

    @property
    def recent_total(self) -> int:
        return sum(self.counts.values())


def hour_key(session: Session, column: Any) -> Any:
    """SQL giving the UTC hour of a time column as text ``YYYY-MM-DD HH`` (any backend)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", column), "YYYY-MM-DD HH24")
    if name in ("mysql", "mariadb"):  # stored as the UTC wall time
        return sa.func.date_format(column, "%Y-%m-%d %H")
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" text of the UTC wall time
    return sa.func.substr(column, 1, 13)


def _counts(
    session: Session, since: dt.datetime, until: dt.datetime, company_ids: set[int] | None
) -> dict[str, int]:
    query = (
        sa.select(Job.state, sa.func.count())
        .where(Job.state.in_(STATES), Job.scheduled_at >= since, Job.scheduled_at < until)
        .group_by(Job.state)
    )
    found = dict(session.execute(in_companies(query, Job.company_id, company_ids)).all())
    return {state: int(found.get(state, 0)) for state in STATES}


def _job_refs(session: Session, query: Any) -> list[JobRef]:
    rows = session.execute(query).all()
    return [
        JobRef(
            id=row.id,
            state=row.state,
            run_template_id=row.run_template_id,
            run_template_name=row.rt_name,
            company_id=row.company_id,
            company_name=row.company_name,
            scheduled_at=row.scheduled_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            exit_code=row.exit_code,
        )
        for row in rows
    ]


def _named_jobs() -> Any:
    """Jobs with their run template's and company's names, in one query (no N+1)."""
    return (
        sa.select(
            Job.id,
            Job.state,
            Job.run_template_id,
            RunTemplate.name.label("rt_name"),
            Job.company_id,
            Company.name.label("company_name"),
            Job.scheduled_at,
            Job.started_at,
            Job.finished_at,
            Job.exit_code,
        )
        .join(RunTemplate, RunTemplate.id == Job.run_template_id)
        .join(Company, Company.id == Job.company_id)
    )


def _running(session: Session, company_ids: set[int] | None) -> tuple[list[JobRef], int]:
    listed = in_companies(
        _named_jobs().where(Job.state == "running"), Job.company_id, company_ids
    ).order_by(Job.started_at, Job.id)
    total_query = in_companies(
        sa.select(sa.func.count()).select_from(Job).where(Job.state == "running"),
        Job.company_id,
        company_ids,
    )
    total = int(session.scalar(total_query) or 0)
    return _job_refs(session, listed.limit(RUNNING_LIMIT)), total


def _failures(session: Session, now: dt.datetime, company_ids: set[int] | None) -> list[JobRef]:
    """The latest failures by due time: one index range per state, read backwards."""
    found: list[JobRef] = []
    for state in FAILURE_STATES:
        query = in_companies(
            _named_jobs().where(Job.state == state, Job.scheduled_at <= now),
            Job.company_id,
            company_ids,
        ).order_by(Job.scheduled_at.desc(), Job.id.desc())
        found.extend(_job_refs(session, query.limit(FAILURES_LIMIT)))
    found.sort(key=lambda ref: (ref.scheduled_at, ref.id), reverse=True)
    return found[:FAILURES_LIMIT]


def chart_start(now: dt.datetime) -> dt.datetime:
    """The first hour of the chart that ends with the hour of ``now``."""
    return now.replace(minute=0, second=0, microsecond=0) - (CHART_HOURS - 1) * _HOUR


def _hours(session: Session, now: dt.datetime, company_ids: set[int] | None) -> list[Hour]:
    first = chart_start(now)
    end = first + CHART_HOURS * _HOUR
    key = hour_key(session, Job.scheduled_at).label("hour")
    query = (
        sa.select(key, Job.state, sa.func.count())
        .where(
            Job.state.in_(("success", *FAILURE_STATES)),
            Job.scheduled_at >= first,
            Job.scheduled_at < end,
        )
        .group_by(key, Job.state)
    )
    success: dict[str, int] = {}
    failed: dict[str, int] = {}
    for hour, state, number in session.execute(in_companies(query, Job.company_id, company_ids)):
        into = success if state == "success" else failed
        into[hour] = into.get(hour, 0) + int(number)
    bars = []
    for index in range(CHART_HOURS):
        start = first + index * _HOUR
        text = start.strftime("%Y-%m-%d %H")
        bars.append(Hour(start=start, success=success.get(text, 0), failed=failed.get(text, 0)))
    return bars


def _occurrences(
    schedule: schedules.Schedule, now: dt.datetime, until: dt.datetime
) -> Iterator[dt.datetime]:
    return itertools.takewhile(lambda at: at < until, schedules.occurrences(schedule, now))


def _upcoming(session: Session, now: dt.datetime, company_ids: set[int] | None) -> list[Upcoming]:
    """The run templates that run soonest in the next :data:`AHEAD`, with their first runs.

    Each active run template's schedule gives its first occurrence after ``now``; the
    :data:`UPCOMING_LIMIT` soonest are listed with up to :data:`UPCOMING_PER_TEMPLATE`
    occurrences each. A stored schedule that no longer validates is left out.
    """
    until = now + AHEAD
    query = in_companies(
        sa.select(RunTemplate, Company.name)
        .join(Company, Company.id == RunTemplate.company_id)
        .where(RunTemplate.active == sa.true(), RunTemplate.interval_code != "n"),
        RunTemplate.company_id,
        company_ids,
    )
    firsts: list[tuple[dt.datetime, int, RunTemplate, str, schedules.Schedule]] = []
    for run_template, company_name in session.execute(query).all():
        try:
            schedule = runtemplates.schedule_of(session, run_template)
        except ValidationError:
            continue
        first = next(_occurrences(schedule, now, until), None)
        if first is not None:
            firsts.append((first, run_template.id, run_template, company_name, schedule))
    result = []
    for _first, _id, run_template, company_name, schedule in heapq.nsmallest(
        UPCOMING_LIMIT, firsts, key=lambda item: (item[0], item[1])
    ):
        times = list(
            itertools.islice(_occurrences(schedule, now, until), UPCOMING_PER_TEMPLATE + 1)
        )
        result.append(
            Upcoming(
                run_template_id=run_template.id,
                run_template_name=run_template.name,
                company_id=run_template.company_id,
                company_name=company_name,
                schedule=schedules.describe(schedule),
                times=times[:UPCOMING_PER_TEMPLATE],
                more=len(times) > UPCOMING_PER_TEMPLATE,
            )
        )
    return result


def health(session: Session, now: dt.datetime, redis: Redis | None = None) -> Health:
    """The scheduler's lease, the workers' heartbeats and Redis: never raises for Redis."""
    holder = scheduling.lease_holder(session, scheduling.LEASE_NAME, now)
    client = redis if redis is not None else queue.connect(settings_of(session).redis_url)
    try:
        queue.ping(client)
        workers = status.workers(client)
    except queue.QueueUnavailable as exc:
        return Health(scheduler=holder, workers=None, redis_error=exc.message)
    alive = [
        worker
        for worker in workers
        if worker.last_heartbeat is None or now - worker.last_heartbeat <= WORKER_SILENCE
    ]
    return Health(scheduler=holder, workers=len(alive), redis_error=None)


def dashboard(
    session: Session,
    principal: Actor,
    *,
    now: dt.datetime | None = None,
    redis: Redis | None = None,
) -> Dashboard:
    """Everything the dashboard shows, for what ``principal`` may see.

    ``now`` (timezone-aware; default the current time) fixes every window, so a
    test can ask about any moment. Redis is ``redis`` or the one of the settings.
    """
    moment = schedules.now_or(now)
    company_ids = access.visible_company_ids(principal)
    since = moment - RECENT
    counts = _counts(session, since, moment, company_ids)
    running, running_total = _running(session, company_ids)
    result = Dashboard(
        now=moment,
        since=since,
        counts=counts,
        running=running,
        running_total=running_total,
        failures=_failures(session, moment, company_ids),
        upcoming=_upcoming(session, moment, company_ids),
        hours=_hours(session, moment, company_ids),
        health=health(session, moment, redis),
    )
    session.commit()  # end the read transaction (a fresh snapshot next time)
    return result


__all__ = [
    "AHEAD",
    "CHART_HOURS",
    "FAILURE_STATES",
    "RECENT",
    "STATES",
    "Dashboard",
    "Health",
    "Hour",
    "JobRef",
    "Upcoming",
    "chart_start",
    "dashboard",
    "health",
    "hour_key",
]
