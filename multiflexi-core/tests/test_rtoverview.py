"""What the faces show of run templates at a glance, and cloning a run template."""

import contextlib
import datetime as dt

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    audit,
    companies,
    credentials,
    jobenv,
    jobs,
    manifests,
    rtoverview,
    runtemplates,
)
from multiflexi.core.errors import Conflict, ValidationError
from multiflexi.core.models import Job, RunTemplateAction
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")
LATER = dt.datetime(2040, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


def make(session, company, app, name, **kwargs):
    kwargs.setdefault("values", {"ENDPOINT": "https://erp.example/api"})
    return runtemplates.create(
        session, company=company.id, app_id=app.id, actor=ACTOR, name=name, **kwargs
    )


def ran(session, rt, state, exit_code=None, finished=None):
    """A job of the run template that ended in ``state``."""
    job = jobs.launch(session, rt.id, actor=ACTOR, at=LATER)
    job.state = state
    job.exit_code = exit_code
    job.finished_at = finished
    session.commit()
    return job


@contextlib.contextmanager
def statements(session):
    """Count the SQL statements the session's engine runs inside the block."""
    seen: list[str] = []
    engine = session.get_bind()

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def test_recent_outcomes_are_the_last_runs_of_each_newest_first_in_one_statement(
    session, company, app
):
    first = make(session, company, app, "first")
    second = make(session, company, app, "second")
    idle = make(session, company, app, "idle")
    made = [ran(session, first, "failed" if n % 2 else "success", n % 2) for n in range(25)]
    ran(session, second, "blocked", 75)
    jobs.launch(session, second.id, actor=ACTOR, at=LATER)  # not due yet: not a run
    ids = [first.id, second.id, idle.id]
    newest = [j.id for j in reversed(made)][:20]
    session.expire_all()
    with statements(session) as seen:
        found = rtoverview.recent_outcomes(session, ids, n=20)
    assert len(seen) == 1
    assert [o.job_id for o in found[first.id]] == newest
    assert found[first.id][0].state == "success" and found[first.id][0].exit_code == 0
    assert [(o.state, o.exit_code) for o in found[second.id]] == [("blocked", 75)]
    assert found[idle.id] == []
    assert rtoverview.recent_outcomes(session, []) == {}


def test_the_overview_reads_a_page_in_a_fixed_number_of_statements(session, company, app):
    made = [make(session, company, app, f"rt {n}", interval_code="d") for n in range(6)]
    for rt in made:
        ran(session, rt, "success", 0)
    session.expire_all()
    with statements(session) as few:
        small = rtoverview.overview(session, limit=2)
    session.expire_all()
    with statements(session) as many:
        large = rtoverview.overview(session, limit=6)
    assert len(small.items) == 2 and len(large.items) == 6
    assert len(many) == len(few)  # no statement per row
    summary = large.items[0]
    assert summary.application == app.name and summary.company == "Acme"
    assert summary.schedule == "every day at 00:00 (Europe/Prague)"
    assert summary.next_run is not None and summary.next_run > dt.datetime.now(dt.UTC)
    assert [o.state for o in summary.outcomes] == ["success"]


def test_the_overview_shows_only_the_visible_companies_and_no_next_run_when_inactive(
    session, company, app
):
    other = companies.create(session, name="Other", actor=ACTOR)
    make(session, company, app, "mine", interval_code="h", active=False)
    make(session, other, app, "theirs")
    page = rtoverview.overview(session, company_ids={company.id})
    assert [s.run_template.name for s in page.items] == ["mine"]
    assert page.items[0].next_run is None


def test_the_preview_of_a_schedule_being_edited(session):
    after = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    text, times = rtoverview.preview_schedule(
        session, interval_code="daily", delay=7200, timezone="UTC", count=3, after=after
    )
    assert text == "every day at 02:00 (UTC)"
    assert [t.isoformat() for t in times] == [
        "2026-03-29T02:00:00+00:00",
        "2026-03-30T02:00:00+00:00",
        "2026-03-31T02:00:00+00:00",
    ]
    # no zone: the installation's (MULTIFLEXI_TIMEZONE)
    text, _ = rtoverview.preview_schedule(session, interval_code="h", count=1)
    assert text == "every hour at :00"
    text, _ = rtoverview.preview_schedule(session, interval_code="d", count=1)
    assert text == "every day at 00:00 (Europe/Prague)"
    with pytest.raises(ValidationError) as refused:
        rtoverview.preview_schedule(session, interval_code="c", cron="61 * * * *")
    assert refused.value.for_field("cron")
    with pytest.raises(ValidationError) as zone:
        rtoverview.preview_schedule(session, interval_code="d", timezone="Mars/Olympus")
    assert zone.value.for_field("timezone")


def test_details_say_a_secret_is_stored_without_its_value(session, company, app):
    rt = make(
        session,
        company,
        app,
        "with secret",
        values={"ENDPOINT": "https://erp.example/api", "API_PASSWORD": "PLANTED-s3cret"},
    )
    found = rtoverview.details(session, rt)
    assert found.stored == {"ENDPOINT": "https://erp.example/api", "API_PASSWORD": None}
    assert found.missing == []
    assert found.jobs.items == [] and found.credentials == []


@pytest.fixture
def prototype(session):
    return manifests.import_credential_prototype(
        session,
        {
            "uuid": "6f1c1a4e-0000-4000-8000-00000000c009",
            "code": "erp_api",
            "name": "ERP API",
            "version": "1.0",
            "fields": [{"keyword": "ERP_URL", "type": "url", "name": "URL"}],
        },
        actor=ACTOR,
    )


def test_credential_choices_offer_the_company_credentials_of_each_required_kind(
    session, company, app, prototype
):
    app.requirements = ["erp_api"]
    session.commit()
    ctype = credentials.create_type(
        session, company=company.id, name="erp", actor=ACTOR, prototype_ref=prototype.prototype_id
    )
    good = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="erp login",
        values={"ERP_URL": "https://erp.example"},
        actor=ACTOR,
    )
    other = companies.create(session, name="Other", actor=ACTOR)
    foreign_type = credentials.create_type(
        session, company=other.id, name="erp", actor=ACTOR, prototype_ref=prototype.prototype_id
    )
    credentials.create(
        session,
        company=other.id,
        credential_type_id=foreign_type.id,
        name="not theirs",
        values={"ERP_URL": "https://erp.example"},
        actor=ACTOR,
    )
    rt = make(session, company, app, "needs erp")
    (requirement,) = rtoverview.credential_choices(session, rt)
    assert requirement.code == "erp_api" and not requirement.satisfied
    assert [c.credential.name for c in requirement.candidates] == ["erp login"]
    assert requirement.candidates[0].status.availability.state in ("available", "unknown")
    runtemplates.bind_credential(session, rt.id, good.id, actor=ACTOR)
    (requirement,) = rtoverview.credential_choices(session, runtemplates.get(session, rt.id))
    assert requirement.satisfied and requirement.candidates[0].bound


