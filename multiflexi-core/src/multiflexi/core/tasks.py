"""SLA tasks: each scheduled window of a run template, held to a deadline.

A task is the promise "this run template succeeds once in this window, by its
deadline". The rules (the original's ``Task`` model, with its bugs fixed):

* **Materialised by the scheduler** (:func:`materialise`, called by
  :func:`multiflexi.core.scheduling.plan` in the transaction that inserts the
  window's job, which gets the task's id). The window starts at the job's due
  time and ends at the run template's next occurrence after it; the deadline is
  the window start plus ``deadline_offset`` (``+3h``), or that time of day in the
  run template's zone at or after the window start (``06:00``), or the window end
  when there is no offset. ``(run_template_id, window_start)`` is unique: planning
  a window twice (a restarted scheduler) finds the existing task.
* **States**: ``open`` until it ends ``fulfilled``, ``fulfilled_late``,
  ``failed`` or ``missed``. (The original's ``running`` is not stored: whether a
  job of the task runs is read from the jobs.) Every change is a conditional
  UPDATE from ``open``, so exactly one writer ends a task, once.
* **A job of the task ends** (:func:`job_ended`, in the transaction that records
  the job's end, :func:`multiflexi.core.lifecycle.conclude`): ``attempts`` grows by
  one, then

  - success at or before the deadline: ``fulfilled``;
  - success after the deadline: ``fulfilled_late`` when the run template allows
    late runs, else ``failed`` (a late success does not count);
  - failure (``failed`` or ``lost``): the run template's retry policy
    (:func:`multiflexi.core.lifecycle.retry_due`, the same that retries any job)
    decides whether another attempt follows and when; the task stays ``open``
    when it does and that time is before the deadline, else it ends ``failed``
    and no retry is made (:func:`multiflexi.core.lifecycle.schedule_retry` asks
    :func:`retry_allowed`).

* **The deadline passes** (:func:`sweep`, each scheduler tick): an ``open`` task
  with no job of it running ends ``missed`` when no attempt ended, ``failed``
  otherwise. With ``allow_late`` the task waits until the later of its deadline
  and its window end, so that a late run can still fulfil it.
* **Failure actions run once per task**: the job whose end makes the task
  ``failed`` runs them as every failed job does; a failed attempt followed by a
  retry of its task does not (:func:`failure_actions_due`); a ``missed`` task has
  them run by an executor for its latest job (``queue.enqueue_actions``).
* Times are computed in Python in UTC (no ``NOW()`` in SQL, the original's SQLite
  bug), identical on SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, queue, runtemplates, schedules
from multiflexi.core.errors import NotFound, ValidationError
from multiflexi.core.models import Job, RunTemplate, Task
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, paginate, rowcount, transaction

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

ACTOR = audit.Actor.system("scheduler")
OPEN = "open"
#: the states a task ends in
FINAL_STATES = ("fulfilled", "fulfilled_late", "failed", "missed")
STATES = (OPEN, *FINAL_STATES)
#: days of fulfilment history :func:`summary` gives (the SLA page's chart)
HISTORY_DAYS = 14
_TASKS: sa.Table = Task.__table__


@dataclasses.dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime
    deadline: dt.datetime


def window(schedule: schedules.Schedule, start: dt.datetime, deadline_offset: str | None) -> Window:
    """The window that starts at occurrence ``start`` of ``schedule``, with its deadline."""
    start = start.astimezone(dt.UTC)
    end = schedules.next_after(schedule, start)
    if end is None:
        raise ValueError("a schedule without occurrences has no windows")
    deadline = end
    if deadline_offset:
        offset = schedules.deadline_offset(deadline_offset)
        if isinstance(offset, dt.timedelta):
            deadline = start + offset
        else:
            local = start.astimezone(schedule.zone)
            wall = dt.datetime.combine(local.date(), offset, tzinfo=schedule.zone)
            if wall < local:
                wall = dt.datetime.combine(
                    local.date() + dt.timedelta(days=1), offset, tzinfo=schedule.zone
                )
            deadline = wall.astimezone(dt.UTC)
    return Window(start, end.astimezone(dt.UTC), deadline)


def materialise(
    session: Session,
    planned: Sequence[tuple[int, schedules.Schedule, dt.datetime, str | None]],
    moment: dt.datetime,
) -> dict[tuple[int, dt.datetime], int]:
    """The task of each window ``(run template id, schedule, start, deadline_offset)``.

    In the caller's transaction. Existing tasks (same run template and start) are
    kept; the others are inserted ``open``. Returns (run template id, start) ->
    task id.
    """
    found: dict[tuple[int, dt.datetime], int] = {}
    if not planned:
        return found
    wanted = {(rt_id, start.astimezone(dt.UTC)) for rt_id, _, start, _ in planned}
    for rt_ids_chunk in _chunks(sorted({rt_id for rt_id, _ in wanted}), 500):
        for task_id, rt_id, start in session.execute(
            sa.select(_TASKS.c.id, _TASKS.c.run_template_id, _TASKS.c.window_start).where(
                _TASKS.c.run_template_id.in_(rt_ids_chunk),
                _TASKS.c.window_start.in_(sorted({s for _, s in wanted})),
            )
        ):
            if (rt_id, start) in wanted:
                found[(rt_id, start)] = task_id
    rows: list[dict[str, Any]] = []
    for rt_id, schedule, start, offset in planned:
        key = (rt_id, start.astimezone(dt.UTC))
        if key in found:
            continue
        win = window(schedule, start, offset)
        rows.append(
            {
                "run_template_id": rt_id,
                "window_start": win.start,
                "window_end": win.end,
                "deadline": win.deadline,
                "state": OPEN,
                "attempts": 0,
                "created_at": moment,
            }
        )
    for row in rows:  # one by one: RETURNING with executemany is not on every driver
        new_id: int = session.execute(
            sa.insert(_TASKS).values(row).returning(_TASKS.c.id)
        ).scalar_one()
        found[(int(row["run_template_id"]), row["window_start"])] = new_id
    return found


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- a job of a task ends --------------------------------------------------------


def _end(
    session: Session,
    task: Task,
    state: str,
    *,
    job_id: int | None = None,
    at: dt.datetime,
    attempted: bool = False,
) -> bool:
    """Move an open task to a final state (guarded); audit it. False: not open any more."""
    values: dict[str, Any] = {"state": state}
    if attempted:
        values["attempts"] = _TASKS.c.attempts + 1
    if state in ("fulfilled", "fulfilled_late"):
        values |= {"fulfilled_by_job_id": job_id, "fulfilled_at": at}
    moved = rowcount(
        session.execute(
            sa.update(_TASKS).where(_TASKS.c.id == task.id, _TASKS.c.state == OPEN).values(values)
        )
    )
    if not moved:
        return False
    company_id = session.scalar(
        sa.select(RunTemplate.company_id).where(RunTemplate.id == task.run_template_id)
    )
    audit.record(
        session,
        ACTOR,
        f"task.{state}",
        "task",
        task.id,
        company_id=company_id,
        details={"run_template_id": task.run_template_id, "job_id": job_id},
    )
    return True


def job_ended(
    session: Session,
    job: Job,
    state: str,
    at: dt.datetime,
    *,
    retry_at: dt.datetime | None,
) -> str | None:
    """Record on its task that ``job`` ended in ``state`` at ``at`` (caller's transaction).

    ``retry_at`` is when the retry policy would run the next attempt (None: no
    more attempts). Returns the task's new state, None when the job has no open
    task (or ``state`` is not an outcome: ``cancelled`` changes nothing).
    """
    if job.task_id is None or state not in ("success", "failed", "lost"):
        return None
    task = session.get(Task, job.task_id, populate_existing=True)
    if task is None or task.state != OPEN:
        return None
    run_template = session.get_one(RunTemplate, task.run_template_id)
    if state == "success":
        if at <= task.deadline:
            final = "fulfilled"
        else:
            final = "fulfilled_late" if run_template.allow_late else "failed"
        return final if _end(session, task, final, job_id=job.id, at=at, attempted=True) else None
    if retry_at is not None and retry_at < task.deadline:
        session.execute(
            sa.update(_TASKS)
            .where(_TASKS.c.id == task.id, _TASKS.c.state == OPEN)
            .values(attempts=_TASKS.c.attempts + 1)
        )
        return OPEN
    return "failed" if _end(session, task, "failed", job_id=job.id, at=at, attempted=True) else None


def retry_allowed(session: Session, job: Job, when: dt.datetime) -> bool:
    """Whether a retry of ``job`` due at ``when`` may be made: yes without a task, else
    only while its task is open and ``when`` is before its deadline."""
    if job.task_id is None:
        return True
    task = session.get(Task, job.task_id, populate_existing=True)
    return task is None or (task.state == OPEN and when < task.deadline)


def failure_actions_due(session: Session, job: Job) -> bool:
    """Whether the failure actions of a failed ``job`` run: not while its task stays open
    (another attempt of the window follows); they run once, when the task ends."""
    if job.task_id is None:
        return True
    task = session.get(Task, job.task_id, populate_existing=True)
    return task is None or task.state != OPEN


# -- the deadline passes ---------------------------------------------------------


def sweep(session: Session, now: dt.datetime, *, redis: Redis | None = None) -> dict[int, str]:
    """End every open task whose deadline passed with nothing running (committed).

    ``missed`` when no attempt ended, ``failed`` otherwise; a run template that
    allows late runs keeps its task open until the window's end too. The failure
    actions of a task it ends are handed to an executor, once: for its last attempt
    that ended (whose own actions waited for the task), else for its latest job.
    Returns task id -> new state.
    """
    moment = now.astimezone(dt.UTC)
    running = sa.exists().where(Job.task_id == Task.id, Job.state == "running")
    due = (
        session.execute(
            sa.select(Task)
            .join(RunTemplate, RunTemplate.id == Task.run_template_id)
            .where(
                Task.state == OPEN,
                Task.deadline <= moment,
                sa.or_(RunTemplate.allow_late == sa.false(), Task.window_end <= moment),
                ~running,
            )
            .order_by(Task.id)
        )
        .scalars()
        .all()
    )
    session.commit()
    ended: dict[int, str] = {}
    for task in due:
        final = "missed" if task.attempts == 0 else "failed"
        # the job the failure actions speak of: the last attempt that ran (its own
        # actions waited for the task), else the latest planned one
        latest = session.scalar(
            sa.select(Job)
            .where(Job.task_id == task.id)
            .order_by(Job.started_at.is_(None), Job.id.desc())
            .limit(1)
        )
        with transaction(session):
            moved = _end(session, task, final, job_id=latest.id if latest else None, at=moment)
        if not moved:
            continue
        ended[task.id] = final
        if latest is not None:
            _deliver_failure_actions(session, latest, redis)
    if ended:
        log.info("%d task(s) ended at their deadline", len(ended))
    return ended


def _deliver_failure_actions(session: Session, job: Job, redis: Redis | None) -> None:
    if not runtemplates.enabled_actions(session, job.run_template_id, runtemplates.FAILURE_MODES):
        return
    if redis is None:
        log.warning("task of job %d ended: no Redis, failure actions not run", job.id)
        return
    with contextlib.suppress(queue.QueueUnavailable):
        queue.enqueue_actions(redis, job.id, job.queue)


# -- reading ---------------------------------------------------------------------


def _check_state(state: str | None) -> None:
    if state is not None and state not in STATES:
        raise ValidationError(
            msg("bad filter"), [("state", msg("unknown state {state!r}", state=state))]
        )


def list_tasks(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    run_template_id: int | None = None,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[Task]:
    """Tasks, latest window first; ``since``/``until`` bound the window start;
    ``company_ids`` are the companies the caller may see (None: all)."""
    _check_state(state)
    query = _filtered(sa.select(Task), company_id, company_ids, run_template_id, since, until)
    if state is not None:
        query = query.where(Task.state == state)
    return paginate(session, query, Task.window_start.desc(), limit, offset)


def _filtered(
    query: sa.Select,
    company_id: int | None,
    company_ids: set[int] | None,
    run_template_id: int | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> sa.Select:
    if company_id is not None or company_ids is not None:
        owned = sa.select(RunTemplate.id)
        if company_id is not None:
            owned = owned.where(RunTemplate.company_id == company_id)
        if company_ids is not None:
            owned = owned.where(RunTemplate.company_id.in_(sorted(company_ids)))
        query = query.where(Task.run_template_id.in_(owned))
    if run_template_id is not None:
        query = query.where(Task.run_template_id == run_template_id)
    if since is not None:
        query = query.where(Task.window_start >= since)
    if until is not None:
        query = query.where(Task.window_start < until)
    return query


def get(session: Session, task_id: int, *, company_ids: set[int] | None = None) -> Task:
    """One task; NotFound when there is none or it belongs to a company not in ``company_ids``."""
    task = session.get(Task, task_id)
    if task is not None and company_ids is not None:
        owner = session.scalar(
            sa.select(RunTemplate.company_id).where(RunTemplate.id == task.run_template_id)
        )
        if owner not in company_ids:
            task = None
    if task is None:
        raise NotFound("task", task_id)
    return task


def jobs_of(session: Session, task_id: int) -> list[Job]:
    """The jobs (attempts) of a task, oldest first."""
    return list(session.scalars(sa.select(Job).where(Job.task_id == task_id).order_by(Job.id)))


def counts(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    run_template_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> dict[str, int]:
    """The number of tasks in each state (every state present, 0 when none)."""
    query = _filtered(
        sa.select(Task.state, sa.func.count()).group_by(Task.state),
        company_id,
        company_ids,
        run_template_id,
        since,
        until,
    )
    result = dict.fromkeys(STATES, 0)
    for state, number in session.execute(query):
        result[state] = int(number)
    return result


def daily(
    session: Session,
    now: dt.datetime,
    *,
    days: int = HISTORY_DAYS,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    run_template_id: int | None = None,
) -> list[dict[str, Any]]:
    """Fulfilment per UTC day of window start over the last ``days`` days, oldest first:
    ``{"day", "total", <each final state>, "fulfilment"}`` (fulfilment: the share of the
    day's ended tasks fulfilled on time or late; None when none ended)."""
    today = now.astimezone(dt.UTC).date()
    first = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        _filtered(
            sa.select(Task.window_start, Task.state),
            company_id,
            company_ids,
            run_template_id,
            since,
            None,
        )
    ).all()
    per_day: dict[dt.date, dict[str, int]] = {
        first + dt.timedelta(days=i): dict.fromkeys(STATES, 0) for i in range(days)
    }
    for start, state in rows:
        bucket = per_day.get(start.astimezone(dt.UTC).date())
        if bucket is not None:
            bucket[state] = bucket.get(state, 0) + 1
    result = []
    for day, tally in per_day.items():
        ended = sum(tally[s] for s in FINAL_STATES)
        good = tally["fulfilled"] + tally["fulfilled_late"]
        result.append(
            {
                "day": day.isoformat(),
                "total": sum(tally.values()),
                **tally,
                "fulfilment": round(good / ended, 4) if ended else None,
            }
        )
    return result


def as_dict(task: Task, run_template: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A task as plain data (API, CLI)."""
    return {
        "id": task.id,
        "run_template_id": task.run_template_id,
        "window_start": task.window_start.isoformat(),
        "window_end": task.window_end.isoformat(),
        "deadline": task.deadline.isoformat(),
        "state": task.state,
        "attempts": task.attempts,
        "fulfilled_by_job_id": task.fulfilled_by_job_id,
        "fulfilled_at": task.fulfilled_at.isoformat() if task.fulfilled_at else None,
        "created_at": task.created_at.isoformat() if task.created_at else None,
    }


__all__ = [
    "FINAL_STATES",
    "HISTORY_DAYS",
    "STATES",
    "Window",
    "as_dict",
    "counts",
    "daily",
    "failure_actions_due",
    "get",
    "job_ended",
    "jobs_of",
    "list_tasks",
    "materialise",
    "retry_allowed",
    "sweep",
    "window",
]
