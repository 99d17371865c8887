"""The scheduler's rules as plain functions: plan, deliver, when to wake, the leader lease.

The daemon (``multiflexi-server scheduler``) calls these in a loop; any other face
(a test, a one-shot command) may call them too. The schedule contract shared with
the executor (see :mod:`multiflexi.core.jobs`):

* ``run_templates.last_schedule`` is the latest occurrence that has come: set when
  its job is released (:func:`multiflexi.core.jobs.release_schedule`), never in the
  future (an occurrence whose job was cancelled before its time counts as the moment
  it was cancelled, so planning continues from then) and never moving back;
* ``run_templates.next_schedule`` is the occurrence of the outstanding job the
  scheduler made, NULL when there is none. An active run template with an
  interval other than ``n`` and no ``next_schedule`` needs planning.

:func:`plan` gives every run template that needs planning one job (state
``scheduled``, schedule type the interval's name, launched by ``scheduler``) at the
occurrence :func:`multiflexi.core.schedules.due` picks. After downtime that is the
latest missed occurrence, run once; the older misses are written as jobs in state
``missed`` (at most :data:`MISSED_ROWS_LIMIT` per run template and pass), never run.
:func:`deliver_due` hands scheduled jobs whose time has come to RQ.
:func:`next_wakeup` says when there is work again.

Only one scheduler may plan at a time: :func:`acquire_lease` and its siblings keep a
named lease in the ``leases`` table with conditional UPDATE/INSERT statements, which
is race-free on SQLite, PostgreSQL and MariaDB. :func:`plan` can be fenced by the
lease: its transaction renews the lease first and gives up when another holder has
taken it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import Counter
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import jobcounts, jobs, queue, schedules, tasks
from multiflexi.core.errors import Conflict, MultiFlexiError, ValidationError
from multiflexi.core.models import Application, Job, Lease, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import rowcount, transaction
from multiflexi.database import tables as t

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

#: who the scheduler's jobs say launched them (jobs.launched_by)
LAUNCHED_BY = "scheduler"
#: the lease that elects the one active scheduler
LEASE_NAME = "scheduler"
#: missed occurrences written as ``missed`` job rows per run template and pass
MISSED_ROWS_LIMIT = 100
#: scheduled jobs handed to RQ per :func:`deliver_due` call
DELIVERY_BATCH = 1000
#: Redis channel on which a change that needs the scheduler's attention is announced
WAKE_CHANNEL = queue.WAKE_CHANNEL
#: schedule types of the jobs the scheduler makes (interval names, ``n`` excepted)
SCHEDULER_TYPES = frozenset(name for code, name in schedules.INTERVAL_NAMES.items() if code != "n")
MISSED_NOTE = "missed: not run while the scheduler was away; a later occurrence ran instead"
STALE_NOTE = "cancelled by the scheduler: the run template's schedule changed or it was stopped"


class LeaseLost(MultiFlexiError):
    """Another scheduler holds the lease now; this one must stop planning."""

    kind = "lease_lost"


@dataclasses.dataclass(frozen=True)
class LeaseClaim:
    """A lease this process holds: planning is fenced by it (see :func:`plan`)."""

    name: str
    holder: str
    ttl: dt.timedelta


@dataclasses.dataclass(frozen=True)
class PlanResult:
    """What one :func:`plan` pass did."""

    #: ids of the new ``scheduled`` jobs, one per run template planned
    planned: list[int]
    #: missed occurrences written as ``missed`` job rows
    missed: int = 0
    #: missed occurrences not written (beyond :data:`MISSED_ROWS_LIMIT` per run template)
    skipped: int = 0
    #: run template id -> why its stored schedule cannot be planned
    invalid: dict[int, str] = dataclasses.field(default_factory=dict)
    #: ids of outstanding scheduler jobs cancelled because their run template changed
    cancelled: list[int] = dataclasses.field(default_factory=list)


def _seconds(ttl: dt.timedelta | float) -> dt.timedelta:
    return ttl if isinstance(ttl, dt.timedelta) else dt.timedelta(seconds=ttl)


def _needs_planning() -> sa.ColumnElement[bool]:
    return sa.and_(
        RunTemplate.active == sa.true(),
        RunTemplate.interval_code != "n",
        RunTemplate.next_schedule.is_(None),
    )


def _default_zone(session: Session) -> str:
    settings = session.info.get("settings")
    return settings.timezone if settings is not None else schedules.system_timezone_name()


# -- planning ----------------------------------------------------------------------


def cancel_stale(session: Session, now: dt.datetime) -> list[int]:
    """Cancel scheduler-made jobs not yet delivered whose run template no longer wants them.

    That is a ``scheduled`` job of the scheduler whose run template was deactivated,
    disabled (interval ``n``) or given a new schedule (``next_schedule`` reset): the
    run template is planned afresh, so the old job would be a second outstanding one.
    Each goes through :func:`multiflexi.core.jobs.finish`. The cancelled occurrence
    becomes the run template's ``last_schedule``
    (:func:`multiflexi.core.jobs.settle_last_schedule`); one that still lay in the
    future was given up before its time and counts as ``now``, so planning continues
    from the present (a reactivated run template does not skip tonight's run, a new
    schedule starts now) and no occurrence that has passed is planned twice.
    Returns the ids of the cancelled jobs.
    """
    moment = schedules.as_utc(now)
    stale = session.execute(
        sa.select(Job.id, Job.run_template_id, Job.scheduled_at)
        .join(RunTemplate, RunTemplate.id == Job.run_template_id)
        .where(
            Job.state == "scheduled",
            Job.launched_by == LAUNCHED_BY,
            Job.schedule_type.in_(sorted(SCHEDULER_TYPES)),
            sa.or_(
                RunTemplate.next_schedule.is_(None),
                RunTemplate.active == sa.false(),
                RunTemplate.interval_code == "n",
            ),
        )
        .order_by(Job.id)
    ).all()
    session.commit()  # end the read transaction before the writes below
    cancelled = []
    for job_id, rt_id, at in stale:
        if not jobs.finish(
            session, job_id, "cancelled", expected=("scheduled",), exit_description=STALE_NOTE
        ):
            continue
        cancelled.append(job_id)
        with transaction(session):
            jobs.settle_last_schedule(session, rt_id, at, moment)
    if cancelled:
        log.info("cancelled %d outstanding job(s) of changed run templates", len(cancelled))
    return cancelled


def plan(
    session: Session,
    now: dt.datetime,
    *,
    fence: LeaseClaim | None = None,
    missed_rows_limit: int = MISSED_ROWS_LIMIT,
) -> PlanResult:
    """Create the due job of every active run template that needs one (committed).

    A few statements whatever the number of run templates: one read, one bulk
    insert of the jobs, one bulk update of the run templates (``next_schedule`` set to
    the planned occurrence). With ``fence`` the same
    transaction first renews that lease and raises :class:`LeaseLost`, changing
    nothing, when this holder no longer has it.
    """
    moment = schedules.as_utc(now)
    cancelled = cancel_stale(session, moment)
    rows = session.execute(
        sa.select(
            RunTemplate.id,
            RunTemplate.company_id,
            RunTemplate.application_id,
            RunTemplate.interval_code,
            RunTemplate.cron,
            RunTemplate.delay,
            RunTemplate.timezone,
            RunTemplate.executor,
            RunTemplate.queue,
            RunTemplate.last_schedule,
            RunTemplate.deadline_offset,
            Application.version,
        )
        .join(Application, Application.id == RunTemplate.application_id)
        .where(_needs_planning())
        .order_by(RunTemplate.id)
    ).all()
    zone = _default_zone(session)
    decided: dict[tuple[Any, ...], schedules.Due | str] = {}
    job_rows: list[dict[str, Any]] = []
    missed_rows: list[dict[str, Any]] = []
    invalid: dict[int, str] = {}
    missed_total = skipped_total = 0
    windows: list[tuple[int, schedules.Schedule, dt.datetime, str | None]] = []
    for row in rows:
        key = (row.interval_code, row.cron, row.delay, row.timezone, row.last_schedule)
        decision = decided.get(key)
        if decision is None:
            decision = decided[key] = _decide(row, zone, moment)
        if isinstance(decision, str):
            invalid[row.id] = decision
            continue
        if decision.run_at is None:
            continue
        schedule_type = schedules.INTERVAL_NAMES[row.interval_code]
        common = {
            "run_template_id": row.id,
            "company_id": row.company_id,
            "application_id": row.application_id,
            "schedule_type": schedule_type,
            "executor": row.executor,
            "queue": row.queue,
            "launched_by": LAUNCHED_BY,
            "app_version": row.version,
            "created_at": moment,
        }
        kept = decision.missed[-missed_rows_limit:] if missed_rows_limit > 0 else []
        skipped = len(decision.missed) - len(kept)
        for occurrence in kept:
            missed_rows.append(
                common
                | {
                    "state": "missed",
                    "scheduled_at": occurrence,
                    "finished_at": moment,
                    "exit_description": MISSED_NOTE,
                }
            )
        if skipped:
            more = " or more" if len(decision.missed) >= schedules.MISSED_LIMIT else ""
            log.warning(
                "run template %d: %d missed occurrence(s) recorded, %d%s older one(s) not recorded",
                row.id,
                len(kept),
                skipped,
                more,
            )
        missed_total += len(kept)
        skipped_total += skipped
        job_rows.append(common | {"state": "scheduled", "scheduled_at": decision.run_at})
        schedule = schedules.Schedule.build(
            row.interval_code, row.cron, row.delay, row.timezone, default_timezone=zone
        )
        windows.append((row.id, schedule, decision.run_at, row.deadline_offset))
    for rt_id, problem in invalid.items():
        log.error("run template %d cannot be planned: %s", rt_id, problem)
    session.commit()  # end the read transaction; the writes get their own
    planned: list[int] = []
    with transaction(session, msg("another scheduler planned at the same time")):
        if fence is not None and not renew_lease(
            session, fence.name, fence.holder, fence.ttl, moment, commit=False
        ):
            raise LeaseLost(f"lease {fence.name!r} is held by another scheduler now")
        if missed_rows:
            session.execute(sa.insert(t.jobs), missed_rows)
        if job_rows:
            # each window's SLA task, in the same commit as its job (idempotent by window)
            task_ids = tasks.materialise(session, windows, moment)
            for job_row, (rt_id, _, start, _) in zip(job_rows, windows, strict=True):
                job_row["task_id"] = task_ids[(rt_id, start.astimezone(dt.UTC))]
            planned = sorted(
                session.scalars(sa.insert(t.jobs).returning(t.jobs.c.id), job_rows).all()
            )
            marked = _mark_planned(session, planned[0], planned[-1])
            if marked != len(planned):  # pragma: no cover - only without a fence
                log.error("planned %d job(s) but marked %d run template(s)", len(planned), marked)
        # the companies' job counters, in the same commit as the rows (one UPDATE)
        jobcounts.add(session, Counter(row["company_id"] for row in (*missed_rows, *job_rows)))
    session.expire_all()  # the rows changed underneath any loaded objects
    return PlanResult(
        planned=planned,
        missed=missed_total,
        skipped=skipped_total,
        invalid=invalid,
        cancelled=cancelled,
    )


def _mark_planned(session: Session, first_id: int, last_id: int) -> int:
    """Point each run template needing planning at its job just inserted (ids in the range).

    One UPDATE with a correlated subquery, whatever the number of run templates:
    ``next_schedule`` becomes the planned occurrence (``last_schedule`` follows when
    its job is released: it is never in the future). After
    :func:`cancel_stale`, the only scheduled scheduler-made job of a run template
    that needs planning is the one this pass inserted.
    """
    rts, planned = t.run_templates, t.jobs.alias("planned")
    outstanding = sa.and_(planned.c.state == "scheduled", planned.c.launched_by == LAUNCHED_BY)
    # written so that the correlated lookup goes by the (run_template_id, ...) indexes:
    # with max() or the id range in it, SQLite walks every scheduled job per run template
    occurrence = (
        sa.select(planned.c.scheduled_at)
        .where(planned.c.run_template_id == rts.c.id, outstanding)
        .order_by(planned.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    result = session.execute(
        sa.update(rts)
        .where(
            rts.c.next_schedule.is_(None),
            rts.c.id.in_(
                sa.select(planned.c.run_template_id).where(
                    outstanding, planned.c.id.between(first_id, last_id)
                )
            ),
        )
        .values(next_schedule=occurrence)
    )
    return rowcount(result)


def _decide(row: Any, zone: str, moment: dt.datetime) -> schedules.Due | str:
    """The due decision for one run template's stored schedule, or why there is none."""
    try:
        schedule = schedules.Schedule.build(
            row.interval_code, row.cron, row.delay, row.timezone, default_timezone=zone
        )
    except ValidationError as exc:
        return "; ".join(exc.errors) or exc.message
    return schedules.due(schedule, moment, last_planned=row.last_schedule)


