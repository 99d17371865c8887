"""The executor's side of a job's life: slots, waiting, heartbeat, outcome, retries, reaping."""

import datetime as dt

import pytest
import sqlalchemy as sa
from rq import Queue

from multiflexi.core import (
    audit,
    companies,
    jobenv,
    jobs,
    lifecycle,
    models,
    queue,
    runtemplates,
    slots,
)
from multiflexi.core.lifecycle import Start
from multiflexi.core.models import ApplicationExitCode, Job, JobOutputLine, Lease, RunTemplate

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=30)


@pytest.fixture
def rt(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    return runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example"},
    )


def launch(session, rt, redis, **kwargs):
    return jobs.launch(session, rt.id, actor=ACTOR, redis=redis, **kwargs)


def fresh(session, job_id):
    job = jobs.get(session, job_id)
    session.refresh(job)
    return job


def state(session, job_id):
    return fresh(session, job_id).state


def test_a_job_takes_a_slot_and_the_next_one_waits_until_it_frees(session, rt, redis):
    first, second = launch(session, rt, redis), launch(session, rt, redis)
    assert lifecycle.start(session, first.id, worker="w1", lease=LEASE) is Start.RUNNING
    assert lifecycle.start(session, second.id, worker="w2", lease=LEASE) is Start.WAITING
    assert state(session, second.id) == "waiting"
    assert slots.in_use(session, rt.id) == 1
    redis.flushall()
    outcome = lifecycle.conclude(session, first.id, exit_code=0, redis=redis)
    assert (outcome.state, outcome.recorded) == ("success", True)
    assert state(session, second.id) == "queued"
    woken = Queue(rt.queue, connection=redis).get_jobs()
    assert [(j.func_name, j.args) for j in woken] == [(queue.RUN_JOB, (second.id,))]
    assert lifecycle.start(session, second.id, worker="w2", lease=LEASE) is Start.RUNNING


def test_a_woken_job_redis_cannot_take_stays_queued_and_the_failure_is_logged(
    session, rt, redis, caplog
):
    from redis import Redis

    first, second = launch(session, rt, redis), launch(session, rt, redis)
    assert lifecycle.start(session, first.id, worker="w1", lease=LEASE) is Start.RUNNING
    assert lifecycle.start(session, second.id, worker="w2", lease=LEASE) is Start.WAITING
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    with caplog.at_level("WARNING", logger="multiflexi.core.slots"):
        outcome = lifecycle.conclude(session, first.id, exit_code=0, redis=down)
    assert outcome.state == "success"
    assert state(session, second.id) == "queued"  # the scheduler delivers it again
    said = [r.getMessage() for r in caplog.records if r.name == "multiflexi.core.slots"]
    assert len(said) == 1 and f"job {second.id} was woken but not delivered" in said[0], said
    assert "REDIS_URL" in said[0]


def test_max_concurrency_lets_that_many_run_at_once(session, rt, redis):
    runtemplates.update(session, rt.id, {"max_concurrency": 2}, actor=ACTOR)
    ids = [launch(session, rt, redis).id for _ in range(3)]
    started = [lifecycle.start(session, i, worker="w", lease=LEASE) for i in ids]
    assert started == [Start.RUNNING, Start.RUNNING, Start.WAITING]


def test_a_duplicate_delivery_is_not_ours(session, rt, redis):
    job = launch(session, rt, redis)
    assert lifecycle.start(session, job.id, worker="w1", lease=LEASE) is Start.RUNNING
    assert lifecycle.start(session, job.id, worker="w2", lease=LEASE) is Start.NOT_OURS
    assert slots.in_use(session, rt.id) == 1
    assert jobs.get(session, job.id).worker == "w1"


def test_heartbeat_renews_the_lease_and_reports_a_cancel_request(session, rt, redis):
    job = launch(session, rt, redis)
    lifecycle.start(session, job.id, worker="w1", lease=dt.timedelta(seconds=5))
    before = jobs.get(session, job.id).lease_expires_at
    beat = lifecycle.heartbeat(session, job.id, worker="w1", lease=LEASE)
    assert (beat.alive, beat.cancel_requested) == (True, False)
    renewed = jobs.get(session, job.id)
    session.refresh(renewed)
    assert renewed.lease_expires_at > before
    jobs.cancel(session, job.id, actor=ACTOR)
    assert lifecycle.heartbeat(session, job.id, worker="w1", lease=LEASE).cancel_requested
    assert not lifecycle.heartbeat(session, job.id, worker="someone-else", lease=LEASE).alive


