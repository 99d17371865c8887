"""The dashboard's numbers (multiflexi.core.overview): counts by state of the last
24 hours, running jobs, latest failures, next runs, the hourly chart, health and
tenant isolation. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from redis import Redis
from rq import Worker

from multiflexi.core import access, audit, overview, scheduling, users
from multiflexi.core import models as m

ADMIN = audit.Actor.cli()
NOW = dt.datetime(2030, 3, 11, 12, 30, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def principal(session, login, *, company_id=None, role="admin", is_admin=False):
    user = users.create(session, login, actor=ADMIN, is_admin=is_admin)
    if company_id is not None:
        users.grant(session, company_id, user.id, role, actor=ADMIN)
    return access.principal_for(session, user)


@pytest.fixture
def place(session):
    """Companies A and B; A's hourly run template, B's daily one, and A's stopped one."""
    app = m.Application(name="probe", executable="/bin/true")
    a = m.Company(name="Alpha", slug="alpha")
    b = m.Company(name="Beta", slug="beta")
    session.add_all([app, a, b])
    session.flush()
    rt_a = m.RunTemplate(
        company_id=a.id, application_id=app.id, name="hourly a", interval_code="h", timezone="UTC"
    )
    rt_b = m.RunTemplate(
        company_id=b.id, application_id=app.id, name="daily b", interval_code="d", timezone="UTC"
    )
    stopped = m.RunTemplate(
        company_id=a.id, application_id=app.id, name="stopped a", interval_code="i", active=False
    )
    session.add_all([rt_a, rt_b, stopped])
    session.commit()
    return {"a": a.id, "b": b.id, "rt_a": rt_a.id, "rt_b": rt_b.id, "app": app.id}


def add_job(session, place, rt, state, at, **extra):
    company = place["a"] if rt == "rt_a" else place["b"]
    job = m.Job(
        run_template_id=place[rt],
        company_id=company,
        application_id=place["app"],
        state=state,
        scheduled_at=at,
        **extra,
    )
    session.add(job)
    session.commit()
    return job.id


@pytest.fixture
def jobs_made(session, place):
    ids = {
        "ok1": add_job(session, place, "rt_a", "success", NOW - HOUR, exit_code=0),
        "ok2": add_job(session, place, "rt_a", "success", NOW - 50 * dt.timedelta(minutes=1)),
        "fail_a": add_job(
            session,
            place,
            "rt_a",
            "failed",
            NOW - 2 * HOUR,
            exit_code=2,
            finished_at=NOW - 2 * HOUR + dt.timedelta(seconds=5),
        ),
        "lost_a": add_job(session, place, "rt_a", "lost", NOW - 3 * HOUR),
        "run_a": add_job(
            session,
            place,
            "rt_a",
            "running",
            NOW - 10 * dt.timedelta(minutes=1),
            started_at=NOW - 9 * dt.timedelta(minutes=1),
        ),
        "edge": add_job(session, place, "rt_a", "success", NOW - 24 * HOUR),
        "at_now": add_job(session, place, "rt_a", "queued", NOW),
        "later": add_job(session, place, "rt_a", "scheduled", NOW + HOUR),
        "old_ok": add_job(session, place, "rt_a", "success", NOW - 30 * HOUR),
        "old_fail": add_job(session, place, "rt_a", "failed", NOW - 6 * 24 * HOUR, exit_code=1),
        "too_old": add_job(session, place, "rt_a", "failed", NOW - 8 * 24 * HOUR),
        "fail_b": add_job(session, place, "rt_b", "failed", NOW - HOUR, exit_code=9),
        "ok_b": add_job(session, place, "rt_b", "success", NOW - 5 * HOUR),
    }
    return ids


def nonzero(counts):
    return {state: number for state, number in counts.items() if number}


def test_counts_of_the_last_24_hours_by_state_are_the_principals_own(
    session, place, jobs_made, redis
):
    alice = principal(session, "alice", company_id=place["a"])
    root = principal(session, "root", is_admin=True)
    nobody = principal(session, "nobody")
    mine = overview.dashboard(session, alice, now=NOW, redis=redis)
    # due in [now - 24 h, now): the job due exactly 24 h ago counts, the one due now does not
    assert nonzero(mine.counts) == {"success": 3, "failed": 1, "lost": 1, "running": 1}
    assert set(mine.counts) == set(overview.STATES)
    assert mine.since == NOW - 24 * HOUR and mine.now == NOW
    assert mine.recent_total == 6
    everyone = overview.dashboard(session, root, now=NOW, redis=redis)
    assert nonzero(everyone.counts) == {"success": 4, "failed": 2, "lost": 1, "running": 1}
    none = overview.dashboard(session, nobody, now=NOW, redis=redis)
    assert none.recent_total == 0 and none.running == [] and none.failures == []
    assert none.upcoming == [] and sum(hour.total for hour in none.hours) == 0


