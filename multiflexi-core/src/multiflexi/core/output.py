"""Following a job's output live: the stored lines, then new ones as the executor
stores them, until the job ends.

:func:`follow` is the one loop every face uses (the API's Server-Sent Events, the
CLI's ``job tail -f`` and ``--wait``, the web UI). It yields :class:`Line` events,
:class:`Quiet` ticks when asked for keep-alives, and exactly one :class:`End`.

The database is the source of the lines; Redis is a wake-up: the executor
publishes on :data:`OUTPUT_CHANNEL` after it stores a batch, and a message there
ends the wait before the next look early. A message carries the batch it announces
(the stored, masked lines): when those continue exactly where the follower is, they
are sent as they came, without a look, at most for :data:`LOOK_SECONDS` in a row
(then, and on any gap, unknown message or end of the job, the database is read).
Without Redis (none given, down, or no executor publishing) the loop simply polls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from redis.exceptions import RedisError

from multiflexi.core import jobs, queue

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy.orm import Session

#: the Redis channel the executor publishes on when it has stored new lines of a job
OUTPUT_CHANNEL = "multiflexi:job:{job_id}:output"
#: how often the loop looks for new lines when no wake-up comes
POLL_SECONDS = 0.5
#: how many lines one look reads at most
BATCH = 500
#: the longest a follower sends lines from Redis messages without reading the database
LOOK_SECONDS = 2.0

EndReason = Literal["finished", "timeout", "held", "caught-up"]


@dataclass(frozen=True)
class Line:
    """One stored output line (already masked by the executor)."""

    seq: int
    stream: str
    text: str
    created_at: dt.datetime | None


@dataclass(frozen=True)
class Quiet:
    """Nothing new for the keep-alive period: a face may tell its client it is alive."""


@dataclass(frozen=True)
class End:
    """The last event: why following stopped, the job as it then was, and where to resume.

    ``reason`` is ``finished`` (the job is in a final state and every line was sent),
    ``timeout`` (the time given ran out first), ``held`` (the credential gate holds
    the job back, when asked to stop for that) or ``caught-up`` (every stored line
    was sent and the caller did not ask to wait for the job to finish).
    """

    reason: EndReason
    job_id: int
    state: str
    next_after: int
    exit_code: int | None
    exit_description: str | None
    block_reason: str | None

    @property
    def finished(self) -> bool:
        return self.state in jobs.FINAL_STATES


Event = Line | Quiet | End


def channel(job_id: int) -> str:
    """The Redis channel of one job's output."""
    return OUTPUT_CHANNEL.format(job_id=job_id)