def test_output_lines_are_numbered_and_counted(session, rt, redis):
    job = launch(session, rt, redis)
    lifecycle.start(session, job.id, worker="w", lease=LEASE)
    after = lifecycle.store_output(session, job.id, 1, [("stdout", "a"), ("stderr", "b")])
    assert lifecycle.store_output(session, job.id, after, [("stdout", "c")]) == 4
    rows = session.scalars(sa.select(JobOutputLine).order_by(JobOutputLine.seq)).all()
    assert [(r.seq, r.stream, r.text) for r in rows] == [
        (1, "stdout", "a"),
        (2, "stderr", "b"),
        (3, "stdout", "c"),
    ]
    assert fresh(session, job.id).output_lines == 3
    assert lifecycle.last_seq(session, job.id) == 3


def test_the_outcome_carries_the_manifests_description_and_severity(session, app, rt, redis):
    session.add(
        ApplicationExitCode(
            application_id=app.id, exit_code=3, lang="en", description="no data", severity="warning"
        )
    )
    session.commit()
    described = launch(session, rt, redis)
    lifecycle.start(session, described.id, worker="w", lease=LEASE)
    outcome = lifecycle.conclude(session, described.id, exit_code=3)
    assert (outcome.state, outcome.description, outcome.severity) == (
        "failed",
        "no data",
        "warning",
    )
    signalled = launch(session, rt, redis)
    lifecycle.start(session, signalled.id, worker="w", lease=LEASE)
    outcome = lifecycle.conclude(session, signalled.id, exit_code=137)
    assert (outcome.description, outcome.severity) == ("killed by SIGKILL", "error")
    timed = launch(session, rt, redis)
    lifecycle.start(session, timed.id, worker="w", lease=LEASE)
    outcome = lifecycle.conclude(
        session, timed.id, exit_code=143, description="timed out after 5 s"
    )
    assert outcome.description == "timed out after 5 s"
    rt_now = session.get(RunTemplate, rt.id)
    session.refresh(rt_now)
    assert (rt_now.success_count, rt_now.failure_count) == (0, 3)


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        ("none", [10, 10, 10]),
        ("fixed", [10, 10, 10]),
        ("linear", [10, 20, 30]),
        ("exponential", [10, 20, 40]),
    ],
)
def test_retry_delays_grow_with_the_backoff(backoff, delays):
    got = [lifecycle.retry_delay(backoff, 10, n).total_seconds() for n in (1, 2, 3)]
    assert got == delays


def test_a_failed_job_is_retried_as_a_linked_job_until_max_attempts(session, rt, redis):
    runtemplates.update(
        session,
        rt.id,
        {"max_attempts": 2, "retry_backoff": "fixed", "retry_min_gap": 600},
        actor=ACTOR,
    )
    job = launch(session, rt, redis, overrides={"LIMIT": "5"})
    lifecycle.start(session, job.id, worker="w", lease=LEASE)
    outcome = lifecycle.conclude(session, job.id, exit_code=1, redis=redis)
    retry = jobs.get(session, outcome.retry_job_id)
    assert (retry.attempt, retry.retry_of_id, retry.parent_job_id) == (2, job.id, job.id)
    assert (retry.schedule_type, retry.state) == ("retry", "scheduled")  # the gap: not due yet
    wait = retry.scheduled_at - fresh(session, job.id).finished_at
    assert dt.timedelta(seconds=599) < wait < dt.timedelta(seconds=602)
    assert jobenv.overrides_of(session, retry)[0] == {"LIMIT": "5"}
    jobs.enqueue(session, retry, redis=redis)
    lifecycle.start(session, retry.id, worker="w", lease=LEASE)
    assert lifecycle.conclude(session, retry.id, exit_code=1, redis=redis).retry_job_id is None


