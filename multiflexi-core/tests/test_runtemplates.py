"""Run templates: typed configuration, required fields, schedules, credential binding."""

import datetime as dt

import pytest
import sqlalchemy as sa

from multiflexi.core import audit, companies, credentials, jobenv, jobs, runtemplates
from multiflexi.core.errors import Conflict, MissingRequired, NotFound, ValidationError
from multiflexi.core.models import RunTemplate, RunTemplateValue
from multiflexi.core.testing import count, database_bytes

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


def make(session, company, app, **kwargs):
    kwargs.setdefault("values", {"ENDPOINT": "https://erp.example/api"})
    return runtemplates.create(session, company=company.id, app_id=app.id, actor=ACTOR, **kwargs)


def test_values_are_checked_per_field_with_one_error_each(session, company, app):
    with pytest.raises(ValidationError) as info:
        make(
            session,
            company,
            app,
            values={
                "ENDPOINT": "not a url",
                "LIMIT": "ten",
                "VERBOSE": "maybe",
                "NOTIFY": "nobody",
                "MODE": "slow",
                "UNKNOWN": "x",
            },
        )
    assert sorted(e.split(":")[0] for e in info.value.errors) == [
        "ENDPOINT",
        "LIMIT",
        "MODE",
        "NOTIFY",
        "UNKNOWN",
        "VERBOSE",
    ]
    assert count(session, RunTemplate) == 0


def test_values_are_normalised(session, company, app):
    rt = make(
        session,
        company,
        app,
        values={
            "ENDPOINT": "https://erp.example/api",
            "LIMIT": " 010 ",
            "VERBOSE": "Yes",
            "MODE": "fast",
        },
    )
    stored = jobenv.configured_values(session, rt)
    assert stored["LIMIT"] == ("10", False)
    assert stored["VERBOSE"] == ("true", False)


def test_required_field_is_enforced_on_activation_not_on_inactive_create(session, company, app):
    rt = make(session, company, app, values={}, active=False, interval_code="d")
    with pytest.raises(ValidationError, match="ENDPOINT: required"):
        runtemplates.set_active(session, rt.id, True, actor=ACTOR)
    assert runtemplates.get(session, rt.id).active is False
    runtemplates.set_values(session, rt.id, {"ENDPOINT": "https://x.example"}, actor=ACTOR)
    assert runtemplates.set_active(session, rt.id, True, actor=ACTOR).active is True


def test_active_run_template_cannot_lose_a_required_value(session, company, app):
    rt = make(session, company, app, interval_code="d")
    with pytest.raises(ValidationError, match="ENDPOINT: required"):
        runtemplates.set_values(session, rt.id, {"ENDPOINT": None}, actor=ACTOR)
    assert jobenv.configured_values(session, rt)["ENDPOINT"][0] == "https://erp.example/api"


def test_a_scheduled_run_template_needs_its_required_values_to_be_active(session, company, app):
    with pytest.raises(ValidationError, match="ENDPOINT: required"):
        make(session, company, app, values={}, interval_code="d")
    assert count(session, RunTemplate) == 0


def test_a_manual_run_template_is_active_without_them_and_each_launch_gives_them(
    session, company, app
):
    # interval n: only launched, never run by the scheduler; the launch supplies the value
    rt = make(session, company, app, values={})
    assert rt.active is True and rt.interval_code == "n"
    assert jobenv.missing_required(session, rt) == ["ENDPOINT"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with pytest.raises(MissingRequired) as info:
        jobs.launch(session, rt.id, actor=ACTOR, at=later)
    assert info.value.missing == ["ENDPOINT"]
    values = {"ENDPOINT": "https://x.example"}
    job = jobs.launch(session, rt.id, actor=ACTOR, overrides=values, at=later)
    assert job.state == "scheduled"
    # it cannot be given a schedule while the scheduler would lack the value
    with pytest.raises(ValidationError, match="ENDPOINT: required"):
        runtemplates.configure(session, rt.id, changes={"interval_code": "d"}, actor=ACTOR)
    assert runtemplates.get(session, rt.id).interval_code == "n"


def test_company_variable_satisfies_a_required_field(session, company, app):
    companies.set_variable(session, company.id, "ENDPOINT", "https://company.example", actor=ACTOR)
    rt = make(session, company, app, values={})
    assert jobenv.missing_required(session, rt) == []


def test_secret_value_is_sealed_and_blank_keeps_it(session, engine, company, app):
    rt = make(
        session,
        company,
        app,
        values={"ENDPOINT": "https://erp.example/api", "API_PASSWORD": "pa55-w0rd-xyz"},
    )
    row = session.query(RunTemplateValue).filter_by(name="API_PASSWORD").one()
    assert row.key_id is not None and "pa55-w0rd-xyz" not in row.value
    runtemplates.set_values(session, rt.id, {"API_PASSWORD": ""}, actor=ACTOR)
    assert jobenv.configured_values(session, rt)["API_PASSWORD"] == ("pa55-w0rd-xyz", True)
    assert b"pa55-w0rd-xyz" not in database_bytes(engine)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"interval_code": "c", "cron": "61 * * * *"}, "cron"),
        ({"interval_code": "q"}, "interval"),
        ({"timezone": "Mars/Olympus"}, "zone"),
        ({"delay": -5}, "delay"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"executor": "ssh"}, "executor"),
        ({"retry_backoff": "random"}, "retry_backoff"),
        ({"queue": "bad queue!"}, "queue"),
    ],
)
def test_bad_settings_are_refused(session, company, app, bad, field):
    with pytest.raises(ValidationError) as info:
        make(session, company, app, **bad)
    assert field in str(info.value).lower()
    assert count(session, RunTemplate) == 0