def test_a_clone_copies_everything_and_starts_inactive(session, company, app):
    rt = make(
        session,
        company,
        app,
        "nightly",
        interval_code="d",
        delay=3600,
        max_attempts=3,
        values={"ENDPOINT": "https://erp.example/api", "API_PASSWORD": "PLANTED-s3cret"},
    )
    session.add(
        RunTemplateAction(
            run_template_id=rt.id,
            mode="success",
            action="webhook",
            options={"url": "https://hook.example"},
            enabled=True,
            position=0,
        )
    )
    session.commit()
    copy = runtemplates.clone(session, rt.id, actor=ACTOR)
    assert copy.name == "nightly (copy)" and copy.active is False
    assert (copy.interval_code, copy.delay, copy.max_attempts) == ("d", 3600, 3)
    assert jobenv.configured_values(session, copy) == jobenv.configured_values(session, rt)
    assert [(a.mode, a.action, a.options) for a in copy.actions] == [
        ("success", "webhook", {"url": "https://hook.example"})
    ]
    again = runtemplates.clone(session, rt.id, actor=ACTOR)
    assert again.name == "nightly (copy) 2"
    named = runtemplates.clone(session, rt.id, actor=ACTOR, name="weekly")
    assert named.name == "weekly"
    with pytest.raises(Conflict):
        runtemplates.clone(session, rt.id, actor=ACTOR, name="nightly")
    assert count(session, Job) == 0
