"""Jobs: launch, guarded transitions, cancel, and the queue contract with a real Redis."""

import datetime as dt

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue
from sqlalchemy.orm import Session

from multiflexi.core import audit, companies, jobenv, jobs, queue, runtemplates
from multiflexi.core.errors import (
    Conflict,
    InvalidTransition,
    MissingRequired,
    NotFound,
    ValidationError,
)
from multiflexi.core.models import Application, ApplicationField, Job, RunTemplate
from multiflexi.core.testing import count, database_bytes

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def rt(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    return runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        queue="reports",
        values={"ENDPOINT": "https://erp.example"},
    )


def test_launch_now_queues_the_job_in_its_run_templates_queue(session, rt, redis):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert job.state == "queued"
    assert (job.launched_by, job.schedule_type, job.queue) == ("tester", "adhoc", "reports")
    rq_jobs = Queue("reports", connection=redis).get_jobs()
    assert [(j.id, j.func_name, j.args) for j in rq_jobs] == [
        (f"job-{job.id}", queue.RUN_JOB, (job.id,))
    ]


def test_enqueueing_twice_delivers_once(session, rt, redis):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert jobs.enqueue(session, job, redis=redis) is False
    assert queue.enqueue(redis, job.id, "reports") is False
    assert Queue("reports", connection=redis).count == 1


def test_launch_later_stays_scheduled_and_is_not_delivered(session, rt, redis):
    at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    job = jobs.launch(session, rt.id, actor=ACTOR, at=at, redis=redis)
    assert job.state == "scheduled"
    assert job.scheduled_at == at
    assert Queue("reports", connection=redis).count == 0


def test_launch_with_redis_down_keeps_the_job_queued_in_the_database(session, rt):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=dead)
    assert jobs.get(session, job.id).state == "queued"
    assert job.undelivered is not None and job.undelivered.startswith("REDIS_URL")


def test_a_delivered_launch_says_nothing_undelivered(session, rt, redis):
    assert jobs.launch(session, rt.id, actor=ACTOR, redis=redis).undelivered is None


def test_overrides_are_sealed_and_given_back(session, engine, rt, redis):
    job = jobs.launch(
        session,
        rt.id,
        actor=ACTOR,
        redis=redis,
        overrides={"API_PASSWORD": "one-time-pa55"},
        secret_overrides=["API_PASSWORD"],
    )
    assert jobenv.overrides_of(session, job) == (
        {"API_PASSWORD": "one-time-pa55"},
        {"API_PASSWORD"},
    )
    assert b"one-time-pa55" not in database_bytes(engine)


def test_bad_override_name_creates_no_job(session, rt, redis):
    with pytest.raises(ValidationError, match="not an environment variable name"):
        jobs.launch(session, rt.id, actor=ACTOR, overrides={"NOT VALID": "x"}, redis=redis)
    assert count(session, Job) == 0


def test_inactive_run_template_cannot_be_launched(session, rt, redis):
    runtemplates.set_active(session, rt.id, False, actor=ACTOR)
    with pytest.raises(Conflict):
        jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert count(session, Job) == 0


def test_unknown_run_template_cannot_be_launched(session, rt, redis):
    with pytest.raises(NotFound, match=f"run template {rt.id + 1} not found"):
        jobs.launch(session, rt.id + 1, actor=ACTOR, redis=redis)
    assert count(session, Job) == 0


def test_a_required_field_nobody_fills_refuses_the_launch(session, rt, redis):
    # the application gained a required field after the run template was configured
    app = session.get(Application, rt.application_id)
    app.fields.append(ApplicationField(name="ERP_TOKEN", type="string", required=True))
    session.commit()
    with pytest.raises(ValidationError, match=f"run template {rt.id} cannot run") as info:
        jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert info.value.errors == ["ERP_TOKEN: required"]
    assert count(session, Job) == 0