# -- delivery and waking -----------------------------------------------------------


def deliver_due(
    session: Session, redis: Redis, now: dt.datetime, *, limit: int = DELIVERY_BATCH
) -> list[int]:
    """Hand every scheduled job whose time has come to RQ (:func:`jobs.enqueue`), oldest first.

    Returns the ids delivered. Raises :class:`~multiflexi.core.queue.QueueUnavailable`
    before changing anything when Redis does not answer.
    """
    moment = schedules.as_utc(now)
    queue.ping(redis)
    cancel_stale(session, moment)
    due = session.scalars(
        sa.select(Job)
        .where(Job.state == "scheduled", Job.scheduled_at <= moment)
        .order_by(Job.scheduled_at, Job.id)
        .limit(max(1, limit))
    ).all()
    session.commit()
    return [job.id for job in due if jobs.enqueue(session, job, redis=redis)]


def needs_planning(session: Session, *, exclude: Collection[int] = ()) -> bool:
    """Whether an active run template waits for :func:`plan` to give it its next job.

    ``exclude`` names run templates to leave out (those whose stored schedule
    :func:`plan` reported invalid), so they do not keep the scheduler busy.
    """
    waiting = sa.select(RunTemplate.id).where(_needs_planning())
    if exclude:
        waiting = waiting.where(RunTemplate.id.not_in(sorted(exclude)))
    found = session.scalar(waiting.limit(1)) is not None
    session.commit()
    return found


