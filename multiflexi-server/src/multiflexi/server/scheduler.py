"""The scheduler daemon (``multiflexi-server scheduler``).

One instance leads through the ``scheduler`` lease (:mod:`multiflexi.core.scheduling`);
others wait and take over within the lease time when the leader dies. A full pass
of the leader plans due jobs, reaps lost jobs, delivers the jobs whose time has come
and re-delivers ``queued`` jobs that Redis lost (ARCHITECTURE.md section 3,
invariant 1): at once when Redis lost its data (a sentinel key is gone), else at
least every ``recheck_interval`` (checking every queued job against RQ costs a
round trip per job).

Between full passes the leader sleeps with an alarm at the next job's due time and
then only delivers (the time-critical step: no planning or reaping before it), so a
job is handed to RQ at its time, not at the next check. Whoever schedules a job for
later announces its time on :data:`~multiflexi.core.queue.WAKE_CHANNEL` after the
commit (:func:`multiflexi.core.jobs.wake_scheduler_at`), which moves the alarm
without a database query. Every ``check_interval`` the sleeper also looks itself: for
a run template that needs planning (then a full pass), an earlier job written by
someone who did not announce it, a sign that Redis lost its data, and the lease's
renewal. A full pass comes at least every ``max_sleep``, and at once on a wake
message without a time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from multiflexi.core import jobs, lifecycle, queue, scheduling, tasks

if TYPE_CHECKING:
    from redis import Redis
    from redis.client import PubSub

log = logging.getLogger(__name__)

#: seconds a leader's lease lasts without renewal (a dead leader is replaced within it)
DEFAULT_LEASE_TTL = 15.0
#: the longest sleep between two passes, whatever the schedule says
DEFAULT_MAX_SLEEP = 30.0
#: how often a sleeping leader (or a waiting follower) looks for a reason to act
DEFAULT_CHECK_INTERVAL = 1.0
#: a pass checks every queued job against RQ at least this often (seconds), and at
#: once when the sentinel shows that Redis lost its data (restart, FLUSHALL)
DEFAULT_RECHECK_INTERVAL = 30.0
#: seconds to wait after a pass failed (database or Redis unreachable)
ERROR_BACKOFF = 2.0
#: the longest a sleeping scheduler takes to notice :meth:`Scheduler.stop` (no query)
STOP_LATENCY = 1.0
#: seconds to wait for Redis to confirm the subscription to the wake channel
SUBSCRIBE_TIMEOUT = 1.0
#: a key the leader keeps in Redis; when it is gone, Redis lost its data
SENTINEL_KEY = "multiflexi:scheduler:alive"

Reaper = Callable[[Session, dt.datetime], list[int]]


def default_holder() -> str:
    """This process's name in the lease: host, pid and a random tag."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclasses.dataclass(frozen=True)
class PassReport:
    planned: int = 0
    missed: int = 0
    cancelled: int = 0
    reaped: int = 0
    delivered: int = 0
    redelivered: int = 0
    #: SLA tasks ended at their deadline (missed or failed)
    tasks_ended: int = 0

    @property
    def busy(self) -> bool:
        return any(dataclasses.astuple(self))

    def __str__(self) -> str:
        return ", ".join(f"{k} {v}" for k, v in dataclasses.asdict(self).items() if v)


class NotLeader(Exception):
    """Another scheduler holds the lease (for ``--once``)."""

    def __init__(self, holder: str | None) -> None:
        super().__init__(holder)
        self.holder = holder