def test_launch_reads_the_run_template_as_the_database_has_it(session, engine, rt, redis):
    # another process deactivates it and changes its queue; this session's copy is older
    with Session(engine) as other:
        other.execute(
            sa.update(RunTemplate).where(RunTemplate.id == rt.id).values(queue="elsewhere")
        )
        other.commit()
    assert rt.queue == "reports"
    assert jobs.launch(session, rt.id, actor=ACTOR, redis=redis).queue == "elsewhere"
    with Session(engine) as other:
        other.execute(sa.update(RunTemplate).where(RunTemplate.id == rt.id).values(active=False))
        other.commit()
    with pytest.raises(Conflict, match="not active"):
        jobs.launch(session, rt.id, actor=ACTOR, redis=redis)


def _columns(job):
    return {column.key: getattr(job, column.key) for column in Job.__table__.c}


@pytest.mark.parametrize("plain_insert", [True, False], ids=["insert-returning", "orm-flush"])
def test_the_launched_job_is_the_sessions_copy_of_its_row(
    session, engine, rt, redis, monkeypatch, plain_insert
):
    if not plain_insert:  # the path of a dialect without INSERT ... RETURNING (MariaDB)
        monkeypatch.setattr(jobs, "_RETURNING_DIALECTS", frozenset())
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert sa.inspect(job).persistent
    assert not sa.inspect(job).expired_attributes
    assert session.get(Job, job.id) is job
    seen = _columns(job)
    assert seen["run_template_id"] == rt.id
    assert (seen["state"], seen["queue"], seen["app_version"]) == ("queued", "reports", "1.0")
    assert (seen["cancel_requested"], seen["output_lines"], seen["attempt"]) == (False, 0, 1)
    with Session(engine) as other:
        assert _columns(other.get(Job, job.id)) == seen
        # columns a launch does not write are NULL, not a JSON null
        unset = sa.select(Job.id).where(Job.command.is_(None), Job.environment.is_(None))
        assert other.scalars(unset).all() == [job.id]
    jobs.transition(session, job.id, "running")
    session.commit()
    assert job.state == "running"


def test_claim_is_won_once(session, rt, redis):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    lease = dt.timedelta(seconds=30)
    assert jobs.claim(session, job.id, worker="w1", lease=lease) is True
    assert jobs.claim(session, job.id, worker="w2", lease=lease) is False
    claimed = jobs.get(session, job.id)
    assert (claimed.state, claimed.worker) == ("running", "w1")
    assert claimed.lease_expires_at > claimed.started_at


def test_transition_from_a_wrong_state_changes_nothing(session, rt, redis):
    job = jobs.launch(
        session, rt.id, actor=ACTOR, at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1), redis=redis
    )
    assert jobs.transition(session, job.id, "success") is False
    session.commit()
    assert jobs.get(session, job.id).state == "scheduled"


def test_cancel_before_running_and_not_after_finishing(session, rt, redis):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert jobs.cancel(session, job.id, actor=ACTOR).state == "cancelled"
    with pytest.raises(InvalidTransition, match="already finished"):
        jobs.cancel(session, job.id, actor=ACTOR)


def test_cancel_of_a_running_job_is_a_request_to_its_worker(session, rt, redis):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    jobs.claim(session, job.id, worker="w1", lease=dt.timedelta(seconds=30))
    cancelled = jobs.cancel(session, job.id, actor=ACTOR)
    assert (cancelled.state, cancelled.cancel_requested) == ("running", True)


def test_list_filters_and_pages_newest_first(session, rt, redis):
    made = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis) for _ in range(5)]
    jobs.cancel(session, made[0].id, actor=ACTOR)
    page = jobs.list_jobs(session, state="queued", limit=2, offset=1)
    assert page.total == 4
    assert [j.id for j in page.items] == [made[3].id, made[2].id]
    with pytest.raises(ValidationError, match="unknown state"):
        jobs.list_jobs(session, state="exploded")


def scheduled_job(session, rt, when):
    """A scheduler-made job, as the scheduler leaves it."""
    job = jobs.create(
        session, rt, scheduled_at=when, schedule_type="daily", actor=audit.Actor.system("scheduler")
    )
    rt.next_schedule = rt.last_schedule = when
    session.commit()
    return job


