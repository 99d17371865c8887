"""The scheduler's rules: planning, catch-up, delivery, waking and the leader lease.

Every test runs on SQLite and on PostgreSQL (the ``session`` fixture).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue

from multiflexi.core import audit, companies, config, jobs, queue, runtemplates, scheduling
from multiflexi.core.models import Job, RunTemplate
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")
UTC = dt.UTC
PRAGUE = ZoneInfo("Europe/Prague")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def make_rt(session, app, company):
    def make(**settings):
        settings.setdefault("interval_code", "d")
        return runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=ACTOR,
            values={"ENDPOINT": "https://erp.example"},
            **settings,
        )

    return make


def jobs_of(session, rt, state=None):
    query = sa.select(Job).where(Job.run_template_id == rt.id).order_by(Job.scheduled_at)
    if state is not None:
        query = query.where(Job.state == state)
    return list(session.scalars(query))


def fresh(session, rt):
    session.refresh(rt)
    return rt


def finish_outstanding(session, rt, redis):
    """Run the outstanding job to success, as the executor would."""
    (job,) = jobs_of(session, rt, "scheduled")
    jobs.enqueue(session, job, redis=redis)
    assert jobs.claim(session, job.id, worker="w", lease=dt.timedelta(seconds=30))
    assert jobs.finish(session, job.id, "success", exit_code=0)


def test_a_new_run_template_gets_one_job_at_its_next_occurrence(session, make_rt):
    rt = make_rt(interval_code="h", delay=300, timezone="Europe/Prague")
    now = dt.datetime(2024, 3, 5, 10, 20, tzinfo=UTC)

    result = scheduling.plan(session, now)

    (job,) = jobs_of(session, rt)
    assert result.planned == [job.id]
    assert job.state == "scheduled"
    assert (job.schedule_type, job.launched_by, job.queue) == ("hourly", "scheduler", rt.queue)
    assert job.scheduled_at == dt.datetime(2024, 3, 5, 11, 5, tzinfo=UTC)
    rt = fresh(session, rt)
    assert rt.next_schedule == job.scheduled_at
    # the planned occurrence has not come yet: it is not the last one
    assert rt.last_schedule is None


def test_planning_twice_makes_no_second_job(session, make_rt):
    rt = make_rt(interval_code="i")
    now = dt.datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)
    scheduling.plan(session, now)
    again = scheduling.plan(session, now + dt.timedelta(minutes=5))
    assert again.planned == []
    assert len(jobs_of(session, rt)) == 1


def test_inactive_and_disabled_run_templates_are_not_planned(session, make_rt):
    make_rt(interval_code="n")
    make_rt(interval_code="d", active=False)
    assert scheduling.plan(session, dt.datetime(2024, 3, 5, tzinfo=UTC)).planned == []
    assert count(session, Job) == 0


def test_after_a_three_day_outage_the_latest_occurrence_runs_once_and_the_rest_are_missed(
    session, make_rt, redis
):
    # daily at 02:00 Prague time; last run planned 1 March, scheduler back on 4 March 15:00
    rt = make_rt(interval_code="d", delay=7200, timezone="Europe/Prague")
    rt.last_schedule = dt.datetime(2024, 3, 1, 2, 0, tzinfo=PRAGUE)
    session.commit()
    now = dt.datetime(2024, 3, 4, 15, 0, tzinfo=PRAGUE)

    result = scheduling.plan(session, now)

    (run,) = jobs_of(session, rt, "scheduled")
    assert run.scheduled_at == dt.datetime(2024, 3, 4, 2, 0, tzinfo=PRAGUE)
    missed = jobs_of(session, rt, "missed")
    assert [j.scheduled_at for j in missed] == [
        dt.datetime(2024, 3, 2, 2, 0, tzinfo=PRAGUE),
        dt.datetime(2024, 3, 3, 2, 0, tzinfo=PRAGUE),
    ]
    assert all(j.schedule_type == "daily" and j.started_at is None for j in missed)
    assert (result.planned, result.missed, result.skipped) == ([run.id], 2, 0)

    # only the caught-up occurrence is delivered, at once
    assert scheduling.deliver_due(session, redis, now) == [run.id]
    assert Queue(rt.queue, connection=redis).job_ids == [f"job-{run.id}"]

    # when it has run, the next one is tomorrow's, with no new misses
    assert jobs.claim(session, run.id, worker="w", lease=dt.timedelta(seconds=30))
    assert jobs.finish(session, run.id, "success", exit_code=0)
    later = scheduling.plan(session, now + dt.timedelta(minutes=1))
    (following,) = jobs_of(session, rt, "scheduled")
    assert following.scheduled_at == dt.datetime(2024, 3, 5, 2, 0, tzinfo=PRAGUE)
    assert (later.missed, len(jobs_of(session, rt, "missed"))) == (0, 2)


def test_missed_rows_are_capped_per_run_template_and_the_rest_is_logged(session, make_rt, caplog):
    rt = make_rt(interval_code="i")
    now = dt.datetime(2024, 3, 4, 12, 0, 30, tzinfo=UTC)
    rt.last_schedule = now - dt.timedelta(days=3)
    session.commit()

    with caplog.at_level(logging.WARNING, logger="multiflexi.core.scheduling"):
        result = scheduling.plan(session, now)

    assert result.missed == scheduling.MISSED_ROWS_LIMIT
    assert result.skipped > 0
    missed = jobs_of(session, rt, "missed")
    assert len(missed) == scheduling.MISSED_ROWS_LIMIT
    # the most recent misses are the ones kept, right before the run
    (run,) = jobs_of(session, rt, "scheduled")
    assert run.scheduled_at == dt.datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
    assert missed[-1].scheduled_at == run.scheduled_at - dt.timedelta(minutes=1)
    assert f"run template {rt.id}" in caplog.text and "not recorded" in caplog.text


@pytest.mark.parametrize(
    ("timezone", "expected"),
    [
        # 00:00 local + 2 h: Prague is UTC+2 in July, New York UTC-4
        ("Europe/Prague", dt.datetime(2024, 7, 2, 0, 0, tzinfo=UTC)),
        ("America/New_York", dt.datetime(2024, 7, 2, 6, 0, tzinfo=UTC)),
        # no zone of its own: the installation's (MULTIFLEXI_TIMEZONE=Europe/Prague here)
        (None, dt.datetime(2024, 7, 2, 0, 0, tzinfo=UTC)),
    ],
)
def test_delay_and_time_zone_decide_the_planned_time(session, make_rt, timezone, expected):
    rt = make_rt(interval_code="d", delay=7200, timezone=timezone)
    scheduling.plan(session, dt.datetime(2024, 7, 1, 12, 0, tzinfo=UTC))
    (job,) = jobs_of(session, rt)
    assert job.scheduled_at == expected


def test_cron_across_a_dst_change_follows_the_wall_clock(session, make_rt):
    # 30 March 2024, Prague: 09:30 every day; the clocks go forward that night
    rt = make_rt(interval_code="c", cron="30 9 * * *", timezone="Europe/Prague")
    scheduling.plan(session, dt.datetime(2024, 3, 30, 12, 0, tzinfo=UTC))
    (job,) = jobs_of(session, rt)
    assert job.scheduled_at.astimezone(PRAGUE).replace(tzinfo=None) == dt.datetime(
        2024, 3, 31, 9, 30
    )
    assert job.scheduled_at == dt.datetime(2024, 3, 31, 7, 30, tzinfo=UTC)
    assert job.schedule_type == "custom"


def test_deactivating_cancels_the_outstanding_job_and_reactivating_plans_one(session, make_rt):
    rt = make_rt(interval_code="d")
    now = dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    scheduling.plan(session, now)
    (first,) = jobs_of(session, rt)

    runtemplates.set_active(session, rt.id, False, actor=ACTOR)
    result = scheduling.plan(session, now)
    assert (result.cancelled, result.planned) == ([first.id], [])
    assert jobs.get(session, first.id).state == "cancelled"

    # reactivated before its time, tonight's run is planned again, not skipped
    runtemplates.set_active(session, rt.id, True, actor=ACTOR)
    scheduling.plan(session, now + dt.timedelta(hours=1))
    (again,) = jobs_of(session, rt, "scheduled")
    assert again.scheduled_at == first.scheduled_at


def test_a_new_schedule_replaces_the_outstanding_job(session, make_rt):
    rt = make_rt(interval_code="d")
    now = dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    scheduling.plan(session, now)
    runtemplates.update(session, rt.id, {"interval_code": "h"}, actor=ACTOR)

    scheduling.plan(session, now)

    (outstanding,) = jobs_of(session, rt, "scheduled")
    assert (outstanding.schedule_type, outstanding.scheduled_at) == (
        "hourly",
        dt.datetime(2024, 3, 5, 11, 0, tzinfo=UTC),
    )
    assert [j.state for j in jobs_of(session, rt)] == ["scheduled", "cancelled"]


def test_a_stored_schedule_that_cannot_be_computed_is_reported_and_skipped(session, make_rt):
    broken = make_rt(interval_code="d")
    fine = make_rt(interval_code="d")
    session.execute(
        sa.update(RunTemplate).where(RunTemplate.id == broken.id).values(timezone="Mars/Olympus")
    )
    session.commit()
    now = dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)

    result = scheduling.plan(session, now)

    assert list(result.invalid) == [broken.id]
    assert "Mars/Olympus" in result.invalid[broken.id]
    assert len(jobs_of(session, fine)) == 1 and jobs_of(session, broken) == []
    # it does not keep the daemon awake: the next wake-up is the fine one's job
    assert scheduling.next_wakeup(session, now) == now
    assert scheduling.next_wakeup(session, now, exclude=result.invalid) == (
        jobs_of(session, fine)[0].scheduled_at
    )


def test_deliver_due_hands_over_only_jobs_whose_time_has_come(session, make_rt, redis):
    soon = make_rt(interval_code="i", queue="fast")
    later = make_rt(interval_code="d")
    now = dt.datetime(2024, 3, 5, 10, 0, 30, tzinfo=UTC)
    scheduling.plan(session, now)
    (minute_job,) = jobs_of(session, soon)

    assert scheduling.deliver_due(session, redis, now) == []
    delivered = scheduling.deliver_due(session, redis, now + dt.timedelta(seconds=30))

    assert delivered == [minute_job.id]
    assert jobs.get(session, minute_job.id).state == "queued"
    assert jobs_of(session, later)[0].state == "scheduled"
    assert Queue("fast", connection=redis).job_ids == [f"job-{minute_job.id}"]
    # a second call delivers nothing twice
    assert scheduling.deliver_due(session, redis, now + dt.timedelta(minutes=1)) == []


def test_deliver_due_with_redis_down_changes_nothing(session, make_rt):
    rt = make_rt(interval_code="i")
    now = dt.datetime(2024, 3, 5, 10, 0, 30, tzinfo=UTC)
    scheduling.plan(session, now)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    with pytest.raises(queue.QueueUnavailable, match="REDIS_URL"):
        scheduling.deliver_due(session, dead, now + dt.timedelta(minutes=5))
    assert [j.state for j in jobs_of(session, rt)] == ["scheduled"]


def test_next_wakeup_is_now_when_planning_is_needed_else_the_earliest_job(session, make_rt, redis):
    now = dt.datetime(2024, 3, 5, 10, 0, 30, tzinfo=UTC)
    assert scheduling.next_wakeup(session, now) is None
    make_rt(interval_code="d")
    make_rt(interval_code="h")
    assert scheduling.next_wakeup(session, now) == now
    scheduling.plan(session, now)
    assert scheduling.next_wakeup(session, now) == dt.datetime(2024, 3, 5, 11, 0, tzinfo=UTC)


def test_wake_announces_on_the_channel_the_daemon_listens_to(redis):
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(scheduling.WAKE_CHANNEL)
    listener.get_message(timeout=1)
    assert scheduling.wake(redis) is True
    message = listener.get_message(timeout=2)
    assert message is not None and message["channel"] == scheduling.WAKE_CHANNEL.encode()
    assert queue.wake_time(message["data"]) is None  # no time: look now
    due = dt.datetime(2024, 3, 5, 10, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert queue.wake(redis, due) is True
    message = listener.get_message(timeout=2)
    assert message is not None and queue.wake_time(message["data"]) == due
    listener.close()
    assert scheduling.wake(Redis.from_url("redis://127.0.0.1:1/0")) is False
    assert queue.wake_time(b"not a time") is None
    assert queue.wake_time(b"2024-03-05T10:00:00") is None  # a time without a zone is no time


def test_the_next_due_time_and_the_need_to_plan_are_told_apart(session, make_rt):
    now = T0
    assert scheduling.next_due(session) is None
    assert scheduling.needs_planning(session) is False
    rt = make_rt(interval_code="h")
    assert scheduling.needs_planning(session) is True
    assert scheduling.needs_planning(session, exclude=[rt.id]) is False
    scheduling.plan(session, now)
    assert scheduling.needs_planning(session) is False
    assert scheduling.next_due(session) == dt.datetime(2024, 3, 5, 11, 0, tzinfo=UTC)


# -- the lease -----------------------------------------------------------------------

T0 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)


def test_of_two_contenders_only_one_holds_the_lease(session):
    assert scheduling.acquire_lease(session, "scheduler", "a", 15, T0) is True
    assert scheduling.acquire_lease(session, "scheduler", "b", 15, T0) is False
    # the holder keeps it by acquiring again or renewing; the other cannot renew it
    assert scheduling.acquire_lease(session, "scheduler", "a", 15, T0 + dt.timedelta(seconds=5))
    assert scheduling.renew_lease(session, "scheduler", "b", 15, T0) is False
    assert scheduling.lease_holder(session, "scheduler", T0 + dt.timedelta(seconds=19)) == "a"


def after(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_an_expired_lease_lets_the_other_take_over(session):
    assert scheduling.acquire_lease(session, "scheduler", "a", 15, T0)
    assert not scheduling.acquire_lease(session, "scheduler", "b", 15, after(14))
    assert scheduling.acquire_lease(session, "scheduler", "b", 15, after(15))
    assert scheduling.lease_holder(session, "scheduler", after(16)) == "b"
    # the old holder has lost it for good: it can neither renew nor take it back
    assert scheduling.renew_lease(session, "scheduler", "a", 15, T0) is False
    assert not scheduling.acquire_lease(session, "scheduler", "a", 15, after(16))


def test_a_released_lease_can_be_taken_at_once(session):
    assert scheduling.acquire_lease(session, "scheduler", "a", 15, T0)
    assert scheduling.release_lease(session, "scheduler", "b") is False
    assert scheduling.release_lease(session, "scheduler", "a") is True
    assert scheduling.acquire_lease(session, "scheduler", "b", 15, T0)


def test_racing_contenders_never_both_win(engine, settings):
    """Two threads with their own connections race for fresh and for expired leases."""
    factory = config.session_factory(engine, settings)
    rounds = 15
    wins: dict[str, list[str]] = {}
    lock = threading.Lock()

    def contend(holder: str, barrier: threading.Barrier) -> None:
        with factory() as own:
            for number in range(rounds):
                barrier.wait()
                for name, now in (
                    (f"fresh-{number}", T0),
                    ("expiring", T0 + dt.timedelta(seconds=20 * number)),
                ):
                    if scheduling.acquire_lease(own, name, holder, 10, now):
                        with lock:
                            wins.setdefault(f"{name}@{now.isoformat()}", []).append(holder)

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=contend, args=(h, barrier)) for h in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(wins) == 2 * rounds
    assert all(len(holders) == 1 for holders in wins.values()), wins


def test_planning_fenced_by_a_lost_lease_changes_nothing(session, make_rt):
    rt = make_rt(interval_code="d")
    assert scheduling.acquire_lease(session, "scheduler", "b", 15, T0)
    fence = scheduling.LeaseClaim("scheduler", "a", dt.timedelta(seconds=15))
    with pytest.raises(scheduling.LeaseLost):
        scheduling.plan(session, T0, fence=fence)
    assert jobs_of(session, rt) == []
    assert fresh(session, rt).next_schedule is None

    mine = scheduling.LeaseClaim("scheduler", "b", dt.timedelta(seconds=15))
    assert len(scheduling.plan(session, T0, fence=mine).planned) == 1


def test_last_schedule_is_never_in_the_future(session, make_rt, redis):
    rt = make_rt(interval_code="h")
    now = dt.datetime.now(UTC)
    scheduling.plan(session, now)
    (planned,) = jobs_of(session, rt)
    assert planned.scheduled_at > now
    rt = fresh(session, rt)
    assert (rt.next_schedule, rt.last_schedule) == (planned.scheduled_at, None)

    # a launch for later leaves it alone: it is not an occurrence of the schedule
    jobs.launch(session, rt.id, actor=ACTOR, at=now + dt.timedelta(days=2), redis=redis)
    assert fresh(session, rt).last_schedule is None

    # the scheduler's job cancelled before its time: given up now, not at its occurrence
    jobs.cancel(session, planned.id, actor=ACTOR)
    rt = fresh(session, rt)
    assert rt.next_schedule is None
    assert now <= rt.last_schedule <= dt.datetime.now(UTC)
    # and the occurrence is planned again (as the original's scheduler does)
    scheduling.plan(session, dt.datetime.now(UTC))
    (again,) = jobs_of(session, rt, "scheduled")[:1]
    assert again.schedule_type == "hourly" and again.scheduled_at == planned.scheduled_at


def test_the_occurrence_that_ran_becomes_the_last_schedule(session, make_rt, redis):
    rt = make_rt(interval_code="d")
    planned_at = dt.datetime(2024, 3, 5, 10, 0, tzinfo=UTC)
    scheduling.plan(session, planned_at)
    (job,) = jobs_of(session, rt)
    jobs.enqueue(session, job, redis=redis)
    assert jobs.claim(session, job.id, worker="w", lease=dt.timedelta(seconds=30))
    assert jobs.finish(session, job.id, "success", exit_code=0)
    rt = fresh(session, rt)
    assert (rt.last_schedule, rt.next_schedule) == (job.scheduled_at, None)
    # the next plan goes on from there: the next day, nothing missed
    result = scheduling.plan(session, job.scheduled_at + dt.timedelta(minutes=1))
    assert result.missed == 0
    (following,) = jobs_of(session, rt, "scheduled")
    assert following.scheduled_at == job.scheduled_at + dt.timedelta(days=1)