class Wakeup:
    """Waits between looks; a message on the job's Redis channel ends the wait early.

    A message says "look now"; :meth:`lines_after` gives the lines the messages carried.
    Without Redis it simply sleeps.
    """

    def __init__(self, job_id: int, redis: str | Redis | None) -> None:
        self._pubsub: Any = None
        self._messages: list[dict[str, Any]] = []
        if redis is None:
            return
        try:
            client = queue.connect(redis) if isinstance(redis, str) else redis
            pubsub = client.pubsub()
            pubsub.subscribe(channel(job_id))
            self._pubsub = pubsub
        except RedisError:
            self._pubsub = None

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when a message on the channel ended the wait."""
        end = time.monotonic() + seconds
        while self._pubsub is not None:
            left = end - time.monotonic()
            if left <= 0:
                return False
            try:
                message = self._pubsub.get_message(timeout=left)
            except RedisError:
                self.close()
                break
            if message is not None and message.get("type") == "message":
                self._messages.append(_payload(message.get("data")))
                return True
        time.sleep(max(0.0, end - time.monotonic()))
        return False

    def lines_after(self, after: int) -> list[Line] | None:
        """The lines the messages received since the last call carry past ``after``, when
        they continue it without a gap; None when the database must be read (a gap, the
        end of the job, a message of another shape)."""
        messages, self._messages = self._messages, []
        found: list[Line] = []
        received = dt.datetime.now(dt.UTC)
        for message in messages:
            items = message.get("lines")
            if message.get("end") or not isinstance(items, list):
                return None
            for item in items:
                try:
                    seq, stream, text = int(item["seq"]), str(item["stream"]), str(item["text"])
                except (KeyError, TypeError, ValueError):
                    return None
                if seq <= after:
                    continue  # sent already (it was stored before the last look)
                if seq != after + 1:
                    return None
                found.append(Line(seq, stream, text, received))
                after = seq
        return found

    def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(RedisError):
                self._pubsub.close()
            self._pubsub = None


def _payload(data: Any) -> dict[str, Any]:
    try:
        payload = json.loads(data)
    except (TypeError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _end(
    reason: EndReason, seen: tuple[int, str, int | None, str | None, str | None], after: int
) -> End:
    job_id, state, exit_code, exit_description, block_reason = seen
    return End(reason, job_id, state, after, exit_code, exit_description, block_reason)


def follow(
    session: Session,
    job_id: int,
    *,
    after: int = 0,
    redis: str | Redis | None = None,
    timeout: float | None = None,
    until_finished: bool = True,
    stop_when_blocked: bool = False,
    stop_when_held: bool = False,
    keepalive: float | None = None,
    poll: float = POLL_SECONDS,
    batch: int = BATCH,
    look: float = LOOK_SECONDS,
) -> Iterator[Event]:
    """The job's lines with ``seq`` above ``after``, then new ones as they are stored.

    Each look runs in a read transaction of its own, so it sees what the executor
    committed since, and ends it before yielding (the session's connection is not held
    between looks: many followers need no more connections than one); the job's state is
    read before its lines, so the lines of a job seen final are all there. Following
    ends (one :class:`End`) when the job is final and every line was sent; when
    ``timeout`` seconds passed; with ``until_finished`` false, as soon as the stored
    lines are sent; with ``stop_when_blocked``, when the job is ``blocked``; with
    ``stop_when_held``, when the credential gate held it at all.
    ``redis`` (a URL or a client) lets a published message cut the wait short;
    ``look`` bounds how long lines are taken from its messages without reading the
    database; ``keepalive`` seconds without a line yield a :class:`Quiet`. A wait never outlasts
    the ``timeout``. A job that does not exist raises the core's NotFound on the
    first step, before any event.
    """
    started = time.monotonic()
    deadline = None if timeout is None else started + timeout
    quiet_since = started
    wakeup = Wakeup(job_id, redis) if until_finished else Wakeup(job_id, None)
    try:
        while True:
            session.rollback()  # end the read transaction: see what was committed since
            job = jobs.get(session, job_id)
            state = job.state
            held = job.blocked_at is not None
            seen = (job.id, state, job.exit_code, job.exit_description, job.block_reason)
            lines = [
                Line(line.seq, line.stream, line.text, line.created_at)
                for line in jobs.output(session, job_id, after=after, limit=batch)
            ]
            # the connection goes back to the pool while the client is written to and
            # while the loop waits: a follower holds one only for the length of a look
            session.rollback()
            for line in lines:
                after = line.seq
                yield line
            finished = state in jobs.FINAL_STATES
            if (
                not finished
                and until_finished
                and deadline is not None
                and time.monotonic() >= deadline
            ):
                yield _end("timeout", seen, after)
                return
            if lines:
                quiet_since = time.monotonic()
                continue
            if finished:
                yield _end("finished", seen, after)
                return
            if not until_finished:
                yield _end("caught-up", seen, after)
                return
            if (stop_when_blocked and state == "blocked") or (stop_when_held and held):
                yield _end("held", seen, after)
                return
            if keepalive is not None and time.monotonic() - quiet_since >= keepalive:
                quiet_since = time.monotonic()
                yield Quiet()
            looked = time.monotonic()
            while True:  # wait; lines a message brings go out as they came, for a while
                left = poll if deadline is None else deadline - time.monotonic()
                if not wakeup.wait(max(0.0, min(poll, left))):
                    break
                fresh = wakeup.lines_after(after)
                if fresh is None or time.monotonic() - looked >= look:
                    break  # the look reads them (and what a message could not say)
                for line in fresh:
                    after = line.seq
                    yield line
                if fresh:
                    quiet_since = time.monotonic()
                if deadline is not None and time.monotonic() >= deadline:
                    break
    finally:
        wakeup.close()


__all__ = [
    "BATCH",
    "LOOK_SECONDS",
    "OUTPUT_CHANNEL",
    "POLL_SECONDS",
    "End",
    "EndReason",
    "Event",
    "Line",
    "Quiet",
    "Wakeup",
    "channel",
    "follow",
]
