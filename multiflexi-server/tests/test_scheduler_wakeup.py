"""The scheduler wakes at a job's due time, not at its next check.

The scheduler runs in this process (a thread) against SQLite and a real Redis,
with a check interval and a longest sleep of an hour: within a test's lifetime it
never looks by itself, so whatever it delivers it delivered because its alarm went
off at the job's due time or a wake message told it.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from rq import Queue

from multiflexi.core import config, jobs, queue, scheduling
from multiflexi.core.audit import Actor
from multiflexi.core.models import Job, Lease
from multiflexi.server.scheduler import Scheduler

HOUR = 3600.0
ACTOR = Actor("tester", source="test")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def soon(seconds: float) -> dt.datetime:
    return now() + dt.timedelta(seconds=seconds)


def in_rq(redis, job: Job) -> bool:
    return queue.rq_job_id(job.id) in Queue(job.queue, connection=redis).job_ids


def reread(session, job_id: int) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    session.commit()
    assert job is not None
    return job


@pytest.fixture
def start_scheduler(settings, redis, session, wait_for) -> Iterator[Callable[[], Scheduler]]:
    """A leading scheduler in a thread that never polls in a test's time; asleep on return."""
    engine = config.create_engine(settings.database_url)
    running: list[tuple[Scheduler, threading.Thread]] = []

    def start() -> Scheduler:
        scheduler = Scheduler(
            config.session_factory(engine, settings),
            redis,
            lease_ttl=3 * HOUR,  # renewals (a third of it) never come either
            max_sleep=HOUR,
            check_interval=HOUR,
        )
        thread = threading.Thread(target=scheduler.run, daemon=True)
        thread.start()
        running.append((scheduler, thread))

        def asleep() -> bool:
            session.expire_all()
            lease = session.get(Lease, scheduling.LEASE_NAME)
            session.commit()
            # leads, made its first pass and listens for wake messages
            return lease is not None and scheduler._pubsub is not None

        wait_for(asleep, what="the scheduler to lead and sleep")
        return scheduler

    yield start
    for scheduler, thread in running:
        scheduler.stop()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the scheduler stops when asked"
    engine.dispose()


def test_a_job_launched_for_later_is_delivered_at_its_time_without_a_check(
    start_scheduler, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="n")
    start_scheduler()
    job = jobs.launch(session, rt.id, actor=ACTOR, at=soon(1.5), schedule_type="adhoc-api")
    assert job.state == "scheduled"
    assert not in_rq(redis, job)

    wait_for(lambda: in_rq(redis, job), what="delivery at the due time")
    delivered = reread(session, job.id)
    assert delivered.state == "queued"
    assert delivered.queued_at >= delivered.scheduled_at, "never delivered before its time"


def test_a_job_known_when_the_scheduler_sleeps_is_delivered_at_its_time(
    start_scheduler, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="n")
    # written before the scheduler starts: no wake message reaches it, its alarm must
    job = jobs.launch(session, rt.id, actor=ACTOR, at=soon(4), schedule_type="adhoc-api")
    start_scheduler()
    assert not in_rq(redis, job), "not delivered before its time"

    wait_for(lambda: in_rq(redis, job), what="delivery at the due time")
    delivered = reread(session, job.id)
    assert delivered.queued_at >= delivered.scheduled_at


def test_jobs_in_a_row_each_go_at_their_own_time(
    start_scheduler, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="n")
    start_scheduler()
    base = soon(1.5)
    ids = [
        jobs.create(
            session,
            rt,
            scheduled_at=base + dt.timedelta(milliseconds=300 * n),
            schedule_type="adhoc-api",
            actor=ACTOR,
        ).id
        for n in range(5)
    ]
    session.commit()  # one announcement: the earliest; each next alarm comes from the database

    def all_queued() -> bool:
        session.expire_all()
        states = session.scalars(sa.select(Job.state).where(Job.id.in_(ids))).all()
        session.commit()
        return set(states) == {"queued"}

    wait_for(all_queued, what="every job delivered")
    for job_id in ids:
        job = reread(session, job_id)
        assert job.queued_at >= job.scheduled_at
        assert in_rq(redis, job)


def test_a_rolled_back_job_is_never_announced_nor_delivered(
    start_scheduler, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="n")
    start_scheduler()
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(queue.WAKE_CHANNEL)
    listener.get_message(timeout=1)
    jobs.create(session, rt, scheduled_at=soon(0.5), schedule_type="adhoc-api", actor=ACTOR)
    session.rollback()
    assert listener.get_message(timeout=2) is None
    kept = jobs.launch(session, rt.id, actor=ACTOR, at=soon(0.5), schedule_type="adhoc-api")
    message = listener.get_message(timeout=2)
    assert message is not None and queue.wake_time(message["data"]) == kept.scheduled_at
    wait_for(lambda: in_rq(redis, kept), what="the kept job's delivery")
    listener.close()
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_a_wake_message_without_a_time_makes_a_full_pass_at_once(
    start_scheduler, session, make_rt, redis, wait_for
):
    start_scheduler()
    rt = make_rt(interval_code="d")  # needs planning: found by a full pass only
    assert scheduling.wake(redis) is True

    def planned() -> list[Job]:
        session.expire_all()
        found = list(session.scalars(sa.select(Job).where(Job.run_template_id == rt.id)))
        session.commit()
        return found

    (job,) = wait_for(planned, what="the pass the message asked for")
    assert (job.state, job.launched_by) == ("scheduled", "scheduler")


def test_a_wake_message_for_a_later_time_does_not_deliver_early(
    start_scheduler, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="n")
    job = jobs.launch(session, rt.id, actor=ACTOR, at=soon(3), schedule_type="adhoc-api")
    start_scheduler()
    # a stranger's message naming a time before the job's: the alarm goes off, nothing is due
    assert queue.wake(redis, now()) is True
    wait_for(lambda: in_rq(redis, job), what="delivery at the due time")
    assert reread(session, job.id).queued_at >= job.scheduled_at
