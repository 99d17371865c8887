"""Jobs: creation, launch, guarded state transitions, cancellation, claims.

A job moves through explicit states (ARCHITECTURE.md section 3)::

    scheduled -> queued -> running -> success | failed | lost | cancelled
                  |  ^        ^
                  v  |        |
                 waiting -----+          scheduled -> missed | cancelled
                 blocked (a credential is not usable) -> queued | scheduled | cancelled

Every change of state is one conditional UPDATE (``... WHERE id = ? AND state IN
(...)``): when the row is not in a state the change allows, nothing changes and
the caller learns it. That is what makes a duplicate delivery harmless and two
workers unable to run one attempt twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict, set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from multiflexi.core import audit, jobcounts, jobenv, limits, queue, runtemplates
from multiflexi.core.audit import Actor
from multiflexi.core.config import settings_of
from multiflexi.core.errors import InvalidTransition, NotFound, ValidationError
from multiflexi.core.models import Application, Job, JobOutputLine, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, paginate, rowcount, transaction
from multiflexi.database.tables import JOB_STATES
from multiflexi.database.tables import utc_now as now

if TYPE_CHECKING:
    from redis import Redis

STATES = JOB_STATES
FINAL_STATES = frozenset({"success", "failed", "lost", "cancelled", "missed"})
#: state -> the states it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"queued", "cancelled", "missed", "blocked"}),
    "queued": frozenset({"running", "waiting", "cancelled", "blocked"}),
    "waiting": frozenset({"queued", "running", "cancelled"}),
    "running": frozenset({"success", "failed", "lost", "cancelled"}),
    "blocked": frozenset({"queued", "scheduled", "cancelled"}),
}
_JOB_TABLE: sa.Table = Job.__table__
#: schedule types of jobs launched by a person or a program, not by the scheduler
ADHOC_TYPES = frozenset({"adhoc", "adhoc-api", "adhoc-web", "adhoc-cli"})
_NAME_RE = re.compile(limits.VARIABLE_NAME_PATTERN)


def sources_of(target: str) -> frozenset[str]:
    """The states from which a job may move to ``target``."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job", job_id)
    return job


