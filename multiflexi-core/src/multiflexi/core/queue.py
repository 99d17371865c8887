"""The queue contract between the writers of jobs and the executor.

A job is delivered through RQ on Redis by *name*: the function
``multiflexi.executor.tasks.run_job(job_id)`` is enqueued by its dotted path,
so nothing here (nor in the server or the CLI) imports the executor. The RQ
job id is ``job-<id>``; enqueueing a job that RQ already holds does nothing,
and a duplicate delivery is harmless anyway because the executor's claim is a
conditional update of the job row. The database stays the source of truth:
Redis is transport (ARCHITECTURE.md section 3).
"""

from __future__ import annotations

import datetime as dt
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

from multiflexi.core.errors import MultiFlexiError

if TYPE_CHECKING:  # rq and redis load lazily: the CLI starts faster without them
    from redis import Redis

RUN_JOB = "multiflexi.executor.tasks.run_job"
#: the actions of a job that ended without its worker (lost): an executor runs them
RUN_ACTIONS = "multiflexi.executor.tasks.run_actions"
DEFAULT_QUEUE = "default"
#: how long RQ keeps a delivery that ran through (ours lives in the database, with the
#: outcome). Short, so Redis holds little; not 0: RQ's immediate delete looks through
#: every registry and costs a worker more (about 1 M instructions a job) than the expiry
RESULT_TTL = 60
FAILURE_TTL = 24 * 3600
#: Redis channel on which a change that needs the scheduler's attention is announced
#: (the message: when a job is due, as ISO 8601; anything else means "look now")
WAKE_CHANNEL = "multiflexi:scheduler:wake"
#: the message of :func:`wake` without a time
WAKE_NOW = b"now"
#: RQ job states in which RQ still holds a delivery of ours
HELD_STATES = frozenset({"queued", "started", "deferred", "scheduled"})


class QueueUnavailable(MultiFlexiError):
    """Redis cannot be reached; the job stays recorded and the scheduler re-enqueues it."""

    kind = "queue_unavailable"


#: RQ ids of a job's deliveries: the first; a later one after a slot freed (a fresh
#: token each time, so it never collides with a delivery still held); its actions
RQ_JOB_ID = "job-{job_id}"
RQ_WAKE_ID = RQ_JOB_ID + "-wake-{token}"
RQ_ACTIONS_ID = RQ_JOB_ID + "-actions"


def rq_job_id(job_id: int) -> str:
    return RQ_JOB_ID.format(job_id=job_id)


def rq_wake_id(job_id: int, token: str) -> str:
    return RQ_WAKE_ID.format(job_id=job_id, token=token)


def rq_actions_id(job_id: int) -> str:
    return RQ_ACTIONS_ID.format(job_id=job_id)


@lru_cache(maxsize=8)
def connect(redis_url: str) -> Redis:
    """A Redis client for the URL (shared per process; connections are made lazily)."""
    from redis import Redis

    return Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=30)


def _unavailable(redis: Redis, exc: Exception) -> QueueUnavailable:
    kwargs = redis.connection_pool.connection_kwargs
    where = f"{kwargs.get('host', kwargs.get('path', '?'))}:{kwargs.get('port', '')}".rstrip(":")
    return QueueUnavailable(f"REDIS_URL: Redis at {where} is not reachable ({type(exc).__name__})")


def ping(redis: Redis) -> None:
    """Raise :class:`QueueUnavailable` (naming REDIS_URL) when Redis does not answer."""
    from redis.exceptions import RedisError

    try:
        redis.ping()
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None


def holds(redis: Redis, job_id: int) -> bool:
    """Whether RQ holds a live delivery (queued, started, deferred, scheduled) of the job."""
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RQJob

    try:
        rq_job = RQJob.fetch(rq_job_id(job_id), connection=redis)
    except NoSuchJobError:
        return False
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None
    status = rq_job.get_status(refresh=False)
    return status is not None and str(getattr(status, "value", status)) in HELD_STATES


