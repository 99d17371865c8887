"""Concurrency slots: at most ``max_concurrency`` running jobs of one run template.

A slot is a row of the ``leases`` table named ``slot:rt:<run template>:<n>``,
held by ``job:<id>``; its primary key makes taking it atomic on every database.
A job runs only while it holds one (:func:`take_and_claim` takes the slot and
claims the job in one transaction); its heartbeat renews it (:func:`renew`); its
outcome releases it (:func:`release`), and whoever frees a slot wakes the oldest
waiting job of that run template (:func:`requeue_next`, then :func:`deliver`; or
both in :func:`wake_next`). Slots whose job died with its worker expire and are
reaped (:func:`reap_expired`). The job's life around it is
:mod:`multiflexi.core.lifecycle`'s.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from multiflexi.core import jobs, queue
from multiflexi.core.config import settings_of
from multiflexi.core.errors import Conflict
from multiflexi.core.models import Job, Lease, RunTemplate
from multiflexi.core.unit import rowcount, transaction
from multiflexi.database.tables import utc_now as now

if TYPE_CHECKING:
    from redis import Redis

log = logging.getLogger(__name__)

#: the name of every slot row starts so (then ``<run template id>:<n>``)
PREFIX = "slot:rt:"


def _holder(job_id: int) -> str:
    return f"job:{job_id}"


def _names(run_template: RunTemplate) -> list[str]:
    return [f"{PREFIX}{run_template.id}:{n}" for n in range(max(1, run_template.max_concurrency))]


def _take(
    session: Session, run_template: RunTemplate, job_id: int, lease: dt.timedelta
) -> str | None:
    """Insert one free slot row for the job (committed); its name, or None when all are taken."""
    stamp = now()
    for name in _names(run_template):
        try:
            with transaction(session):
                session.add(
                    Lease(
                        name=name,
                        holder=_holder(job_id),
                        acquired_at=stamp,
                        expires_at=stamp + lease,
                    )
                )
            return name
        except (Conflict, IntegrityError):  # the slot is taken (transaction() says Conflict)
            continue
    return None


def _delete(session: Session, job_id: int, name: str | None = None) -> int:
    """Delete the job's slot rows (one named slot, or all) in the caller's transaction."""
    params = {"holder": _holder(job_id), "prefix": f"{PREFIX}%"}
    if name is not None:
        params["name"] = name
    result = session.execute(_delete_statement(name is not None), params)
    return rowcount(result)


@functools.cache
def _delete_statement(one: bool) -> sa.Delete:
    table: sa.Table = Lease.__table__
    query = table.delete().where(
        table.c.holder == sa.bindparam("holder"), table.c.name.like(sa.bindparam("prefix"))
    )
    return query.where(table.c.name == sa.bindparam("name")) if one else query


def release(session: Session, job_id: int) -> int:
    """Delete every slot row the job holds, in the caller's transaction; how many."""
    return _delete(session, job_id)


def renew(session: Session, job_id: int, expires_at: dt.datetime) -> None:
    """Extend the job's slot to ``expires_at`` (its heartbeat), in the caller's transaction."""
    session.execute(
        sa.update(Lease)
        .where(Lease.holder == _holder(job_id))
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


def _free(session: Session, job_id: int, name: str | None = None) -> int:
    """Delete the job's slot rows (one named slot, or all), committed; how many were freed."""
    with transaction(session):
        return _delete(session, job_id, name)


def in_use(session: Session, run_template_id: int) -> int:
    """How many slots of a run template are held now."""
    return (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Lease)
            .where(Lease.name.like(f"{PREFIX}{run_template_id}:%"))
        )
        or 0
    )


def deliver(redis: Redis | None, session: Session, job: Job) -> None:
    """A fresh RQ delivery of a woken job (:func:`multiflexi.core.queue.enqueue_wake`).

    With Redis down the job stays ``queued`` in the database and the scheduler's
    re-delivery brings it back (ARCHITECTURE.md invariant 1); the failure is logged.
    """
    try:
        client = redis if redis is not None else queue.connect(settings_of(session).redis_url)
        queue.enqueue_wake(client, job.id, job.queue)
    except (queue.QueueUnavailable, RuntimeError) as exc:
        log.warning(
            "job %s was woken but not delivered (it stays queued; the scheduler delivers it"
            " again): %s",
            job.id,
            exc,
        )


_JOBS: sa.Table = Job.__table__
#: the oldest waiting jobs of a run template (built once: the executor asks after every job)
_WAITING = (
    sa.select(_JOBS.c.id)
    .where(_JOBS.c.run_template_id == sa.bindparam("run_template_id"), _JOBS.c.state == "waiting")
    .order_by(_JOBS.c.id)
    .limit(5)
)


def requeue_next(session: Session, run_template_id: int) -> int | None:
    """In the caller's transaction: the oldest waiting job of a run template made ``queued``.

    Its id (the caller delivers it after the commit), or None when none waits.
    """
    candidates = session.scalars(_WAITING, {"run_template_id": run_template_id}).all()
    for job_id in candidates:
        if jobs.transition(session, job_id, "queued", expected={"waiting"}, queued_at=now()):
            return job_id
    return None


