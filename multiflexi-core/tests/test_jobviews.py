"""The job list's filters, a job's page data, its output as text and running it again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from multiflexi.core import audit, companies, jobenv, jobs, jobviews, lifecycle, runtemplates
from multiflexi.core.access import Principal
from multiflexi.core.errors import NotFound, PermissionDenied, ValidationError
from multiflexi.core.jobviews import JobFilter
from multiflexi.core.models import Application, Job

ADMIN = audit.Actor("root", source="test", is_admin=True)
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def setting(session, app):
    """Two companies, two applications, run templates and jobs of every trigger."""
    other_app = Application(name="other", executable="/bin/true", version="2")
    session.add(other_app)
    session.commit()
    a = companies.create(session, name="Alpha", actor=ADMIN)
    b = companies.create(session, name="Beta", actor=ADMIN)
    values = {"ENDPOINT": "https://erp.example"}
    rt_a = runtemplates.create(
        session, company=a.id, app_id=app.id, actor=ADMIN, name="sync a", values=values
    )
    rt_a2 = runtemplates.create(
        session, company=a.id, app_id=other_app.id, actor=ADMIN, name="other a"
    )
    rt_b = runtemplates.create(
        session, company=b.id, app_id=app.id, actor=ADMIN, name="sync b", values=values
    )
    made: dict[str, Job] = {}
    plan = [
        ("web", rt_a, "adhoc-web", "alice", NOW - dt.timedelta(days=3)),
        ("api", rt_a, "adhoc-api", "alice", NOW - dt.timedelta(days=2)),
        ("cron", rt_a, "daily", "scheduler", NOW - dt.timedelta(days=1)),
        ("cli", rt_a2, "adhoc-cli", "cli:ops", NOW - dt.timedelta(hours=5)),
        ("chain", rt_b, "chained", "system", NOW - dt.timedelta(hours=1)),
    ]
    for key, rt, schedule_type, who, at in plan:
        job = jobs.create(
            session,
            rt,
            scheduled_at=at,
            schedule_type=schedule_type,
            actor=audit.Actor(who, source="test"),
        )
        session.commit()
        made[key] = job
    made["cron"].state = "failed"
    made["cron"].exit_code = 2
    session.commit()
    return {
        "a": a,
        "b": b,
        "rt_a": rt_a,
        "rt_a2": rt_a2,
        "rt_b": rt_b,
        "app": app,
        "other_app": other_app,
        "jobs": made,
    }


def _ids(page) -> list[int]:
    return [row.job.id for row in page.items]


def _search(session, actor=ADMIN, **filters):
    return jobviews.search(session, actor, JobFilter(**filters))


def test_each_filter_narrows_the_list_and_they_combine(session, setting):
    j = setting["jobs"]
    assert _ids(_search(session)) == [j[k].id for k in ("chain", "cli", "cron", "api", "web")]
    assert _ids(_search(session, company_id=setting["b"].id)) == [j["chain"].id]
    assert _ids(_search(session, application_id=setting["other_app"].id)) == [j["cli"].id]
    assert _ids(_search(session, run_template_id=setting["rt_a"].id)) == [
        j["cron"].id,
        j["api"].id,
        j["web"].id,
    ]
    assert _ids(_search(session, launched_by="alice")) == [j["api"].id, j["web"].id]
    assert _ids(_search(session, trigger="scheduler")) == [j["cron"].id]
    assert _ids(_search(session, trigger="manual")) == [j["web"].id]
    assert _ids(_search(session, trigger="action")) == [j["chain"].id]
    assert _ids(_search(session, states=("failed",))) == [j["cron"].id]
    window = {"since": NOW - dt.timedelta(days=2, hours=1), "until": NOW - dt.timedelta(hours=2)}
    assert _ids(_search(session, **window)) == [j["cli"].id, j["cron"].id, j["api"].id]
    combined = _search(
        session, company_id=setting["a"].id, launched_by="alice", trigger="api", **window
    )
    assert _ids(combined) == [j["api"].id]
    assert combined.total == 1


def test_rows_carry_names_read_in_one_query_whatever_the_page_size(session, setting, engine):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        page = _search(session)
        many = len(statements)
        statements.clear()
        _search(session, company_id=setting["b"].id)
        few = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert many == few, "the number of queries does not grow with the number of rows"
    first = page.items[0]
    assert (first.run_template, first.application, first.company) == ("sync b", "probe", "Beta")
    assert first.trigger == "action"


def test_a_bad_filter_value_names_its_field_and_another_tenant_is_unknown(session, setting):
    viewer = Principal(name="bob", user_id=99, roles={setting["b"].id: "viewer"})
    cases = [
        (dict(states=("sleeping",)), "state"),
        (dict(trigger="moon"), "trigger"),
        (dict(company_id=setting["a"].id), "company"),  # not bob's
        (dict(run_template_id=setting["rt_a"].id), "run_template"),
        (dict(application_id=424242), "application"),
        (dict(since=NOW, until=NOW - dt.timedelta(hours=1)), "until"),
        (dict(since=dt.datetime(2026, 1, 1)), "since"),
    ]
    for filters, field in cases:
        with pytest.raises(ValidationError) as refused:
            _search(session, viewer, **filters)
        assert [p.field for p in refused.value.problems] == [field], filters
    # bob sees company B's job only, never A's
    assert _ids(_search(session, viewer)) == [setting["jobs"]["chain"].id]


def test_paging_is_newest_first_with_the_total(session, setting):
    first = jobviews.search(session, ADMIN, JobFilter(), limit=2, offset=0)
    second = jobviews.search(session, ADMIN, JobFilter(), limit=2, offset=2)
    assert first.total == second.total == 5
    assert _ids(first) + _ids(second) == _ids(_search(session))[:4]


def test_a_job_page_has_names_neighbours_meaning_and_actions_by_role(session, setting):
    j = setting["jobs"]
    detail = jobviews.detail(session, ADMIN, j["api"].id)
    assert (detail.run_template, detail.application, detail.company) == ("sync a", "probe", "Alpha")
    assert (detail.previous_id, detail.next_id) == (j["web"].id, j["cron"].id)
    assert detail.trigger == "api" and detail.can_cancel and detail.can_change
    viewer = Principal(name="vic", user_id=98, roles={setting["a"].id: "viewer"})
    seen = jobviews.detail(session, viewer, j["cron"].id)
    assert not seen.can_change and not seen.can_cancel and not seen.can_relaunch
    stranger = Principal(name="eve", user_id=97, roles={setting["b"].id: "admin"})
    with pytest.raises(NotFound):
        jobviews.detail(session, stranger, j["api"].id)
    with pytest.raises(PermissionDenied):
        jobviews.cancel(session, viewer, j["api"].id)
    assert session.get(Job, j["api"].id).state == "scheduled"


def test_the_exit_code_meaning_comes_from_the_manifest(session, setting):
    from multiflexi.core.models import ApplicationExitCode

    session.add(
        ApplicationExitCode(
            application_id=setting["app"].id,
            exit_code=2,
            lang="en",
            description="nothing to import",
            severity="warning",
            retry=False,
        )
    )
    session.commit()
    detail = jobviews.detail(session, ADMIN, setting["jobs"]["cron"].id)
    assert detail.exit_meaning == "nothing to import"
    assert detail.severity == "warning"


def test_the_whole_output_as_text_marks_stderr(session, setting):
    job = setting["jobs"]["api"]
    lines = [("stdout", f"line {n}") for n in range(1, 8)] + [("stderr", "went wrong")]
    lifecycle.store_output(session, job.id, 1, lines)
    jobviews.OUTPUT_BATCH, saved = 3, jobviews.OUTPUT_BATCH
    try:
        text = "".join(jobviews.output_text(session, ADMIN, job.id))
    finally:
        jobviews.OUTPUT_BATCH = saved
    assert text == "".join(f"line {n}\n" for n in range(1, 8)) + "[stderr] went wrong\n"
    stranger = Principal(name="eve", user_id=97, roles={setting["b"].id: "admin"})
    with pytest.raises(NotFound):
        jobviews.output_text(session, stranger, job.id)


def test_running_again_keeps_the_one_time_values_secret_ones_sealed(session, setting, redis):
    rt = setting["rt_a"]
    first = jobs.launch(
        session,
        rt.id,
        actor=ADMIN,
        at=NOW + dt.timedelta(days=1),
        overrides={"API_PASSWORD": "s3cret-once", "REPORT_NAME": "monthly"},
        secret_overrides=["API_PASSWORD"],
    )
    detail = jobviews.detail(session, ADMIN, first.id)
    assert detail.one_time_values == [("API_PASSWORD", True), ("REPORT_NAME", False)]
    again = jobviews.relaunch(session, ADMIN, first.id, schedule_type="adhoc-web", redis=redis)
    assert again.id != first.id and again.run_template_id == rt.id
    assert again.state == "queued" and again.schedule_type == "adhoc-web"
    assert jobenv.overrides_of(session, again) == (
        {"API_PASSWORD": "s3cret-once", "REPORT_NAME": "monthly"},
        {"API_PASSWORD"},
    )
    stored = session.execute(sa.select(Job.overrides).where(Job.id == again.id)).scalar_one()
    assert "s3cret-once" not in stored
    viewer = Principal(name="vic", user_id=98, roles={setting["a"].id: "viewer"})
    with pytest.raises(PermissionDenied):
        jobviews.relaunch(session, viewer, first.id)