def enqueue(
    redis: Redis, job_id: int, queue_name: str = DEFAULT_QUEUE, *, new: bool = False
) -> bool:
    """Deliver the job to its queue; False when RQ already holds it.

    ``new``: the job was created just now and never delivered, so RQ cannot hold
    it and the look (one round trip) is skipped. A stale delivery with the same id
    (Redis kept from an older database) would at worst run the claim twice, and the
    claim lets only one through (ARCHITECTURE.md invariant 2).
    """
    from redis.exceptions import RedisError
    from rq import Queue

    if not new and holds(redis, job_id):
        return False
    try:
        # in one transaction, one round trip (RQ alone makes two: the queue's entry in
        # the set of queues, then the delivery)
        with redis.pipeline() as pipeline:
            Queue(queue_name, connection=redis).enqueue(
                RUN_JOB,
                job_id,
                job_id=rq_job_id(job_id),
                job_timeout=-1,  # the executor enforces the run template's own timeout
                result_ttl=RESULT_TTL,
                failure_ttl=FAILURE_TTL,
                description=f"MultiFlexi job {job_id}",
                pipeline=pipeline,
            )
            pipeline.execute()
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None
    return True


def enqueue_wake(redis: Redis, job_id: int, queue_name: str = DEFAULT_QUEUE) -> None:
    """Deliver a job again after it waited for a slot that has freed now.

    Its RQ id has a fresh token (:data:`RQ_WAKE_ID`), so it never collides with a
    delivery RQ still holds. Raises :class:`QueueUnavailable` when Redis cannot be
    reached (the job stays ``queued`` in the database and the scheduler delivers it).
    """
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        Queue(queue_name, connection=redis).enqueue(
            RUN_JOB,
            job_id,
            job_id=rq_wake_id(job_id, secrets.token_hex(4)),
            job_timeout=-1,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"MultiFlexi job {job_id} (slot freed)",
        )
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None


def wake(redis: Redis, at: dt.datetime | None = None) -> bool:
    """Tell a running scheduler to look now, or that a job is due at ``at``.

    With ``at`` the scheduler sets its alarm to that time (no poll needed to find
    the job); without, it makes a pass at once (a run template was created or
    changed). Best effort: False when Redis cannot be reached (the scheduler's own
    check finds the change within its check interval anyway).
    """
    from redis.exceptions import RedisError

    message = WAKE_NOW if at is None else at.astimezone(dt.UTC).isoformat().encode()
    try:
        redis.publish(WAKE_CHANNEL, message)
    except (RedisError, OSError):
        return False
    return True


def wake_time(message: bytes | str | None) -> dt.datetime | None:
    """The due time a :func:`wake` message carries; None for "look now" (or a stranger's)."""
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    try:
        at = dt.datetime.fromisoformat(message or "")
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def enqueue_actions(redis: Redis, job_id: int, queue_name: str = DEFAULT_QUEUE) -> None:
    """Have an executor run the failure actions of a job its worker could not finish."""
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        Queue(queue_name, connection=redis).enqueue(
            RUN_ACTIONS,
            job_id,
            job_id=rq_actions_id(job_id),
            job_timeout=-1,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
            description=f"MultiFlexi job {job_id}: actions",
        )
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None


def depths(redis: Redis, names: list[str] | None = None) -> dict[str, int]:
    """Number of waiting deliveries per queue (all RQ queues when no names are given)."""
    from redis.exceptions import RedisError
    from rq import Queue

    try:
        queues = (
            [Queue(n, connection=redis) for n in names] if names else Queue.all(connection=redis)
        )
        return {q.name: q.count for q in queues}
    except (RedisError, OSError) as exc:
        raise _unavailable(redis, exc) from None


__all__ = [
    "DEFAULT_QUEUE",
    "FAILURE_TTL",
    "HELD_STATES",
    "RESULT_TTL",
    "RQ_ACTIONS_ID",
    "RQ_JOB_ID",
    "RQ_WAKE_ID",
    "RUN_ACTIONS",
    "RUN_JOB",
    "WAKE_CHANNEL",
    "WAKE_NOW",
    "QueueUnavailable",
    "connect",
    "depths",
    "enqueue",
    "enqueue_actions",
    "enqueue_wake",
    "holds",
    "ping",
    "rq_actions_id",
    "rq_job_id",
    "rq_wake_id",
    "wake",
    "wake_time",
]
