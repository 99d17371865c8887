"""`multiflexi-server scheduler` as real processes against SQLite and a real Redis."""

from __future__ import annotations

import datetime as dt
import signal
import time

import sqlalchemy as sa
from rq import Queue

from multiflexi.core import scheduling
from multiflexi.core.models import Job, Lease, RunTemplate

UTC = dt.UTC
LEASE_TTL = "3"


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def minutes_ago(minutes: int) -> dt.datetime:
    return now() - dt.timedelta(minutes=minutes)


def jobs_of(session, rt_id, state=None):
    session.expire_all()
    query = sa.select(Job).where(Job.run_template_id == rt_id).order_by(Job.scheduled_at)
    if state is not None:
        query = query.where(Job.state == state)
    jobs = list(session.scalars(query))
    session.commit()
    return jobs


def holder(session):
    session.expire_all()
    lease = session.get(Lease, scheduling.LEASE_NAME)
    session.commit()
    return lease.holder if lease is not None and lease.expires_at > now() else None


def pid_of(lease_holder):
    return int(lease_holder.split(":")[1])


def queued_ids(redis, name="default"):
    return Queue(name, connection=redis).job_ids


def test_the_daemon_plans_due_jobs_and_delivers_them_into_rq(
    spawn, env_file, session, make_rt, redis, wait_for
):
    # a cron run template that last ran a few minutes ago: its latest occurrence is due now
    cron = make_rt(interval_code="c", cron="* * * * *", last_schedule=minutes_ago(3))
    minutely = make_rt(interval_code="i")

    daemon = spawn("--env-file", str(env_file), "scheduler", "--lease-ttl", LEASE_TTL)

    run = wait_for(lambda: jobs_of(session, cron.id, "queued"), what="the cron job delivered")[0]
    assert (run.schedule_type, run.launched_by) == ("custom", "scheduler")
    assert run.scheduled_at <= now() and run.scheduled_at.second == 0
    wait_for(lambda: f"job-{run.id}" in queued_ids(redis), what="the RQ delivery")
    # the occurrences in between were recorded as missed, not run
    missed = jobs_of(session, cron.id, "missed")
    assert 2 <= len(missed) <= 3
    assert all(f"job-{job.id}" not in queued_ids(redis) for job in missed)
    # the minutely one waits for its minute, planned but not delivered
    (upcoming,) = wait_for(lambda: jobs_of(session, minutely.id, "scheduled"), what="planning")
    assert upcoming.scheduled_at > now() - dt.timedelta(seconds=1)
    assert f"job-{upcoming.id}" not in queued_ids(redis)

    assert daemon.stop(signal.SIGTERM) == 0
    assert holder(session) is None, "a stopped scheduler gives the lease up"
    assert "Traceback" not in daemon.output()


def test_jobs_redis_lost_are_delivered_again(spawn, env_file, session, make_rt, redis, wait_for):
    cron = make_rt(interval_code="c", cron="* * * * *", last_schedule=minutes_ago(1))
    daemon = spawn("--env-file", str(env_file), "scheduler", "--lease-ttl", LEASE_TTL)
    run = wait_for(lambda: jobs_of(session, cron.id, "queued"), what="delivery")[0]
    wait_for(lambda: f"job-{run.id}" in queued_ids(redis), what="the RQ delivery")

    redis.flushall()
    assert queued_ids(redis) == []

    wait_for(lambda: f"job-{run.id}" in queued_ids(redis), timeout=10, what="re-delivery")
    assert jobs_of(session, cron.id, "queued")[0].id == run.id
    assert "lost 1 queued job" in daemon.output()