def wake_next(session: Session, run_template_id: int, *, redis: Redis | None = None) -> int | None:
    """Move the oldest waiting job of a run template back to the queue; its id, if any."""
    with transaction(session):
        job_id = requeue_next(session, run_template_id)
    if job_id is not None:
        deliver(redis, session, jobs.get(session, job_id))
    return job_id


def _insert_if_free(
    session: Session, name: str, job_id: int, stamp: dt.datetime, lease: dt.timedelta
) -> bool | None:
    """Insert the slot row in the caller's transaction if nobody holds it: True/False.

    None when the database has no ``INSERT ... ON CONFLICT DO NOTHING`` (then the
    caller takes slots the portable way, one committed transaction each).
    """
    dialect = session.get_bind().dialect
    if not dialect.insert_returning or dialect.name not in ("sqlite", "postgresql"):
        return None
    row = {
        "name": name,
        "holder": _holder(job_id),
        "acquired_at": stamp,
        "expires_at": stamp + lease,
    }
    return session.execute(_insert_statement(dialect.name), row).first() is not None


@functools.cache
def _insert_statement(dialect: str) -> sa.Insert:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING name`` of a slot row, built once."""
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    table: sa.Table = Lease.__table__
    return (
        insert(table)
        .values({c: sa.bindparam(c) for c in ("name", "holder", "acquired_at", "expires_at")})
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(table.c.name)  # a row back: inserted (rowcount is not reliable here)
    )


#: run template id -> the slot this process took last (it freed it itself when its job
#: ended, so it is the likeliest free one); only the order of the attempts, never which
_last_taken: dict[int, str] = {}


def _order(run_template: RunTemplate) -> list[str]:
    names = _names(run_template)
    last = _last_taken.get(run_template.id)
    if last in names:
        names.remove(last)
        names.insert(0, last)
    return names


def take_and_claim(
    session: Session, run_template: RunTemplate, job_id: int, *, worker: str, lease: dt.timedelta
) -> tuple[str | None, bool]:
    """Take a free slot and claim the job in one transaction: (slot, claimed).

    ``(None, False)``: every slot is taken. ``(slot, False)``: the job was not ours
    (nothing is left behind: the slot is rolled back with the failed claim).
    """
    stamp = now()
    names = _order(run_template)
    slot = None
    try:
        for name in names:
            taken = _insert_if_free(session, name, job_id, stamp, lease)
            if taken is None:  # no ON CONFLICT here: the portable way
                session.rollback()
                return _take_then_claim(session, run_template, job_id, worker, lease)
            if taken:
                slot = name
                break
        if slot is None:
            session.commit()  # nothing written; ends the read
            return None, False
        claimed = jobs.claim_uncommitted(session, job_id, worker=worker, lease=lease)
        if claimed:
            session.commit()
            _last_taken[run_template.id] = slot
        else:
            session.rollback()
        return slot, claimed
    except BaseException:
        session.rollback()
        raise


def _take_then_claim(
    session: Session, run_template: RunTemplate, job_id: int, worker: str, lease: dt.timedelta
) -> tuple[str | None, bool]:
    slot = _take(session, run_template, job_id, lease)
    if slot is None:
        return None, False
    if jobs.claim(session, job_id, worker=worker, lease=lease):
        return slot, True
    _free(session, job_id, slot)
    return slot, False


def reap_expired(
    session: Session, run_template_id: int | None, *, redis: Redis | None, wake: bool
) -> set[int]:
    """Delete expired slot rows whose job no longer runs under a live lease; their run templates."""
    stamp = now()
    query = sa.select(Lease).where(Lease.name.like(f"{PREFIX}%"), Lease.expires_at < stamp)
    if run_template_id is not None:
        query = query.where(Lease.name.like(f"{PREFIX}{run_template_id}:%"))
    freed: set[int] = set()
    for slot in session.scalars(query).all():
        holder_id = int(slot.holder.partition(":")[2] or 0)
        holder = session.get(Job, holder_id)
        if holder is not None:
            session.refresh(holder)
            if (
                holder.state == "running"
                and holder.lease_expires_at
                and holder.lease_expires_at >= stamp
            ):
                continue
        with transaction(session):
            session.execute(
                sa.delete(Lease)
                .where(
                    Lease.name == slot.name, Lease.holder == slot.holder, Lease.expires_at < stamp
                )
                .execution_options(synchronize_session=False)
            )
        freed.add(int(slot.name[len(PREFIX) :].partition(":")[0]))
    session.expire_all()
    if wake:
        for rt_id in freed:
            wake_next(session, rt_id, redis=redis)
    return freed


__all__ = [
    "PREFIX",
    "deliver",
    "in_use",
    "reap_expired",
    "release",
    "renew",
    "requeue_next",
    "take_and_claim",
    "wake_next",
]