def test_running_jobs_and_latest_failures_carry_their_names(session, place, jobs_made, redis):
    alice = principal(session, "alice", company_id=place["a"], role="viewer")
    found = overview.dashboard(session, alice, now=NOW, redis=redis)
    assert [job.id for job in found.running] == [jobs_made["run_a"]]
    running = found.running[0]
    assert running.run_template_name == "hourly a" and running.company_name == "Alpha"
    assert running.started_at == NOW - 9 * dt.timedelta(minutes=1)
    assert found.running_total == 1
    # newest first by due time, failed and lost alike; company B's failure is not hers
    assert [job.id for job in found.failures] == [
        jobs_made["fail_a"],
        jobs_made["lost_a"],
        jobs_made["old_fail"],
        jobs_made["too_old"],
    ]
    first = found.failures[0]
    assert (first.exit_code, first.state, first.run_template_id) == (2, "failed", place["rt_a"])
    assert first.finished_at == NOW - 2 * HOUR + dt.timedelta(seconds=5)
    root = principal(session, "root", is_admin=True)
    assert (
        overview.dashboard(session, root, now=NOW, redis=redis).failures[0].id
        == (jobs_made["fail_b"])
    )


def test_the_chart_has_one_bar_per_hour_of_seven_days_with_success_and_failure(
    session, place, jobs_made, redis
):
    alice = principal(session, "alice", company_id=place["a"])
    hours = overview.dashboard(session, alice, now=NOW, redis=redis).hours
    assert len(hours) == overview.CHART_HOURS == 168
    assert hours[-1].start == dt.datetime(2030, 3, 11, 12, tzinfo=dt.UTC)
    assert hours[0].start == hours[-1].start - 167 * HOUR
    assert all(b.start - a.start == HOUR for a, b in itertools.pairwise(hours))
    by_start = {hour.start: hour for hour in hours if hour.total}
    eleven = dt.datetime(2030, 3, 11, 11, tzinfo=dt.UTC)
    assert {start: (h.success, h.failed) for start, h in by_start.items()} == {
        eleven: (2, 0),  # 11:30 and 11:40
        dt.datetime(2030, 3, 11, 10, tzinfo=dt.UTC): (0, 1),
        dt.datetime(2030, 3, 11, 9, tzinfo=dt.UTC): (0, 1),  # lost counts as a failure
        dt.datetime(2030, 3, 10, 12, tzinfo=dt.UTC): (1, 0),
        dt.datetime(2030, 3, 10, 6, tzinfo=dt.UTC): (1, 0),
        dt.datetime(2030, 3, 5, 12, tzinfo=dt.UTC): (0, 1),
    }
    assert by_start[eleven].end == dt.datetime(2030, 3, 11, 12, tzinfo=dt.UTC)
    root = principal(session, "root", is_admin=True)
    everyone = {
        h.start: (h.success, h.failed)
        for h in overview.dashboard(session, root, now=NOW, redis=redis).hours
    }
    assert everyone[eleven] == (2, 1)  # company B's failure at 11:30


def test_next_runs_come_from_each_active_schedule_several_per_template(session, place, redis):
    alice = principal(session, "alice", company_id=place["a"])
    upcoming = overview.dashboard(session, alice, now=NOW, redis=redis).upcoming
    # the stopped run template and company B's are not listed
    assert [u.run_template_id for u in upcoming] == [place["rt_a"]]
    hourly = upcoming[0]
    assert hourly.times == [NOW.replace(minute=0) + n * HOUR for n in range(1, 6)]
    assert hourly.more and hourly.company_name == "Alpha" and hourly.schedule
    root = principal(session, "root", is_admin=True)
    both = overview.dashboard(session, root, now=NOW, redis=redis).upcoming
    assert [u.run_template_id for u in both] == [place["rt_a"], place["rt_b"]]
    daily = both[1]
    assert daily.times == [dt.datetime(2030, 3, 12, tzinfo=dt.UTC)] and not daily.more


def test_health_reads_the_scheduler_lease_and_the_workers_heartbeats(session, redis):
    root = principal(session, "root", is_admin=True)
    now = dt.datetime.now(dt.UTC)
    health = overview.dashboard(session, root, now=now, redis=redis).health
    assert health.scheduler is None and not health.scheduler_alive
    assert health.workers == 0 and not health.workers_alive and health.redis_error is None
    assert scheduling.acquire_lease(session, scheduling.LEASE_NAME, "host:1", 15, now)
    worker = Worker(["default"], connection=redis, name="probe-worker")
    worker.register_birth()
    worker.heartbeat()
    health = overview.dashboard(session, root, now=now, redis=redis).health
    assert health.scheduler == "host:1" and health.scheduler_alive
    assert health.workers == 1 and health.workers_alive
    # an expired lease is no scheduler
    later = now + dt.timedelta(seconds=16)
    assert overview.health(session, later, redis).scheduler is None
    worker.register_death()


def test_redis_out_of_reach_is_said_not_raised(session):
    root = principal(session, "root", is_admin=True)
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    health = overview.dashboard(session, root, now=NOW, redis=down).health
    assert health.workers is None and not health.workers_alive
    assert health.redis_error and "REDIS_URL" in health.redis_error


def test_a_naive_now_is_refused(session):
    root = principal(session, "root", is_admin=True)
    with pytest.raises(ValueError, match="timezone-aware"):
        overview.dashboard(session, root, now=dt.datetime(2030, 1, 1))