def whereabouts(session: Session, job_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """State and recorded worker of each of these jobs that exists.

    For an executor cleaning up what jobs of a dead worker left on its host
    (work directories, env files, containers).
    """
    ids = sorted(set(job_ids))
    found: dict[int, tuple[str, str | None]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            sa.select(Job.id, Job.state, Job.worker).where(Job.id.in_(ids[start : start + 500]))
        )
        found.update({job_id: (state, worker) for job_id, state, worker in rows})
    return found


def transition(
    session: Session,
    job_id: int,
    target: str,
    *,
    expected: Iterable[str] | None = None,
    **values: Any,
) -> bool:
    """Move a job to ``target`` if it is in an allowed state; True when it moved.

    ``expected`` narrows the allowed source states. The update is executed in
    the caller's transaction (the caller commits); ``values`` are further
    columns to set in the same statement.
    """
    if target not in STATES:
        raise ValueError(f"unknown job state {target!r}")
    allowed = sources_of(target)
    if expected is not None:
        allowed = allowed & frozenset(expected)
    if not allowed:
        return False
    returning = bool(session.get_bind().dialect.update_returning)
    update = _transition_statement(target, tuple(sorted(allowed)), tuple(sorted(values)), returning)
    params = {"job_id": job_id, "v_updated_at": now()}
    params.update({f"v_{key}": value for key, value in values.items()})
    if returning:
        # the columns written come back with the UPDATE, as the database stored them, and
        # refresh the session's copy (if it has one): no second statement to re-read them
        row = session.execute(update, params).one_or_none()
        if row is None:
            return False
        job = session.identity_map.get(identity_key(Job, job_id))
        if job is not None:
            for key, value in row._mapping.items():
                set_committed_value(job, key, value)
        return True
    result = session.execute(update, params)
    moved = rowcount(result) == 1
    if moved:
        job = session.get(Job, job_id)
        if job is not None:
            session.refresh(job)
    return moved


@functools.cache
def _transition_statement(
    target: str, allowed: tuple[str, ...], keys: tuple[str, ...], returning: bool
) -> sa.Update:
    """The guarded UPDATE of :func:`transition`, built once per shape (parameters bound late).

    Building a statement costs several times what executing a cached one does; the
    executor runs a few transitions per job.
    """
    table = _JOB_TABLE
    update = (
        table.update()
        # one bound value per state: a plain IN list is expanded at every execution
        .where(
            table.c.id == sa.bindparam("job_id"),
            table.c.state.in_([sa.literal(state) for state in allowed]),
        )
        .values(
            state=target,
            updated_at=sa.bindparam("v_updated_at"),
            **{key: sa.bindparam(f"v_{key}") for key in keys},
        )
    )
    if returning:
        # only what this statement wrote comes back (the rest of the session's copy is as
        # read): a whole row costs a conversion and an attribute update per column
        update = update.returning(
            table.c.state, table.c.updated_at, *(table.c[key] for key in keys)
        )
    return update


# -- creation and launch -----------------------------------------------------


def _check_overrides(overrides: Mapping[str, str]) -> None:
    # (field, message, how its line names it): each about one of the one-time values
    errors: list[Any] = [
        (f"overrides.{name}", "not an environment variable name", name)
        for name in overrides
        if not _NAME_RE.fullmatch(name)
    ]
    errors += [
        (f"overrides.{name}", "value must be text", name)
        for name, value in overrides.items()
        if not isinstance(value, str)
    ]
    if not errors:
        errors = list(limits.value_errors(overrides, "overrides"))
        total = limits.environment_size(overrides.items())
        if not errors and total > limits.MAX_ENVIRONMENT_BYTES:
            errors.append(
                (
                    "overrides",
                    msg(
                        "the one-time values are {total} bytes; a job's environment may be at "
                        "most {max_environment_bytes} bytes",
                        total=total,
                        max_environment_bytes=limits.MAX_ENVIRONMENT_BYTES,
                    ),
                )
            )
    if errors:
        raise ValidationError(msg("job not created"), errors)


_APPLICATIONS: sa.Table = Application.__table__
_APP_VERSION = sa.select(_APPLICATIONS.c.version).where(
    _APPLICATIONS.c.id == sa.bindparam("application_id")
)


def _application_version(session: Session, run_template: RunTemplate) -> str | None:
    """The version of the run template's application (the session's copy when it has one)."""
    loaded = sa.inspect(run_template).dict.get("application")
    if loaded is not None:
        return loaded.version
    return session.scalar(_APP_VERSION, {"application_id": run_template.application_id})


def create(
    session: Session,
    run_template: RunTemplate,
    *,
    scheduled_at: dt.datetime,
    schedule_type: str,
    actor: Actor,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: Iterable[str] = (),
    attempt: int = 1,
    retry_of_id: int | None = None,
    parent_job_id: int | None = None,
    task_id: int | None = None,
    queued: bool = False,
) -> Job:
    """Add a job to the caller's transaction (not committed).

    It is ``scheduled``, or with ``queued`` already ``queued`` (a job due now, to be
    delivered to RQ after the commit: one INSERT instead of an INSERT and an UPDATE).
    The company's job counter counts it in the same transaction (:mod:`.jobcounts`).
    """
    return _create(
        session,
        {
            "run_template_id": run_template.id,
            "company_id": run_template.company_id,
            "application_id": run_template.application_id,
            "executor": run_template.executor,
            "queue": run_template.queue,
        },
        app_version=lambda: _application_version(session, run_template),
        scheduled_at=scheduled_at,
        schedule_type=schedule_type,
        actor=actor,
        overrides=overrides,
        secret_overrides=secret_overrides,
        attempt=attempt,
        retry_of_id=retry_of_id,
        parent_job_id=parent_job_id,
        task_id=task_id,
        queued=queued,
    )


def _create(
    session: Session,
    source: dict[str, Any],
    *,
    app_version: Callable[[], str | None],
    scheduled_at: dt.datetime,
    schedule_type: str,
    actor: Actor,
    overrides: Mapping[str, str] | None,
    secret_overrides: Iterable[str],
    attempt: int,
    retry_of_id: int | None,
    parent_job_id: int | None,
    task_id: int | None,
    queued: bool,
) -> Job:
    """:func:`create` from the run template's columns a job copies (``source``)."""
    if scheduled_at.tzinfo is None:
        raise ValidationError(msg("job not created"), [("at", msg("give a time with a time zone"))])
    overrides = dict(overrides or {})
    _check_overrides(overrides)
    sealed, key_id = jobenv.seal_overrides(session, overrides, secret_overrides)
    stamp = now()
    values = dict(
        source,
        task_id=task_id,
        state="queued" if queued else "scheduled",
        queued_at=stamp if queued else None,
        schedule_type=schedule_type,
        scheduled_at=scheduled_at.astimezone(dt.UTC),
        overrides=sealed,
        overrides_key_id=key_id,
        attempt=attempt,
        retry_of_id=retry_of_id,
        parent_job_id=parent_job_id,
        launched_by_user_id=actor.user_id,
        launched_by=actor.name,
        app_version=app_version(),
        created_at=stamp,
    )
    job = _insert(session, values)
    jobcounts.add(session, {values["company_id"]: 1})
    if not queued:
        wake_scheduler_at(session, values["scheduled_at"])
    return job


#: ``session.info`` key: the earliest due time of the jobs scheduled in the open transaction
_WAKE_AT = "multiflexi.wake_at"


def wake_scheduler_at(session: Session, at: dt.datetime) -> None:
    """Tell the scheduler, once the caller's transaction commits, that a job is due at ``at``.

    The scheduler sets its alarm to that time instead of finding the job at its next
    check (:func:`queue.wake`, one message per commit: the earliest time). Nothing is
    sent when the transaction rolls back; best effort when Redis is unreachable.
    """
    pending = session.info.get(_WAKE_AT)
    session.info[_WAKE_AT] = at if pending is None else min(pending, at)
    if not sa.event.contains(session, "after_commit", _send_wake):
        sa.event.listen(session, "after_commit", _send_wake)
        sa.event.listen(session, "after_rollback", _drop_wake)


def _send_wake(session: Session) -> None:
    at = session.info.pop(_WAKE_AT, None)
    if at is None or "settings" not in session.info:
        return
    queue.wake(_client(session, None), at)


def _drop_wake(session: Session) -> None:
    session.info.pop(_WAKE_AT, None)


#: the defaults of the job table's columns (those :func:`_create` does not set are written)
_DEFAULTS: dict[str, Any] = {
    column.key: column.default.arg
    for column in _JOB_TABLE.c
    if isinstance(column.default, ScalarElementColumnDefault)
}
#: the columns a new job leaves NULL (not written: a None would be a JSON null in a JSON
#: column), given to the job object so that it reads none of them back
_ABSENT: dict[str, None] = {
    column.key: None
    for column in _JOB_TABLE.c
    if not column.primary_key and column.key not in _DEFAULTS
}
#: the dialects whose new job is a plain INSERT ... RETURNING id (MariaDB's: the ORM's flush)
_RETURNING_DIALECTS = frozenset({"sqlite", "postgresql"})
_INSERT_JOB = _JOB_TABLE.insert().returning(_JOB_TABLE.c.id)


def _insert(session: Session, values: dict[str, Any]) -> Job:
    """Insert a job row of every column in ``values``; the session's (persistent) Job of it.

    Where the dialect returns the new id with the INSERT, a plain INSERT and a Job
    object made persistent from the values it wrote: the same object the ORM's flush
    leaves, for a fraction of the flush's cost (this runs for every launch).
    """
    dialect = session.get_bind().dialect
    if not (dialect.insert_returning and dialect.name in _RETURNING_DIALECTS):
        job = Job(**values)
        session.add(job)
        session.flush()
        return job
    session.flush()  # what the caller added goes first, as the ORM's flush would order it
    values = {**_DEFAULTS, **values}
    values["id"] = session.execute(_INSERT_JOB, values).scalar_one()
    # the values go in as loaded ones, as a query's rows do (no change history: the
    # constructor's instrumented sets of ~35 attributes cost more than the INSERT)
    job = Job()
    loaded = instance_dict(job)
    loaded.update(_ABSENT)
    loaded.update(values)
    make_transient_to_detached(job)  # every column loaded, nothing to write
    stale = session.identity_map.get(identity_key(Job, values["id"]))
    if stale is not None:
        # a job deleted by a plain DELETE whose id the database gave again: the new row
        # replaces it in the session, as the ORM's flush does
        session.expunge(stale)
    session.add(job)
    return job


def launch(
    session: Session,
    rt_id: int,
    *,
    actor: Actor,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: Iterable[str] = (),
    at: dt.datetime | None = None,
    schedule_type: str = "adhoc",
    redis: Redis | None = None,
) -> Job:
    """Launch a run template now (queued at once) or at a later time (scheduled).

    The run template must be active and completely configured, counting the
    overrides: one-time environment values for this job only (stored sealed), which
    fill required fields the run template leaves empty. A launch that still lacks
    some raises :class:`~multiflexi.core.errors.MissingRequired` naming each.
    When Redis is unreachable the job stays recorded as queued and the
    scheduler delivers it once Redis is back (the error is not raised; the
    returned job's ``undelivered`` says why, naming REDIS_URL).
    """
    # the run template's columns and its application's version in one plain read, with
    # the launch rules of runtemplates.ensure_launchable
    _check_overrides(dict(overrides or {}))  # names and text first: the size check reads them
    supplied = [name for name, value in (overrides or {}).items() if value != ""]
    source = runtemplates.launchable(session, rt_id, supplied)
    jobenv.check_launch_size(
        session,
        source.id,
        company_id=source.company_id,
        application_id=source.application_id,
        overrides=overrides,
        secret_overrides=secret_overrides,
    )
    if at is not None and at.tzinfo is None:
        raise ValidationError(
            msg("job not launched"), [("at", msg("give a time with a time zone"))]
        )
    when = (at or now()).astimezone(dt.UTC)
    due = when <= now()
    with transaction(session):
        job = _create(
            session,
            {
                "run_template_id": source.id,
                "company_id": source.company_id,
                "application_id": source.application_id,
                "executor": source.executor,
                "queue": source.queue,
            },
            app_version=lambda: source.app_version,
            scheduled_at=when,
            schedule_type=schedule_type,
            actor=actor,
            overrides=overrides,
            secret_overrides=secret_overrides,
            attempt=1,
            retry_of_id=None,
            parent_job_id=None,
            task_id=None,
            queued=due,
        )
        job_id, queue_name = job.id, job.queue
        audit.record(
            session,
            actor,
            "launch",
            "job",
            job_id,
            company_id=job.company_id,
            details={
                "run_template_id": rt_id,
                "at": when.isoformat(),
                "overrides": sorted(overrides or {}),
            },
        )
    if due:
        # delivered after the commit (a worker must find the row); on QueueUnavailable the
        # job stays queued and the scheduler re-delivers it (invariant 1)
        try:
            queue.enqueue(_client(session, redis), job_id, queue_name, new=True)
        except queue.QueueUnavailable as exc:
            job.undelivered = exc.message
    return job


#: (process, REDIS_URL) -> the client jobs delivers with when the caller gives none
_clients: dict[tuple[int, str], Redis] = {}


def _client(session: Session, redis: Redis | None) -> Redis:
    """The caller's Redis client, else one per process and URL (not a new connection per job)."""
    if redis is not None:
        return redis
    key = (os.getpid(), settings_of(session).redis_url)
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = queue.connect(key[1])
    return client


def enqueue(session: Session, job: Job, *, redis: Redis | None = None) -> bool:
    """Mark a due job ``queued`` (committed) and deliver it to RQ.

    Raises :class:`~multiflexi.core.queue.QueueUnavailable` when Redis cannot
    be reached; the job is then queued in the database only, and the
    scheduler's re-delivery picks it up.
    """
    with transaction(session):
        moved = transition(
            session, job.id, "queued", expected={"scheduled", "blocked"}, queued_at=now()
        )
    if not moved and job.state != "queued":
        return False
    # moved from scheduled or blocked just now: never delivered in this state, so RQ
    # cannot hold it and the look is skipped (a duplicate would meet the claim anyway)
    return queue.enqueue(_client(session, redis), job.id, job.queue, new=moved)


# -- cancellation ------------------------------------------------------------


def cancel(session: Session, job_id: int, *, actor: Actor) -> Job:
    """Cancel a job that has not finished.

    A job not yet running becomes ``cancelled`` at once; a running one gets a
    cancel request that its worker acts on (it stops the process and records
    ``cancelled``). A finished job cannot be cancelled: nothing changes.
    """
    job = get(session, job_id)
    with transaction(session):
        if job.state in FINAL_STATES:
            raise InvalidTransition(
                msg(
                    "job {job_id} already finished ({state}); nothing to cancel",
                    job_id=job_id,
                    state=job.state,
                )
            )
        if job.state == "running":
            session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.state == "running")
                .values(cancel_requested=True, updated_at=now())
                .execution_options(synchronize_session=False)
            )
        elif transition(session, job_id, "cancelled", finished_at=now()):
            release_schedule(session, job)
        else:
            session.refresh(job)
            raise InvalidTransition(
                msg(
                    "job {job_id} is {state}; it cannot be cancelled now",
                    job_id=job_id,
                    state=job.state,
                )
            )
        audit.record(session, actor, "cancel", "job", job_id, company_id=job.company_id)
    session.refresh(job)
    return job