class Scheduler:
    """The daemon's loop over :mod:`multiflexi.core.scheduling`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        redis: Redis,
        *,
        holder: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        max_sleep: float = DEFAULT_MAX_SLEEP,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        recheck_interval: float = DEFAULT_RECHECK_INTERVAL,
        reaper: Reaper = lifecycle.reap_lost,
        clock: Callable[[], dt.datetime] = jobs.now,
    ) -> None:
        if lease_ttl <= 0 or max_sleep <= 0 or check_interval <= 0:
            raise ValueError("lease_ttl, max_sleep and check_interval must be positive")
        self.sessions = sessions
        self.redis = redis
        self.holder = holder or default_holder()
        self.claim = scheduling.LeaseClaim(
            scheduling.LEASE_NAME, self.holder, dt.timedelta(seconds=lease_ttl)
        )
        self.max_sleep = max_sleep
        self.recheck = dt.timedelta(seconds=recheck_interval)
        # renew well within the lease time, whatever the check interval
        self.check_interval = min(check_interval, lease_ttl / 3)
        self.reaper = reaper
        self.clock = clock
        self.leader = False
        self._stopping = threading.Event()
        self._invalid: set[int] = set()
        self._renewed_at: dt.datetime | None = None
        self._redis_down = False
        self._pubsub: PubSub | None = None
        self._announced_wait = False
        self._redelivered_at: dt.datetime | None = None
        #: when the last full pass began (the next one is due max_sleep later)
        self._passed_at: dt.datetime | None = None

    # -- control -------------------------------------------------------------------

    def stop(self) -> None:
        """Ask the loop to end (from a signal handler or another thread)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Lead or wait for the lease until :meth:`stop`; gives the lease up on the way out."""
        log.info("scheduler %s started", self.holder)
        try:
            while not self.stopping:
                if not self._lead():
                    self._wait(self.check_interval)
                    continue
                if self._pass_once() is None:
                    self._wait(ERROR_BACKOFF)
                    continue
                # deliver at each due time until something needs a full pass
                while self._idle() and self._deliver_once():
                    pass
        finally:
            self._close_pubsub()
            self._step_down()
            log.info("scheduler %s stopped", self.holder)

    def run_once(self) -> PassReport:
        """One pass as leader (``--once``); :class:`NotLeader` when another instance leads."""
        if not self._lead(quiet=True):
            with self.sessions() as session:
                raise NotLeader(
                    scheduling.lease_holder(session, scheduling.LEASE_NAME, self.clock())
                )
        try:
            with self.sessions() as session:
                return self.run_pass(session, self.clock())
        finally:
            self._step_down()

    # -- one pass ------------------------------------------------------------------

    def run_pass(self, session: Session, now: dt.datetime) -> PassReport:
        """Plan, reap, end SLA tasks past their deadline, deliver, re-deliver.

        Planning is fenced by the lease.

        Raises :class:`~multiflexi.core.scheduling.LeaseLost`, QueueUnavailable
        (after planning and reaping, which need no Redis) or a database error.
        """
        self._passed_at = now
        result = scheduling.plan(session, now, fence=self.claim)
        self._renewed_at = now
        self._invalid = set(result.invalid)
        reaped = self.reaper(session, now)
        # SLA tasks whose deadline passed with nothing running end missed or failed
        ended = tasks.sweep(session, now, redis=self.redis)
        # the sentinel is set before looking: a loss after this point is seen by the
        # next check; a loss before it (the sentinel was gone) makes this pass re-deliver
        lost = self._mark_redis_alive()
        delivered = scheduling.deliver_due(session, self.redis, now)
        redelivered: list[int] = []
        if lost or self._redelivered_at is None or now - self._redelivered_at >= self.recheck:
            redelivered = jobs.redeliver(session, self.redis)
            self._redelivered_at = now
        if redelivered:
            log.warning(
                "Redis had lost %d queued job(s); delivered again: %s",
                len(redelivered),
                ", ".join(map(str, redelivered)),
            )
        return PassReport(
            planned=len(result.planned),
            missed=result.missed,
            cancelled=len(result.cancelled),
            reaped=len(reaped),
            delivered=len(delivered),
            redelivered=len(redelivered),
            tasks_ended=len(ended),
        )

    def _pass_once(self) -> PassReport | None:
        """One pass with its errors turned into log lines; None when it failed."""
        try:
            with self.sessions() as session:
                report = self.run_pass(session, self.clock())
        except scheduling.LeaseLost:
            log.warning("lost the lease to another scheduler; waiting")
            self.leader = False
            return PassReport()
        except queue.QueueUnavailable as exc:
            if not self._redis_down:
                log.warning("%s; jobs are planned and wait until it is back", exc.message)
            self._redis_down = True
            return None
        except SQLAlchemyError as exc:
            log.error("database error: %s", first_line(exc))
            return None
        if self._redis_down:
            log.info("Redis is reachable again")
            self._redis_down = False
        if report.busy:
            log.info("pass: %s", report)
        return report

    def _deliver_once(self) -> bool:
        """Deliver the jobs whose time has come, nothing else; False when that failed.

        A failure (Redis or the database unreachable) is left to the full pass that
        follows, which reports it and backs off.
        """
        try:
            with self.sessions() as session:
                delivered = scheduling.deliver_due(session, self.redis, self.clock())
        except (queue.QueueUnavailable, SQLAlchemyError):
            return False
        if delivered:
            log.info("delivered %d: %s", len(delivered), ", ".join(map(str, delivered)))
        return True

    # -- the lease -----------------------------------------------------------------

    def _lead(self, *, quiet: bool = False) -> bool:
        """Become (or stay) the leader; False while another instance holds the lease.

        A leader that renewed within a third of the lease time is one still (no query).
        """
        now = self.clock()
        if self.leader and not self._renewal_due(now):
            return True
        try:
            with self.sessions() as session:
                if self.leader:
                    held = scheduling.renew_lease(
                        session, self.claim.name, self.holder, self.claim.ttl, now
                    )
                else:
                    held = scheduling.acquire_lease(
                        session, self.claim.name, self.holder, self.claim.ttl, now
                    )
                    if not held and not quiet and not self._announced_wait:
                        other = scheduling.lease_holder(session, self.claim.name, now)
                        log.info("waiting: scheduler %s leads", other)
                        self._announced_wait = True
        except SQLAlchemyError as exc:
            log.error("database error: %s", first_line(exc))
            return self.leader
        if held and not self.leader:
            log.info("scheduler %s leads now", self.holder)
        elif self.leader and not held:
            log.warning("lost the lease to another scheduler; waiting")
        self.leader = held
        if held:
            self._renewed_at = now
            self._announced_wait = False
        return held

    def _step_down(self) -> None:
        if not self.leader:
            return
        try:
            with self.sessions() as session:
                scheduling.release_lease(session, self.claim.name, self.holder)
        except SQLAlchemyError as exc:  # it expires on its own
            log.warning("could not give the lease up: %s", first_line(exc))
        self.leader = False

    # -- sleeping ------------------------------------------------------------------

    def _renewal_due(self, now: dt.datetime) -> bool:
        return self._renewed_at is None or now - self._renewed_at >= self.claim.ttl / 3

    def _idle(self) -> bool:
        """Sleep until a job is due or a full pass is wanted; True for the first.

        The alarm is the next job's due time, or the next full pass (``max_sleep``
        after the last one), whichever comes first. A wake message with a time moves
        the alarm; one without ends the sleep for a full pass. Every check interval
        the database and Redis are looked at (see the module's description).
        """
        # subscribed before looking: what is committed after the look is announced to us
        self._subscribe()
        now = self.clock()
        full_at = (self._passed_at or now) + dt.timedelta(seconds=self.max_sleep)
        plan_now, due = self._look(now)
        if plan_now:
            return False
        alarm = full_at if due is None else min(due, full_at)
        checked_at = now
        while not self.stopping:
            now = self.clock()
            if now >= alarm:
                return alarm < full_at
            if self._renewal_due(now) and not self._lead():
                return False
            check_at = checked_at + dt.timedelta(seconds=self.check_interval)
            if now >= check_at:
                plan_now, due = self._look(now)
                if plan_now or not self._redis_has_sentinel():
                    return False  # planning to do, or Redis lost its data: a full pass
                if due is not None and due < alarm:
                    alarm = due
                checked_at = now
                continue
            heard, due = self._listen(min(alarm, check_at) - now)
            if heard and due is None:
                return False  # someone asked for a pass now
            if due is not None and due < alarm:
                alarm = due
        return False

    def _look(self, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
        """Whether a run template needs planning, and the next job's due time (or None)."""
        try:
            with self.sessions() as session:
                if scheduling.needs_planning(session, exclude=self._invalid):
                    return True, None
                return False, scheduling.next_due(session)
        except SQLAlchemyError as exc:
            log.error("database error: %s", first_line(exc))
            return False, now + dt.timedelta(seconds=ERROR_BACKOFF)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(max(0.0, seconds))

    def _listen(self, span: dt.timedelta) -> tuple[bool, dt.datetime | None]:
        """Wait up to ``span`` for a wake message: whether one came, and the time it names."""
        from redis.exceptions import RedisError

        seconds = min(max(0.0, span.total_seconds()), STOP_LATENCY)
        pubsub = self._subscribe()
        if pubsub is None:
            self._wait(seconds)
            return False, None
        try:
            message: Any = pubsub.get_message(ignore_subscribe_messages=True, timeout=seconds)
        except (RedisError, OSError):
            self._close_pubsub()
            self._wait(seconds)
            return False, None
        if message is None or message.get("type") != "message":
            return False, None
        return True, queue.wake_time(message.get("data"))

    def _subscribe(self) -> PubSub | None:
        from redis.exceptions import RedisError

        if self._pubsub is None and not self._redis_down:
            try:
                pubsub = self.redis.pubsub()
                pubsub.subscribe(scheduling.WAKE_CHANNEL)
                # Redis's confirmation: from here on no announcement is missed
                pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT)
                self._pubsub = pubsub
            except (RedisError, OSError):
                self._pubsub = None
        return self._pubsub

    def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._pubsub.close()
            self._pubsub = None

    def _mark_redis_alive(self) -> bool:
        """Set the sentinel; True when it was missing (Redis lost its data since)."""
        from redis.exceptions import RedisError

        try:
            return self.redis.set(SENTINEL_KEY, self.holder, get=True) is None
        except (RedisError, OSError):
            return True

    def _redis_has_sentinel(self) -> bool:
        from redis.exceptions import RedisError

        if self._redis_down:
            return True  # the next pass finds out when it is back
        try:
            return bool(self.redis.exists(SENTINEL_KEY))
        except (RedisError, OSError):
            return False


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