def test_two_schedulers_plan_once_and_the_survivor_takes_over(
    spawn, env_file, session, make_rt, redis, wait_for
):
    args = ("--env-file", str(env_file), "scheduler", "--lease-ttl", LEASE_TTL)
    first, second = spawn(*args), spawn(*args)
    wait_for(lambda: all(" started" in p.output() for p in (first, second)), what="both up")
    rts = [make_rt(interval_code="d") for _ in range(5)]

    def all_planned():
        return all(jobs_of(session, rt.id) for rt in rts)

    wait_for(all_planned, what="planning of every run template")
    time.sleep(2)  # time for a duplicate to appear, if the lease let one through
    assert [len(jobs_of(session, rt.id)) for rt in rts] == [1] * 5
    leader_holder = holder(session)
    assert leader_holder is not None
    leader, follower = (first, second) if pid_of(leader_holder) == first.pid else (second, first)
    assert pid_of(leader_holder) == leader.pid
    wait_for(lambda: "waiting: scheduler" in follower.output(), what="the follower to wait")
    assert "leads now" not in follower.output()

    leader.stop(signal.SIGKILL)
    killed_at = time.monotonic()
    late = make_rt(interval_code="d")
    (job,) = wait_for(lambda: jobs_of(session, late.id), timeout=15, what="the survivor's plan")
    took = time.monotonic() - killed_at
    assert took < float(LEASE_TTL) + 3, f"took over after {took:.1f} s"
    assert pid_of(holder(session)) == follower.pid
    assert [len(jobs_of(session, rt.id)) for rt in [*rts, late]] == [1] * 6
    assert job.state == "scheduled"


def test_once_runs_one_pass_and_refuses_while_another_leads(
    spawn, env_file, session, make_rt, redis, wait_for
):
    rt = make_rt(interval_code="h")
    once = spawn("--env-file", str(env_file), "scheduler", "--once")
    assert once.popen.wait(timeout=30) == 0
    assert "pass done: planned 1" in once.output()
    assert len(jobs_of(session, rt.id, "scheduled")) == 1
    assert holder(session) is None

    spawn("--env-file", str(env_file), "scheduler", "--lease-ttl", LEASE_TTL)
    wait_for(lambda: holder(session), what="the daemon to lead")
    refused = spawn("--env-file", str(env_file), "scheduler", "--once")
    assert refused.popen.wait(timeout=30) == 1
    lines = refused.output().strip().splitlines()
    assert len(lines) == 1 and "holds the lease" in lines[0]


def test_a_new_run_template_is_planned_quickly_not_after_the_longest_sleep(
    spawn, env_file, session, make_rt, redis, wait_for
):
    make_rt(interval_code="d")
    spawn("--env-file", str(env_file), "scheduler", "--max-sleep", "60")
    wait_for(lambda: session.scalar(sa.select(sa.func.count()).select_from(Job)), what="a plan")
    time.sleep(1)
    created = time.monotonic()
    rt = make_rt(interval_code="w")
    wait_for(lambda: jobs_of(session, rt.id), timeout=5, what="planning of the new one")
    assert time.monotonic() - created < 5
    session.expire_all()
    assert session.get(RunTemplate, rt.id).next_schedule is not None


def test_the_daemon_marks_a_job_whose_worker_died_lost(
    spawn, env_file, session, make_rt, redis, wait_for
):
    # a job left running by a worker that died: its lease ran out a minute ago
    rt = make_rt(interval_code="n")
    job = Job(
        run_template_id=rt.id,
        company_id=rt.company_id,
        application_id=rt.application_id,
        state="running",
        schedule_type="adhoc",
        scheduled_at=minutes_ago(5),
        started_at=minutes_ago(5),
        heartbeat_at=minutes_ago(2),
        lease_expires_at=minutes_ago(1),
        worker="gone:4242:1",
        launched_by="tester",
    )
    session.add(job)
    session.commit()

    daemon = spawn("--env-file", str(env_file), "scheduler", "--lease-ttl", LEASE_TTL)
    wait_for(lambda: jobs_of(session, rt.id, "lost"), what="the reaper")
    session.expire_all()
    reaped = session.get(Job, job.id)
    assert "gone:4242:1" in reaped.exit_description
    assert session.get(RunTemplate, rt.id).failure_count == 1
    assert daemon.stop(signal.SIGTERM) == 0