def test_a_cancelled_or_successful_job_is_not_retried(session, rt, redis):
    runtemplates.update(session, rt.id, {"max_attempts": 3}, actor=ACTOR)
    job = launch(session, rt, redis)
    lifecycle.start(session, job.id, worker="w", lease=LEASE)
    assert (
        lifecycle.conclude(session, job.id, exit_code=143, state="cancelled").retry_job_id is None
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_a_lost_jobs_failure_actions_go_to_an_executor_or_the_output_says_why_not(
    session, rt, redis
):
    from redis import Redis

    from multiflexi.core.models import RunTemplateAction

    session.add(RunTemplateAction(run_template_id=rt.id, mode="failure", action="deactivate"))
    session.commit()
    short = dt.timedelta(seconds=1)
    later = lifecycle.now() + dt.timedelta(seconds=2)
    first, second = launch(session, rt, redis), launch(session, rt, redis)
    assert lifecycle.start(session, first.id, worker="dead", lease=short) is Start.RUNNING
    assert lifecycle.reap_lost(session, later, redis=redis) == [first.id]
    queued = Queue(first.queue, connection=redis).jobs
    assert [(j.func_name, j.args) for j in queued if j.id.endswith("-actions")] == [
        (queue.RUN_ACTIONS, (first.id,))
    ]
    # Redis gone when the reaper finds the second one: recorded, and said on the job
    assert lifecycle.start(session, second.id, worker="dead", lease=short) is Start.RUNNING
    down = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
    assert lifecycle.reap_lost(session, later, redis=down) == [second.id]
    lines = session.scalars(
        sa.select(JobOutputLine.text).where(
            JobOutputLine.job_id == second.id, JobOutputLine.stream == "system"
        )
    ).all()
    assert any(line.startswith("failure actions not run: REDIS_URL") for line in lines), lines


def test_the_reaper_marks_expired_jobs_lost_frees_the_slot_and_starts_the_next(session, rt, redis):
    # a scheduler-made job whose worker dies, and a job waiting for its slot
    lost_job = launch(session, rt, redis, schedule_type="hourly")
    session.execute(sa.update(RunTemplate).values(next_schedule=lost_job.scheduled_at))
    session.commit()
    waiting_job = launch(session, rt, redis)
    short = dt.timedelta(seconds=1)
    assert lifecycle.start(session, lost_job.id, worker="dead", lease=short) is Start.RUNNING
    assert lifecycle.start(session, waiting_job.id, worker="w", lease=LEASE) is Start.WAITING
    assert lifecycle.reap_lost(session, redis=redis) == []  # the lease has not expired yet
    later = lifecycle.now() + dt.timedelta(seconds=2)
    assert lifecycle.reap_lost(session, later, redis=redis) == [lost_job.id]
    reaped = jobs.get(session, lost_job.id)
    session.refresh(reaped)
    assert reaped.state == "lost" and reaped.exit_description.startswith("lost: worker dead")
    rt_now = session.get(RunTemplate, rt.id)
    session.refresh(rt_now)
    assert (rt_now.next_schedule, rt_now.failure_count) == (None, 1)
    assert session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0
    assert state(session, waiting_job.id) == "queued"  # the oldest waiting job is delivered
    assert lifecycle.reap_lost(session, later, redis=redis) == []


def test_a_job_of_a_bare_run_template_runs_on_few_statements_and_later_rows_count(
    session, engine, redis
):
    """The job read says what the run template, application and company have none of
    (fields, values, variables, actions, exit codes, artifact patterns): their queries
    are spared for that job; rows added before the next job are read for it."""
    app = models.Application(name="bare", executable="/bin/true")
    session.add(app)
    session.commit()
    company = companies.create(session, name="Bare", actor=ACTOR)
    bare = runtemplates.create(session, company=company.id, app_id=app.id, actor=ACTOR)
    first = launch(session, bare, redis)
    session.expunge_all()  # as the executor's own session per job
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        started, _ = lifecycle.begin(session, first.id, worker="w", lease=LEASE, redis=redis)
        assert started is Start.RUNNING
        outcome = lifecycle.conclude(session, first.id, exit_code=0, redis=redis)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert (outcome.state, outcome.description, outcome.severity) == ("success", None, "success")
    # read, slot, claim; outcome, counter, slot freed, the next waiting job looked for
    assert statements == ["SELECT", "INSERT", "UPDATE", "UPDATE", "UPDATE", "DELETE", "SELECT"]

    session.add(
        ApplicationExitCode(application_id=app.id, exit_code=0, lang="en", description="synced")
    )
    session.commit()
    second = launch(session, bare, redis)
    lifecycle.begin(session, second.id, worker="w", lease=LEASE, redis=redis)
    outcome = lifecycle.conclude(session, second.id, exit_code=0, redis=redis)
    assert outcome.description == "synced"