# -- reading -----------------------------------------------------------------


def list_jobs(
    session: Session,
    *,
    state: str | Iterable[str] | None = None,
    company_id: int | None = None,
    run_template_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    company_ids: set[int] | None = None,
    application_id: int | None = None,
    launched_by: str | None = None,
    schedule_types: Iterable[str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Job]:
    """Jobs, newest first; ``since``/``until`` bound the scheduled time.

    ``launched_by`` is who or what launched the job as recorded (a login,
    ``scheduler``, ``cli:<unix user>``); ``schedule_types`` are the recorded schedule
    types to keep (a trigger of :mod:`.jobviews` is a set of them).

    Filtered by company only (``company_id``, ``company_ids``: the companies a
    caller may see) or not at all, the total is the sum of the companies' job
    counters (:mod:`.jobcounts`), not a count of the matching jobs.
    """
    query = sa.select(Job)
    if state is not None:
        states = [state] if isinstance(state, str) else list(state)
        unknown = sorted(set(states) - set(STATES))
        if unknown:
            raise ValidationError(
                msg("bad filter"), [("state", msg("unknown state {s!r}", s=s)) for s in unknown]
            )
        query = query.where(Job.state.in_(states))
    if company_id is not None:
        query = query.where(Job.company_id == company_id)
    if run_template_id is not None:
        query = query.where(Job.run_template_id == run_template_id)
    if company_ids is not None:
        query = query.where(Job.company_id.in_(company_ids))
    if since is not None:
        query = query.where(Job.scheduled_at >= since)
    if until is not None:
        query = query.where(Job.scheduled_at < until)
    if application_id is not None:
        query = query.where(Job.application_id == application_id)
    if launched_by is not None:
        query = query.where(Job.launched_by == launched_by)
    if schedule_types is not None:
        query = query.where(Job.schedule_type.in_(sorted(schedule_types)))
    counted: Callable[[], int] | None = None
    narrowed = (run_template_id, since, until, application_id, launched_by, schedule_types)
    if state is None and all(value is None for value in narrowed):
        scope: set[int] | None = None if company_id is None else {company_id}
        if company_ids is not None:
            scope = set(company_ids) if scope is None else scope & set(company_ids)
        counted = functools.partial(jobcounts.total, session, scope)

    return paginate(session, query, Job.id.desc(), limit, offset, total=counted)


def output(
    session: Session, job_id: int, *, after: int = 0, limit: int = 1000
) -> list[JobOutputLine]:
    """Output lines with ``seq`` greater than ``after``, in order (for tailing)."""
    get(session, job_id)
    return list(
        session.scalars(
            sa.select(JobOutputLine)
            .where(JobOutputLine.job_id == job_id, JobOutputLine.seq > after)
            .order_by(JobOutputLine.seq)
            .limit(max(1, min(limit, 10_000)))
        )
    )


# -- the executor's side -----------------------------------------------------


def claim(session: Session, job_id: int, *, worker: str, lease: dt.timedelta) -> bool:
    """Take a queued (or waiting) job for running; False when it is not ours to run.

    Committed at once, so that two workers given the same job cannot both win.
    """
    with transaction(session):
        return claim_uncommitted(session, job_id, worker=worker, lease=lease)


def claim_uncommitted(session: Session, job_id: int, *, worker: str, lease: dt.timedelta) -> bool:
    """:func:`claim` in the caller's transaction (the caller commits, or rolls back)."""
    stamp = now()
    return transition(
        session,
        job_id,
        "running",
        expected={"queued", "waiting"},
        started_at=stamp,
        heartbeat_at=stamp,
        lease_expires_at=stamp + lease,
        worker=worker,
    )


# -- the end of a job ----------------------------------------------------------
#
# The schedule contract shared by the scheduler and the executor:
#   run_templates.next_schedule  the occurrence of the outstanding scheduler-made
#                                job, NULL when there is none (then the scheduler
#                                plans the next one, after last_schedule)
#   run_templates.last_schedule  the latest occurrence of the run template that has
#                                come: set when its job is released, never in the
#                                future (an occurrence given up before its time
#                                counts as the moment it was given up) and never
#                                moving back
# Whatever ends a scheduler-made job (finish, lost, cancel, missed) releases it.


_RUN_TEMPLATES: sa.Table = RunTemplate.__table__


def _settled(mark: sa.BindParameter[Any]) -> sa.ColumnElement[Any]:
    """last_schedule moved up to ``mark``, never back."""
    last = _RUN_TEMPLATES.c.last_schedule
    return sa.case((sa.or_(last.is_(None), last < mark), mark), else_=last)


_RELEASE_SCHEDULE = (
    _RUN_TEMPLATES.update()
    .where(
        _RUN_TEMPLATES.c.id == sa.bindparam("run_template_id"),
        _RUN_TEMPLATES.c.next_schedule == sa.bindparam("at"),
    )
    .values(next_schedule=None, last_schedule=_settled(sa.bindparam("mark")))
)
_SETTLE_LAST_SCHEDULE = (
    _RUN_TEMPLATES.update()
    .where(
        _RUN_TEMPLATES.c.id == sa.bindparam("run_template_id"),
        _RUN_TEMPLATES.c.next_schedule.is_(None),
    )
    .values(last_schedule=_settled(sa.bindparam("mark")))
)


def passed(at: dt.datetime, moment: dt.datetime | None = None) -> dt.datetime:
    """What an occurrence ``at`` counts as once its job is released: itself, or ``moment``
    (now) when it was given up before its time (last_schedule is never in the future)."""
    return min(at, moment or now())


def settle_last_schedule(
    session: Session, run_template_id: int, at: dt.datetime, moment: dt.datetime | None = None
) -> None:
    """Record occurrence ``at`` as come (:func:`passed`) on a run template with no
    outstanding scheduler job (for the scheduler, after it cancelled a stale one)."""
    session.execute(
        _SETTLE_LAST_SCHEDULE,
        {"run_template_id": run_template_id, "mark": passed(at, moment)},
    )


def _count(column: str) -> sa.Update:
    table = _RUN_TEMPLATES
    return (
        table.update()
        .where(table.c.id == sa.bindparam("run_template_id"))
        .values({column: table.c[column] + 1, "updated_at": sa.bindparam("stamp")})
    )


#: final state -> the UPDATE counting it on the run template (built once: one per job)
_COUNT_OUTCOME = {
    "success": _count("success_count"),
    "failed": _count("failure_count"),
    "lost": _count("failure_count"),
}


def release_schedule(session: Session, job: Job) -> None:
    """Clear the run template's next_schedule if it points at this (scheduler-made) job;
    its occurrence becomes the last_schedule (now, if it is given up before its time: a
    job that was delivered was due, whatever this host's clock says)."""
    if job.schedule_type in ADHOC_TYPES:
        return
    at = job.scheduled_at
    delivered = job.queued_at is not None or job.started_at is not None
    session.execute(
        _RELEASE_SCHEDULE,
        {
            "run_template_id": job.run_template_id,
            "at": at,
            "mark": at if delivered else passed(at),
        },
    )


def finish(
    session: Session,
    job_id: int,
    state: str,
    *,
    exit_code: int | None = None,
    expected: Iterable[str] = ("running",),
    **values: Any,
) -> bool:
    """End a job in a final state with its bookkeeping, in one committed transaction.

    Moves the job (guarded, from ``expected`` states) to ``state``; counts a
    success or a failure on its run template (``success`` counts as success,
    ``failed`` and ``lost`` as failures); releases the schedule. False, and no
    change, when the job was not in an expected state (someone else ended it).
    """
    with transaction(session):
        return finish_uncommitted(
            session, job_id, state, exit_code=exit_code, expected=expected, **values
        )


def finish_uncommitted(
    session: Session,
    job_id: int,
    state: str,
    *,
    exit_code: int | None = None,
    expected: Iterable[str] = ("running",),
    **values: Any,
) -> bool:
    """:func:`finish` in the caller's transaction (the caller commits, or rolls back).

    For callers that record more of a job's end in the same commit (the
    executor frees the slot and wakes the next job with it).
    """
    if state not in FINAL_STATES:
        raise ValueError(f"{state!r} is not a final state")
    moved = transition(
        session,
        job_id,
        state,
        expected=expected,
        finished_at=now(),
        exit_code=exit_code,
        lease_expires_at=None,
        **values,
    )
    if not moved:
        return False
    job = get(session, job_id)
    counter = _COUNT_OUTCOME.get(state)
    if counter is not None:
        session.execute(counter, {"run_template_id": job.run_template_id, "stamp": now()})
    release_schedule(session, job)
    return True


def redeliver(session: Session, redis: Redis) -> list[int]:
    """Enqueue again every ``queued`` job that RQ no longer holds (invariant 1).

    After Redis lost its data (a restart without persistence, a FLUSHALL) the
    database still says which jobs are due; this puts them back. Returns the
    ids delivered again. Raises QueueUnavailable when Redis is down.
    """
    ids = session.scalars(sa.select(Job.id).where(Job.state == "queued").order_by(Job.id)).all()
    delivered = []
    for job_id in ids:
        job = session.get(Job, job_id)
        if job is not None and queue.enqueue(redis, job.id, job.queue):
            delivered.append(job.id)
    return delivered


__all__ = [
    "ADHOC_TYPES",
    "FINAL_STATES",
    "STATES",
    "TRANSITIONS",
    "cancel",
    "claim",
    "claim_uncommitted",
    "create",
    "enqueue",
    "finish",
    "finish_uncommitted",
    "get",
    "launch",
    "list_jobs",
    "now",
    "output",
    "passed",
    "redeliver",
    "release_schedule",
    "settle_last_schedule",
    "sources_of",
    "transition",
    "wake_scheduler_at",
    "whereabouts",
]