def next_due(session: Session) -> dt.datetime | None:
    """The earliest time a scheduled job is due (possibly past), None when none is scheduled."""
    earliest: dt.datetime | None = session.scalar(
        sa.select(sa.func.min(Job.scheduled_at)).where(Job.state == "scheduled")
    )
    session.commit()
    return earliest


def next_wakeup(
    session: Session, now: dt.datetime, *, exclude: Collection[int] = ()
) -> dt.datetime | None:
    """When the scheduler has work again: ``now`` if a run template needs planning
    (:func:`needs_planning`), else the earliest time of a scheduled job (possibly
    past, :func:`next_due`), else None.
    """
    moment = schedules.as_utc(now)
    if needs_planning(session, exclude=exclude):
        return moment
    return next_due(session)


#: tell a running scheduler to look now, or when a job is due (:func:`queue.wake`)
wake = queue.wake


# -- the leader lease --------------------------------------------------------------


def acquire_lease(
    session: Session,
    name: str,
    holder: str,
    ttl: dt.timedelta | float,
    now: dt.datetime,
) -> bool:
    """Take (or keep) the lease ``name`` for ``ttl``; True when ``holder`` has it now.

    One conditional UPDATE takes a lease that is expired or already ours; when no
    row exists, an INSERT creates it, and the primary key lets only one of two
    racing contenders succeed. Committed at once.
    """
    moment = schedules.as_utc(now)
    until = moment + _seconds(ttl)
    leases = t.leases
    try:
        with transaction(session):
            taken = session.execute(
                sa.update(leases)
                .where(
                    leases.c.name == name,
                    sa.or_(leases.c.holder == holder, leases.c.expires_at <= moment),
                )
                .values(
                    holder=holder,
                    acquired_at=sa.case(
                        (leases.c.holder == holder, leases.c.acquired_at), else_=moment
                    ),
                    expires_at=until,
                )
            )
            if rowcount(taken) == 1:
                return True
            exists = session.scalar(sa.select(leases.c.name).where(leases.c.name == name))
            if exists is not None:
                return False
            session.execute(
                sa.insert(leases).values(
                    name=name, holder=holder, acquired_at=moment, expires_at=until
                )
            )
    except Conflict:  # another contender inserted the row first
        return False
    return True