def test_preview_of_a_daily_schedule_in_its_zone(session, company, app):
    rt = make(session, company, app, interval_code="d", delay=7200, timezone="Europe/Prague")
    after = dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC)
    got = runtemplates.preview(session, rt.id, 3, after=after)
    # 02:00 Prague is 01:00 UTC in winter (CET) and 00:00 UTC in summer (CEST); on
    # 29 March 2026 the clocks jump from 02:00 to 03:00, so that day's run is at
    # 03:00 CEST, the first instant after midnight + 2 h
    assert got == [
        dt.datetime(2026, 3, 28, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 30, 0, 0, tzinfo=dt.UTC),
    ]


def test_changing_the_schedule_resets_next_schedule(session, company, app):
    rt = make(session, company, app, interval_code="h")
    rt.next_schedule = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    session.commit()
    runtemplates.update(session, rt.id, {"interval_code": "d"}, actor=ACTOR)
    assert runtemplates.get(session, rt.id).next_schedule is None


def test_inactive_run_template_cannot_be_launched(session, company, app):
    rt = make(session, company, app, active=False)
    with pytest.raises(Conflict, match="not active"):
        runtemplates.ensure_launchable(session, rt)


def test_launchable_reads_what_a_launch_needs_under_the_launch_rules(session, company, app):
    rt = make(session, company, app, queue="reports")
    row = runtemplates.launchable(session, rt.id)
    assert (row.id, row.company_id, row.application_id, row.executor, row.queue) == (
        rt.id,
        company.id,
        app.id,
        "native",
        "reports",
    )
    assert row.app_version == app.version == "1.0"
    runtemplates.set_active(session, rt.id, False, actor=ACTOR)
    with pytest.raises(Conflict, match=f"run template {rt.id} is not active"):
        runtemplates.launchable(session, rt.id)
    with pytest.raises(NotFound, match=f"run template {rt.id + 1} not found"):
        runtemplates.launchable(session, rt.id + 1)


def test_binding_replaces_a_credential_of_the_same_requirement(session, company, app):
    rt = make(session, company, app)
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="ERP login",
        actor=ACTOR,
        fields=[{"keyword": "ERP_USER"}, {"keyword": "ERP_PASSWORD", "type": "password"}],
    )
    ctype.prototype_code = "erp"
    session.commit()
    first = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="first",
        values={"ERP_USER": "a"},
        actor=ACTOR,
    )
    second = credentials.create(
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="second",
        values={"ERP_USER": "b"},
        actor=ACTOR,
    )
    runtemplates.bind_credential(session, rt.id, first.id, actor=ACTOR)
    runtemplates.bind_credential(session, rt.id, second.id, actor=ACTOR)
    assert [c.name for c in runtemplates.credentials(session, rt.id)] == ["second"]


def test_credential_of_another_company_cannot_be_bound(session, company, app):
    rt = make(session, company, app)
    other = companies.create(session, name="Other", actor=ACTOR)
    ctype = credentials.create_type(
        session, company=other.id, name="t", actor=ACTOR, fields=[{"keyword": "X"}]
    )
    foreign = credentials.create(
        session,
        company=other.id,
        credential_type_id=ctype.id,
        name="c",
        values={"X": "1"},
        actor=ACTOR,
    )
    with pytest.raises(NotFound):
        runtemplates.bind_credential(session, rt.id, foreign.id, actor=ACTOR)


def test_configure_is_all_or_nothing(session, company, app):
    rt = make(session, company, app, interval_code="h")
    with pytest.raises(ValidationError):
        runtemplates.configure(
            session,
            rt.id,
            actor=ACTOR,
            changes={"interval_code": "d", "delay": 60},
            values={"LIMIT": "5", "MODE": "not-a-mode"},
        )
    session.expire_all()
    again = runtemplates.get(session, rt.id)
    assert (again.interval_code, again.delay) == ("h", 0)
    assert "LIMIT" not in jobenv.configured_values(session, again)


