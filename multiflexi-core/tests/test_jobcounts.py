"""Jobs per company (``job_counts``): exact after every way jobs come and go.

The counters are what a job list's total says when it is filtered by company only
or not at all, so every test compares them with ``SELECT company_id, COUNT(*) FROM
jobs GROUP BY company_id`` and with the totals a user sees. Every test runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from redis import Redis

from multiflexi.core import (
    apps,
    audit,
    companies,
    config,
    housekeeping,
    jobs,
    lifecycle,
    runtemplates,
    scheduling,
)
from multiflexi.core.models import AuditEntry, Company, Job, JobOutputLine
from multiflexi.core.unit import transaction
from multiflexi.database import tables as t

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=30)
PRAGUE = ZoneInfo("Europe/Prague")


def counters(session) -> dict[int, int]:
    session.commit()  # a fresh look (PostgreSQL: a new snapshot)
    rows = session.execute(sa.select(t.job_counts.c.company_id, t.job_counts.c.total)).all()
    return {company_id: total for company_id, total in rows}


def real_counts(session) -> dict[int, int]:
    """``SELECT company_id, COUNT(*) FROM jobs GROUP BY company_id``, and 0 for the others."""
    session.commit()
    counted = dict(
        session.execute(sa.select(Job.company_id, sa.func.count()).group_by(Job.company_id)).all()
    )
    return {c: counted.get(c, 0) for c in session.scalars(sa.select(Company.id))}


def assert_exact(session) -> dict[int, int]:
    real = real_counts(session)
    assert counters(session) == real
    return real


def listed_total(session, **filters) -> int:
    """The total a job list reports, from a page that cannot tell it by itself."""
    page = jobs.list_jobs(session, limit=1, offset=1, **filters)
    return page.total


@pytest.fixture
def make_rt(session, app):
    def make(company, **settings):
        return runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=ACTOR,
            values={"ENDPOINT": "https://erp.example"},
            **settings,
        )

    return make


@pytest.fixture
def acme(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def globex(session):
    return companies.create(session, name="Globex", actor=ACTOR)


def no_redis() -> Redis:
    """A Redis nobody listens on: a launch then leaves the job queued in the database."""
    return Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)


def launch(session, rt, **kwargs):
    kwargs.setdefault("redis", no_redis())
    return jobs.launch(session, rt.id, actor=ACTOR, **kwargs)


def finished(session, rt, state="success"):
    job = launch(session, rt)
    assert jobs.claim(session, job.id, worker="w", lease=LEASE)
    session.add(JobOutputLine(job_id=job.id, seq=1, stream="stdout", text="done"))
    session.commit()
    assert jobs.finish(session, job.id, state, exit_code=0 if state == "success" else 1)
    return job.id


def test_a_new_company_starts_at_zero_and_launches_count(session, make_rt, acme, globex):
    assert counters(session) == {acme.id: 0, globex.id: 0}
    rt_a, rt_g = make_rt(acme), make_rt(globex)
    for _ in range(3):
        launch(session, rt_a)
    launch(session, rt_g, at=jobs.now() + dt.timedelta(hours=1))  # scheduled for later
    assert assert_exact(session) == {acme.id: 3, globex.id: 1}


def test_a_refused_launch_counts_nothing(session, make_rt, acme):
    rt = make_rt(acme)
    launch(session, rt)
    with pytest.raises(Exception, match="not an environment variable name"):
        launch(session, rt, overrides={"NOT VALID": "x"})
    assert assert_exact(session) == {acme.id: 1}


def test_the_scheduler_counts_planned_and_missed_jobs(session, make_rt, acme, globex, redis):
    daily = make_rt(acme, interval_code="d", delay=7200, timezone="Europe/Prague")
    daily.last_schedule = dt.datetime(2024, 3, 1, 2, 0, tzinfo=PRAGUE)
    hourly = make_rt(globex, interval_code="h")
    hourly.last_schedule = dt.datetime(2024, 3, 4, 10, 0, tzinfo=PRAGUE)
    session.commit()
    now = dt.datetime(2024, 3, 4, 15, 0, tzinfo=PRAGUE)

    result = scheduling.plan(session, now)

    assert result.missed == 2 + 4  # Acme: 2 and 3 March; Globex: 11:00 to 14:00
    assert assert_exact(session) == {acme.id: 3, globex.id: 5}
    assert sorted(scheduling.deliver_due(session, redis, now)) == sorted(result.planned)
    assert scheduling.plan(session, now).planned == []  # nothing new: counts unchanged
    assert assert_exact(session) == {acme.id: 3, globex.id: 5}


def test_a_retry_is_counted(session, make_rt, acme):
    rt = make_rt(acme, max_attempts=3, retry_backoff="fixed", retry_min_gap=0)
    job = launch(session, rt)
    assert lifecycle.start(session, job.id, worker="w", lease=LEASE) is lifecycle.Start.RUNNING
    outcome = lifecycle.conclude(session, job.id, exit_code=1, redis=no_redis())
    assert outcome.retry_job_id is not None
    assert assert_exact(session) == {acme.id: 2}


def test_a_chained_launch_is_counted_in_the_target_company(session, make_rt, acme, globex):
    # what the executor's chain action does: create the job of another run template
    first, target = make_rt(acme), make_rt(globex)
    parent = launch(session, first)
    with transaction(session):
        jobs.create(
            session,
            target,
            scheduled_at=jobs.now(),
            schedule_type="chained",
            actor=ACTOR,
            parent_job_id=parent.id,
        )
    assert assert_exact(session) == {acme.id: 1, globex.id: 1}


def test_deleting_a_job_and_pruning_uncount_what_went(session, make_rt, acme, globex):
    rt_a, rt_g = make_rt(acme), make_rt(globex)
    done_a = [finished(session, rt_a) for _ in range(3)]
    done_g = [finished(session, rt_g, "failed") for _ in range(2)]
    later = launch(session, rt_a, at=jobs.now() + dt.timedelta(hours=1))
    assert assert_exact(session) == {acme.id: 4, globex.id: 2}

    housekeeping.delete_job(session, done_a[0], actor=ACTOR)
    housekeeping.delete_job(session, later.id, actor=ACTOR)
    assert assert_exact(session) == {acme.id: 2, globex.id: 2}

    result = housekeeping.prune(session, actor=ACTOR, keep=1)  # keeps the newest finished one
    assert result.jobs_deleted == 3
    assert assert_exact(session) == {acme.id: 0, globex.id: 1}
    assert listed_total(session) == 1 and done_g[-1] in [
        j.id for j in jobs.list_jobs(session).items
    ]


def test_prune_of_output_only_and_dry_run_keep_the_counts(session, make_rt, acme):
    rt = make_rt(acme)
    for _ in range(3):
        finished(session, rt)
    housekeeping.prune(session, actor=ACTOR, keep=0, dry_run=True)
    housekeeping.prune(session, actor=ACTOR, keep=0, output_only=True)
    assert assert_exact(session) == {acme.id: 3}


def test_deleting_run_templates_applications_and_companies_uncounts_their_jobs(
    session, make_rt, app, acme, globex
):
    rt_a1, rt_a2, rt_g = make_rt(acme), make_rt(acme, name="second"), make_rt(globex)
    for rt, number in ((rt_a1, 2), (rt_a2, 3), (rt_g, 4)):
        for _ in range(number):
            finished(session, rt)
    assert assert_exact(session) == {acme.id: 5, globex.id: 4}

    runtemplates.delete(session, rt_a1.id, actor=ACTOR)
    assert assert_exact(session) == {acme.id: 3, globex.id: 4}

    companies.delete(session, globex.id, actor=ACTOR)
    assert assert_exact(session) == {acme.id: 3}  # the counter row went with the company
    assert listed_total(session) == 3

    other = apps.get(session, app.id)
    assert apps.delete(session, other.id, actor=ACTOR, force=True) == 1
    assert assert_exact(session) == {acme.id: 0}


def test_unassigning_an_application_uncounts_the_jobs_of_its_run_templates(
    session, app, acme, globex
):
    rt, _new = companies.assign_application(session, acme.id, app.id, actor=ACTOR)
    runtemplates.set_values(session, rt.id, {"ENDPOINT": "https://erp.example"}, actor=ACTOR)
    for _ in range(2):
        finished(session, rt)
    assert companies.unassign_application(session, acme.id, app.id, actor=ACTOR) == 1
    assert assert_exact(session) == {acme.id: 0, globex.id: 0}


def test_a_company_inserted_behind_the_cores_back_gets_an_exact_counter(session, make_rt):
    stranger = Company(name="Stranger", slug="stranger")
    session.add(stranger)
    session.commit()
    rt = make_rt(stranger)
    # two jobs written directly (a restore, another tool), then one launch through the core
    for _ in range(2):
        session.execute(
            sa.insert(t.jobs).values(
                run_template_id=rt.id,
                company_id=stranger.id,
                application_id=rt.application_id,
                scheduled_at=jobs.now(),
            )
        )
    session.commit()
    assert counters(session) == {}
    assert listed_total(session) == 2  # no counter row: the total counts the jobs
    launch(session, rt)
    assert assert_exact(session) == {stranger.id: 3}


def test_list_totals_equal_the_real_counts_for_every_scope(session, make_rt, acme, globex):
    initech = companies.create(session, name="Initech", actor=ACTOR)
    rt_a, rt_g = make_rt(acme), make_rt(globex)
    for _ in range(4):
        launch(session, rt_a)
    for _ in range(3):
        finished(session, rt_g)
    real = assert_exact(session)

    assert listed_total(session) == 7
    assert listed_total(session, company_id=acme.id) == real[acme.id] == 4
    assert listed_total(session, company_ids={globex.id, initech.id}) == 3
    assert listed_total(session, company_id=acme.id, company_ids={acme.id, globex.id}) == 4
    assert listed_total(session, company_id=acme.id, company_ids={globex.id}) == 0
    assert listed_total(session, company_ids=set()) == 0
    # other filters are still counted from the jobs
    assert listed_total(session, state="success") == 3
    assert listed_total(session, state="queued", company_id=acme.id) == 4
    assert listed_total(session, run_template_id=rt_g.id) == 3
    assert listed_total(session, since=jobs.now() + dt.timedelta(days=1)) == 0
    # the first page of a short list is unchanged
    page = jobs.list_jobs(session, company_id=globex.id, limit=50)
    assert (page.total, len(page.items)) == (3, 3)


def test_recount_repairs_damaged_and_missing_counters_and_reports_them(
    session, make_rt, acme, globex
):
    initech = companies.create(session, name="Initech", actor=ACTOR)
    rt_a, rt_g = make_rt(acme), make_rt(globex)
    for _ in range(3):
        launch(session, rt_a)
    launch(session, rt_g)
    assert housekeeping.recount_jobs(session, actor=ACTOR) == {}
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "recount")
        )
        == 0
    )

    session.execute(
        sa.update(t.job_counts)
        .where(t.job_counts.c.company_id == acme.id)
        .values(total=t.job_counts.c.total + 40)
    )
    session.execute(sa.delete(t.job_counts).where(t.job_counts.c.company_id == initech.id))
    session.commit()
    assert listed_total(session) == 44  # what a damaged counter makes users see

    corrections = housekeeping.recount_jobs(session, actor=ACTOR)

    assert corrections == {acme.id: (43, 3), initech.id: (None, 0)}
    assert assert_exact(session) == {acme.id: 3, globex.id: 1, initech.id: 0}
    assert listed_total(session) == 4
    entry = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "recount")).one()
    assert entry.details == {
        "corrections": {
            str(acme.id): {"was": 43, "now": 3},
            str(initech.id): {"was": None, "now": 0},
        }
    }
    assert housekeeping.recount_jobs(session, actor=ACTOR) == {}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite serialises writers
def test_concurrent_launches_and_recounts_keep_one_companys_count_exact(
    engine, settings, make_rt, acme, session
):
    rt = make_rt(acme)
    threads_n, per_thread = 6, 15
    factory = config.session_factory(engine, settings)
    barrier = threading.Barrier(threads_n + 1)
    errors: list[BaseException] = []

    def launcher() -> None:
        try:
            with factory() as own:
                barrier.wait()
                for _ in range(per_thread):
                    jobs.launch(own, rt.id, actor=ACTOR, redis=no_redis())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def recounter() -> None:
        try:
            with factory() as own:
                barrier.wait()
                while not launched.is_set():
                    housekeeping.recount_jobs(own, actor=ACTOR)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    launched = threading.Event()
    launchers = [threading.Thread(target=launcher) for _ in range(threads_n)]
    recounting = threading.Thread(target=recounter)
    for worker in [*launchers, recounting]:
        worker.start()
    for worker in launchers:
        worker.join(timeout=120)
    launched.set()
    recounting.join(timeout=60)
    assert errors == []
    assert assert_exact(session) == {acme.id: threads_n * per_thread}
    assert listed_total(session) == threads_n * per_thread
    # nothing was wrong, so nothing was corrected, then or now
    assert housekeeping.recount_jobs(session, actor=ACTOR) == {}
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "recount")
        )
        == 0
    )