def renew_lease(
    session: Session,
    name: str,
    holder: str,
    ttl: dt.timedelta | float,
    now: dt.datetime,
    *,
    commit: bool = True,
) -> bool:
    """Extend a lease ``holder`` has; False when another holder took it (or it is gone).

    ``commit=False`` leaves the UPDATE in the caller's transaction (fencing).
    """
    moment = schedules.as_utc(now)
    result = session.execute(
        sa.update(t.leases)
        .where(t.leases.c.name == name, t.leases.c.holder == holder)
        .values(expires_at=moment + _seconds(ttl))
    )
    held = rowcount(result) == 1
    if commit:
        session.commit()
    return held


def release_lease(session: Session, name: str, holder: str) -> bool:
    """Give the lease up at once (a clean stop), so another instance need not wait."""
    with transaction(session):
        result = session.execute(
            sa.delete(t.leases).where(t.leases.c.name == name, t.leases.c.holder == holder)
        )
    return rowcount(result) == 1


def lease_holder(session: Session, name: str, now: dt.datetime) -> str | None:
    """Who holds the lease ``name`` at ``now`` (None: nobody, or it expired)."""
    holder: str | None = session.scalar(
        sa.select(Lease.holder).where(Lease.name == name, Lease.expires_at > schedules.as_utc(now))
    )
    session.commit()
    return holder


__all__ = [
    "LAUNCHED_BY",
    "LEASE_NAME",
    "MISSED_ROWS_LIMIT",
    "WAKE_CHANNEL",
    "LeaseClaim",
    "LeaseLost",
    "PlanResult",
    "acquire_lease",
    "cancel_stale",
    "deliver_due",
    "lease_holder",
    "needs_planning",
    "next_due",
    "next_wakeup",
    "plan",
    "release_lease",
    "renew_lease",
    "wake",
]