@pytest.mark.parametrize(
    ("state", "success", "failure"), [("success", 1, 0), ("failed", 0, 1), ("lost", 0, 1)]
)
def test_finish_counts_and_releases_the_schedule(session, rt, redis, state, success, failure):
    rt.interval_code = "d"
    when = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
    job = scheduled_job(session, rt, when)
    jobs.enqueue(session, job, redis=redis)
    assert jobs.claim(session, job.id, worker="w", lease=dt.timedelta(seconds=30))
    assert jobs.finish(session, job.id, state, exit_code=0 if state == "success" else 1)
    session.refresh(rt)
    assert (rt.success_count, rt.failure_count) == (success, failure)
    assert rt.next_schedule is None and rt.last_schedule == when
    # a second end of the same job changes nothing (someone else ended it)
    assert jobs.finish(session, job.id, "failed") is False
    session.refresh(rt)
    assert (rt.success_count, rt.failure_count) == (success, failure)


def test_an_adhoc_job_leaves_the_schedule_alone(session, rt, redis):
    when = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    rt.next_schedule = when
    session.commit()
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    jobs.claim(session, job.id, worker="w", lease=dt.timedelta(seconds=30))
    jobs.finish(session, job.id, "success", exit_code=0)
    session.refresh(rt)
    assert rt.next_schedule == when and rt.success_count == 1


def test_cancelling_a_planned_job_releases_the_schedule(session, rt):
    job = scheduled_job(session, rt, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    jobs.cancel(session, job.id, actor=ACTOR)
    session.refresh(rt)
    assert rt.next_schedule is None


def test_redeliver_puts_back_what_redis_lost(session, rt, redis):
    made = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis) for _ in range(3)]
    jobs.cancel(session, made[2].id, actor=ACTOR)
    redis.flushall()
    assert jobs.redeliver(session, redis) == [made[0].id, made[1].id]
    assert Queue("reports", connection=redis).job_ids == [f"job-{made[0].id}", f"job-{made[1].id}"]
    assert jobs.redeliver(session, redis) == []  # held now: nothing to do


def _gain_required_fields(session, rt, *names):
    """The application gained required fields after the run template was configured."""
    app = session.get(Application, rt.application_id)
    for name in names:
        app.fields.append(ApplicationField(name=name, type="string", required=True))
    session.commit()


def test_one_time_values_fill_required_fields_the_run_template_leaves_empty(
    session, engine, rt, redis
):
    _gain_required_fields(session, rt, "API_TOKEN")
    job = jobs.launch(
        session,
        rt.id,
        actor=ACTOR,
        overrides={"API_TOKEN": "tok-one-time-41"},
        secret_overrides=["API_TOKEN"],
        redis=redis,
    )
    assert job.state == "queued"
    assert jobenv.overrides_of(session, job) == ({"API_TOKEN": "tok-one-time-41"}, {"API_TOKEN"})
    assert b"tok-one-time-41" not in database_bytes(engine)
    # the value was for that job only: the run template still lacks it
    assert jobenv.missing_required(session, rt) == ["API_TOKEN"]


def test_a_launch_still_lacking_required_values_names_every_one(session, rt, redis):
    _gain_required_fields(session, rt, "API_TOKEN", "ERP_USER", "ERP_BOOK")
    with pytest.raises(MissingRequired) as info:
        # an empty one-time value fills nothing
        jobs.launch(
            session, rt.id, actor=ACTOR, overrides={"ERP_USER": "u", "ERP_BOOK": ""}, redis=redis
        )
    assert info.value.missing == ["API_TOKEN", "ERP_BOOK"]
    assert info.value.errors == ["API_TOKEN: required", "ERP_BOOK: required"]
    assert str(info.value) == (
        f"run template {rt.id} cannot run: API_TOKEN: required; ERP_BOOK: required"
    )
    assert count(session, Job) == 0


def test_runs_that_are_not_launches_keep_requiring_stored_values(session, rt):
    _gain_required_fields(session, rt, "API_TOKEN")
    with pytest.raises(MissingRequired, match="API_TOKEN: required"):
        runtemplates.ensure_launchable(session, rt)
    runtemplates.ensure_launchable(session, rt, supplied=["API_TOKEN"])