def test_configure_changes_settings_values_and_activation_together(session, company, app):
    rt = make(session, company, app, values={}, active=False)
    runtemplates.configure(
        session,
        rt.id,
        actor=ACTOR,
        changes={"interval_code": "d"},
        values={"ENDPOINT": "https://x.example"},
        active=True,
    )
    again = runtemplates.get(session, rt.id)
    assert (again.interval_code, again.active) == ("d", True)
    entries = audit.entries(session, entity_type="run_template").items
    assert entries[0].action == "update"
    assert entries[0].details == {"changed": ["active", "interval_code"], "values": ["ENDPOINT"]}


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("+3h", "+3h"),
        ("+30m", "+30m"),
        ("+90s", "+90s"),
        ("+03h", "+3h"),
        ("08:00", "08:00"),
        ("8:05", "08:05"),
        (" 23:59 ", "23:59"),
        ("", None),
    ],
)
def test_a_deadline_offset_is_stored_in_the_form_the_schedule_reads(
    session, company, app, given, stored
):
    rt = make(session, company, app, deadline_offset=given)
    assert runtemplates.get(session, rt.id).deadline_offset == stored
    runtemplates.update(session, rt.id, {"deadline_offset": "+1h"}, actor=ACTOR)
    runtemplates.update(session, rt.id, {"deadline_offset": given}, actor=ACTOR)
    session.expire_all()
    assert runtemplates.get(session, rt.id).deadline_offset == stored


BAD_DEADLINE_OFFSETS = [
    ("zz", "is not a deadline offset: use +<n>h, +<n>m or +<n>s"),
    ("+3", "is not a deadline offset"),
    ("3h", "is not a deadline offset"),
    ("+3d", "is not a deadline offset"),
    ("+3 hours", "is not a deadline offset"),
    ("-1h", "is not a deadline offset"),
    ("08:00:00", "is not a deadline offset"),
    ("+0m", "is no time after the window starts"),
    ("+8785h", "is more than 366 days after the window starts"),
    ("24:00", "is not a time of day"),
    ("8:60", "is not a time of day"),
]


@pytest.mark.parametrize(("bad", "problem"), BAD_DEADLINE_OFFSETS)
def test_a_bad_deadline_offset_is_refused_on_create(session, company, app, bad, problem):
    with pytest.raises(ValidationError) as info:
        make(session, company, app, deadline_offset=bad)
    assert f"deadline_offset: {bad!r} {problem}" in str(info.value)
    assert count(session, RunTemplate) == 0


@pytest.mark.parametrize(("bad", "problem"), BAD_DEADLINE_OFFSETS)
def test_a_bad_deadline_offset_is_refused_on_update(session, company, app, bad, problem):
    rt = make(session, company, app, deadline_offset="+2h")
    with pytest.raises(ValidationError) as info:
        runtemplates.update(
            session, rt.id, {"deadline_offset": bad, "note": "changed"}, actor=ACTOR
        )
    assert f"deadline_offset: {bad!r} {problem}" in str(info.value)
    session.expire_all()
    again = runtemplates.get(session, rt.id)
    assert (again.deadline_offset, again.note) == ("+2h", None)


def test_a_deadline_offset_that_is_not_text_is_refused(session, company, app):
    with pytest.raises(ValidationError, match=r"deadline_offset: use \+<n>h"):
        make(session, company, app, deadline_offset=3)
    assert count(session, RunTemplate) == 0


def test_a_run_template_with_an_old_unreadable_deadline_offset_can_still_be_changed(
    session, company, app
):
    """A value stored before the check does not lock the run template: it can be paused,
    changed otherwise, and the offset corrected."""
    rt = make(session, company, app)
    session.execute(
        sa.update(RunTemplate).where(RunTemplate.id == rt.id).values(deadline_offset="zz")
    )
    session.commit()
    runtemplates.set_active(session, rt.id, False, actor=ACTOR)
    runtemplates.update(session, rt.id, {"deadline_offset": "07:30"}, actor=ACTOR)
    session.expire_all()
    again = runtemplates.get(session, rt.id)
    assert (again.active, again.deadline_offset) == (False, "07:30")


def test_a_second_run_template_of_the_same_name_is_refused_naming_the_first(session, company, app):
    first = make(session, company, app, name="nightly")
    with pytest.raises(Conflict) as info:
        make(session, company, app, name="nightly")
    assert str(info.value) == (
        f"run template 'nightly' of application probe already exists in company "
        f"{company.slug} (id {first.id}); choose another name or change that one"
    )
    assert count(session, RunTemplate) == 1
    other = make(session, company, app, name="hourly")
    with pytest.raises(Conflict, match=f"id {first.id}"):
        runtemplates.update(session, other.id, {"name": "nightly"}, actor=ACTOR)
    assert runtemplates.get(session, other.id).name == "hourly"
    # another company may use the name
    elsewhere = companies.create(session, name="Other", actor=ACTOR)
    assert make(session, elsewhere, app, name="nightly").name == "nightly"


def test_without_a_name_the_applications_name_is_numbered_when_taken(session, company, app):
    assert [make(session, company, app).name for _ in range(3)] == ["probe", "probe 2", "probe 3"]


def test_creating_says_when_it_assigned_the_application(session, company, app):
    first = make(session, company, app)
    assert first.assigned_application is True
    assert companies.is_assigned(session, company.id, app.id)
    assert make(session, company, app).assigned_application is False
