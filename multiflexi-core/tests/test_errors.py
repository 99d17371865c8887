"""Validation errors say which input each problem is about, as a form shows them.

Every refusal below is a representative bad input of one action; each test asserts
beside which field (the name the API's request uses) each message would be shown,
and that the one-line ``errors`` the API and the CLI print are what they were.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    apps,
    audit,
    companies,
    credentials,
    housekeeping,
    jobs,
    limits,
    runtemplates,
    schedules,
    tokens,
    users,
)
from multiflexi.core.errors import FieldError, MissingRequired, ValidationError, field_errors
from multiflexi.core.manifests import import_manifest, parse_manifest
from multiflexi.core.models import CredentialPrototype, CredentialPrototypeField, Job

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def database_url(tmp_path):
    """SQLite only: which field a refusal names does not depend on the database."""
    return f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


def refusal(call, *args, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value


def shown(exc: ValidationError) -> dict[str | None, list[str]]:
    """What a form shows: field -> messages beside it (None: above the form)."""
    beside: dict[str | None, list[str]] = {}
    for problem in exc.problems:
        if problem.field is not None and problem.field not in beside:
            beside[problem.field] = exc.for_field(problem.field)
    if exc.general():
        beside[None] = exc.general()
    return beside


# -- the error itself ---------------------------------------------------------------------


def test_a_problem_reads_as_field_colon_message_or_as_the_message_alone():
    assert FieldError("slug", "must not be empty").line == "slug: must not be empty"
    assert FieldError(None, "give a prototype").line == "give a prototype"
    assert str(FieldError("values.API_TOKEN", "required", "API_TOKEN")) == "API_TOKEN: required"
    assert FieldError("email", "'x' is not an email address", "").line == (
        "'x' is not an email address"
    )


def test_pairs_triples_and_plain_messages_become_field_errors():
    assert field_errors([("cron", "required"), ("values.A", "bad", "A"), "whole"]) == [
        FieldError("cron", "required"),
        FieldError("values.A", "bad", "A"),
        FieldError(None, "whole"),
    ]


def test_errors_and_message_are_derived_from_the_problems_in_order():
    exc = ValidationError(
        "run template not created",
        [("cron", "required"), ("values.LIMIT", "not a whole number", "LIMIT"), "no name"],
    )
    assert exc.errors == ["cron: required", "LIMIT: not a whole number", "no name"]
    assert exc.message == (
        "run template not created: cron: required; LIMIT: not a whole number; no name"
    )
    assert exc.summary == "run template not created"
    assert exc.for_field("cron") == ["required"]
    assert exc.for_field("values.LIMIT") == ["not a whole number"]
    assert exc.for_field("name") == []
    assert exc.general() == ["no name"]


def test_an_error_without_listed_problems_is_shown_beside_its_field_or_above_the_form():
    about_password = ValidationError("the password is too short", field="password")
    assert about_password.errors == []
    assert about_password.message == "the password is too short"
    assert about_password.for_field("password") == ["the password is too short"]
    assert about_password.general() == []
    assert about_password.placed() == [FieldError("password", "the password is too short", "")]
    whole = ValidationError("give either an expiry time or a lifetime, not both")
    assert whole.general() == ["give either an expiry time or a lifetime, not both"]
    assert whole.for_field("expires_at") == []


def test_missing_required_fields_are_values_or_one_time_overrides():
    activation = MissingRequired("run template not changed", ["ENDPOINT", "TOKEN"])
    assert activation.errors == ["ENDPOINT: required", "TOKEN: required"]
    assert activation.for_field("values.ENDPOINT") == ["required"]
    launch = MissingRequired("run template 1 cannot run", ["ENDPOINT"], "overrides")
    assert launch.errors == ["ENDPOINT: required"]
    assert launch.for_field("overrides.ENDPOINT") == ["required"]


# -- companies ----------------------------------------------------------------------------


def test_company_create_puts_each_problem_beside_name_slug_and_email(session):
    exc = refusal(companies.create, session, name=" ", slug="-bad", email="nobody", actor=ACTOR)
    assert shown(exc) == {
        "name": ["must not be empty"],
        "slug": [
            "'-bad' must be 1-64 characters of a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        ],
        "email": ["'nobody' is not an e-mail address"],
    }
    assert exc.errors[0] == "name: must not be empty"
    assert exc.errors[2] == "email: 'nobody' is not an e-mail address"


def test_company_update_names_the_unknown_property_and_lookups_their_input(session, company):
    exc = refusal(companies.update, session, company.id, {"colour": "red"}, actor=ACTOR)
    assert shown(exc) == {"colour": ["not a company property"]}
    assert shown(refusal(companies.get_by_ic, session, "  ")) == {"ic": ["must not be empty"]}


def test_company_variable_problems_are_beside_its_name_or_its_value(session, company):
    bad_name = refusal(companies.set_variable, session, company.id, "1X", "v", actor=ACTOR)
    assert shown(bad_name) == {"name": ["'1X' is not an environment variable name"]}
    too_large = refusal(
        companies.set_variable,
        session,
        company.id,
        "BIG",
        "x" * (limits.MAX_VALUE_BYTES + 1),
        actor=ACTOR,
    )
    assert list(shown(too_large)) == ["value"]
    assert too_large.errors == [f"BIG: {too_large.for_field('value')[0]}"]


# -- run templates ------------------------------------------------------------------------


def test_run_template_settings_are_each_beside_their_own_input(session, company, app):
    exc = refusal(
        runtemplates.create,
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        name="ok",
        interval_code="c",
        executor="ssh",
        max_attempts=0,
        queue="no spaces",
        timezone="Mars/Base",
        values={"ENDPOINT": "https://erp.example/api"},
    )
    beside = shown(exc)
    assert beside["cron"] == ["required when the interval is 'c' (custom)"]
    assert beside["executor"][0].startswith("must be one of native")
    assert beside["max_attempts"] == ["must be a whole number from 1 to 2147483647"]
    assert beside["queue"] == ["must be 1-64 characters of letters, digits, '-', '_' or '.'"]
    assert beside["timezone"] == ["unknown time zone 'Mars/Base'"]
    assert None not in beside
    assert "cron: required when the interval is 'c' (custom)" in exc.errors


def test_an_unknown_interval_is_beside_interval_code_and_reads_as_before(session, company, app):
    exc = refusal(
        runtemplates.create,
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        interval_code="fortnightly",
        values={"ENDPOINT": "https://erp.example/api"},
    )
    assert list(shown(exc)) == ["interval_code"]
    assert exc.errors[0].startswith("interval: unknown code 'fortnightly' (expected one of ")


def test_run_template_values_are_beside_values_dot_their_name(session, company, app):
    exc = refusal(
        runtemplates.create,
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example/api", "LIMIT": "ten", "UNKNOWN": "x"},
    )
    beside = shown(exc)
    assert sorted(beside) == ["values.LIMIT", "values.UNKNOWN"]
    assert beside["values.UNKNOWN"] == ["application probe has no such field"]
    assert "UNKNOWN: application probe has no such field" in exc.errors


def test_unknown_settings_and_a_bad_deadline_are_beside_their_names(session, company, app):
    unknown = refusal(
        runtemplates.create, session, company=company.id, app_id=app.id, actor=ACTOR, colour="red"
    )
    assert shown(unknown) == {"colour": ["not a run template setting"]}
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example/api"},
    )
    deadline = refusal(
        runtemplates.configure, session, rt.id, actor=ACTOR, changes={"deadline_offset": 5}
    )
    assert list(shown(deadline)) == ["deadline_offset"]


def test_scheduling_without_a_required_value_puts_it_beside_that_value(session, company, app):
    exc = refusal(
        runtemplates.create,
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        interval_code="d",
        values={},
    )
    assert isinstance(exc, MissingRequired)
    assert shown(exc) == {"values.ENDPOINT": ["required"]}
    assert exc.errors == ["ENDPOINT: required"]


# -- launches -----------------------------------------------------------------------------


@pytest.fixture
def run_template(session, company, app):
    return runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example/api"},
    )


def test_a_launch_puts_one_time_value_problems_beside_overrides_dot_name(session, run_template):
    exc = refusal(
        jobs.launch,
        session,
        run_template.id,
        actor=ACTOR,
        overrides={"1BAD": "x", "OK": "y", "2BAD": "z"},
    )
    assert shown(exc) == {
        "overrides.1BAD": ["not an environment variable name"],
        "overrides.2BAD": ["not an environment variable name"],
    }
    assert exc.errors == [
        "1BAD: not an environment variable name",
        "2BAD: not an environment variable name",
    ]
    # a value that is not text (a script's number) is a clear refusal, not a crash
    exc = refusal(jobs.launch, session, run_template.id, actor=ACTOR, overrides={"COUNT": 5})
    assert shown(exc) == {"overrides.COUNT": ["value must be text"]}
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    naive = refusal(jobs.launch, session, run_template.id, actor=ACTOR, at=dt.datetime(2030, 1, 1))
    assert shown(naive) == {"at": ["give a time with a time zone"]}


def test_a_launch_missing_a_required_field_asks_for_it_as_a_one_time_value(session, company, app):
    # a manual run template may be saved without it; its launch asks for it
    rt = runtemplates.create(session, company=company.id, app_id=app.id, actor=ACTOR, values={})
    exc = refusal(jobs.launch, session, rt.id, actor=ACTOR)
    assert isinstance(exc, MissingRequired)
    assert shown(exc) == {"overrides.ENDPOINT": ["required"]}
    assert exc.errors == ["ENDPOINT: required"]


def test_an_environment_too_large_is_about_the_whole_launch_and_names_the_variable():
    problems = limits.environment_errors([("BIG", "x" * (limits.MAX_VALUE_BYTES + 1))])
    exc = ValidationError("environment too large", problems)
    assert list(shown(exc)) == [None]
    assert exc.general()[0].startswith("BIG: is ")
    assert exc.general() == exc.errors


def test_a_job_list_filter_names_the_state(session):
    exc = refusal(jobs.list_jobs, session, state="sleeping")
    assert shown(exc) == {"state": ["unknown state 'sleeping'"]}


# -- credentials --------------------------------------------------------------------------


@pytest.fixture
def prototype(session):
    proto = CredentialPrototype(
        uuid="6ba7b810-9dad-11d1-80b4-00c04fd430c8", code="fio", name="Fio bank"
    )
    proto.fields.extend(
        [
            CredentialPrototypeField(
                keyword="FIO_TOKEN", type="password", required=True, position=0
            ),
            CredentialPrototypeField(keyword="FIO_URL", type="url", position=1),
        ]
    )
    session.add(proto)
    session.commit()
    return proto


def test_credential_type_problems_are_beside_name_fields_and_prototype(session, company):
    exc = refusal(
        credentials.create_type,
        session,
        company=company.id,
        name="",
        fields=[{"keyword": "1BAD"}],
        actor=ACTOR,
    )
    assert shown(exc) == {
        "name": ["must not be empty"],
        "fields.0.keyword": ["'1BAD' is not an environment variable name"],
        "prototype_id": ["give a prototype or at least one field"],
    }
    assert exc.errors == [
        "name: must not be empty",
        "fields: '1BAD' is not an environment variable name",
        "prototype: give a prototype or at least one field",
    ]


def test_credential_values_are_beside_values_dot_their_keyword(session, company, prototype):
    ctype = credentials.create_type(
        session, company=company.id, name="Fio", prototype_ref="fio", actor=ACTOR
    )
    exc = refusal(
        credentials.create,
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="main",
        values={"FIO_URL": "not a url", "OTHER": "x"},
        actor=ACTOR,
    )
    assert sorted(shown(exc)) == ["values.FIO_URL", "values.OTHER"]
    assert "OTHER: not a field of this credential type" in exc.errors
    missing = refusal(
        credentials.create,
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name="main",
        values={},
        actor=ACTOR,
    )
    assert shown(missing) == {"values.FIO_TOKEN": ["required"]}
    assert missing.errors == ["FIO_TOKEN: required"]
    unnamed = refusal(
        credentials.create,
        session,
        company=company.id,
        credential_type_id=ctype.id,
        name=" ",
        values={},
        actor=ACTOR,
    )
    assert shown(unnamed) == {"name": ["must not be empty"]}


# -- users and tokens ---------------------------------------------------------------------


def test_user_problems_are_beside_login_email_password_and_names(session):
    login = refusal(users.create, session, "no spaces", actor=ACTOR)
    assert list(shown(login)) == ["login"]
    assert login.errors == login.for_field("login")  # the line does not repeat the name
    email = refusal(users.create, session, "bob", email="nobody", actor=ACTOR)
    assert shown(email) == {"email": ["'nobody' is not an email address"]}
    assert email.errors == ["'nobody' is not an email address"]
    password = refusal(users.create, session, "bob", password="short", actor=ACTOR)
    assert password.errors == []
    assert list(shown(password)) == []
    assert password.for_field("password") == [password.message]
    assert password.message.startswith("the password is too short")
    name = refusal(users.create, session, "bob", first_name="x" * 500, actor=ACTOR)
    assert name.summary == "invalid first name"
    assert shown(name) == {"first_name": [name.errors[0]]}


def test_a_role_outside_the_known_ones_is_beside_role(session, company):
    user = users.create(session, "bob", actor=ACTOR)
    exc = refusal(users.grant, session, company.id, user.id, "owner", actor=ACTOR)
    assert list(shown(exc)) == ["role"]


def test_token_problems_are_beside_name_and_expiry(session):
    user = users.create(session, "bob", actor=ACTOR)
    name = refusal(tokens.create, session, user.id, " ", actor=ACTOR)
    assert shown(name) == {"name": ["1 to 255 characters"]}
    lifetime = refusal(
        tokens.create, session, user.id, "ci", actor=ACTOR, expires_in=dt.timedelta(0)
    )
    assert shown(lifetime) == {"expires_in": ["a token's lifetime must be positive"]}
    past = refusal(
        tokens.create,
        session,
        user.id,
        "ci",
        actor=ACTOR,
        expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    )
    assert shown(past) == {"expires_at": ["the expiry time is in the past"]}
    assert past.errors == ["the expiry time is in the past"]


# -- applications and their manifests -----------------------------------------------------


def manifest(**changes):
    doc = {
        "uuid": "0b6f2c9e-1d4a-4c1e-9f00-5a7e3c2d1b10",
        "name": "Statement Fetcher",
        "description": "Downloads bank statements",
        "executable": "statement-fetcher",
        "environment": {"API_TOKEN": {"type": "secret", "required": True}},
    }
    doc.update(changes)
    return doc


def test_a_manifest_violation_is_at_its_json_path(session):
    exc = refusal(
        parse_manifest,
        manifest(environment={"API_TOKEN": {"type": "colour"}}, executable=5),
    )
    beside = shown(exc)
    assert "environment.API_TOKEN.type" in beside
    assert "executable" in beside
    assert None not in beside
    line = next(e for e in exc.errors if e.startswith("environment.API_TOKEN.type: "))
    assert line == "environment.API_TOKEN.type: " + beside["environment.API_TOKEN.type"][0]


def test_a_violation_of_the_whole_manifest_is_general_and_reads_as_before():
    exc = refusal(parse_manifest, {"name": "x"})
    beside = shown(exc)
    assert beside[None]
    assert all(line.startswith("(document): ") for line in beside[None])


def test_a_manifest_that_does_not_fit_the_database_names_the_column(session):
    exc = refusal(
        import_manifest, session, manifest(homepage="https://x.example/" + "a" * 600), actor=ACTOR
    )
    assert list(shown(exc)) == ["homepage"]
    assert exc.errors == ["homepage: " + exc.for_field("homepage")[0]]


def test_an_application_change_names_the_setting(session, app):
    exc = refusal(apps.update, session, app.id, {"timeout": 0}, actor=ACTOR)
    assert list(shown(exc)) == ["timeout"]


# -- schedules and housekeeping -----------------------------------------------------------


def test_a_schedule_names_cron_delay_and_timezone():
    exc = refusal(schedules.Schedule, "d", cron="* * * * *", delay=-1, timezone="Nowhere")
    assert sorted(shown(exc)) == ["cron", "delay", "timezone"]


def test_pruning_names_keep_and_older_than_as_the_cli_and_api_call_them(session):
    keep = refusal(housekeeping.prune, session, keep=-1, actor=ACTOR)
    assert shown(keep) == {"keep": ["must be 0 or more"]}
    older = refusal(housekeeping.prune, session, older_than=dt.datetime(2020, 1, 1), actor=ACTOR)
    assert shown(older) == {"older_than": ["give a time with a time zone"]}
    assert older.errors == ["older than: give a time with a time zone"]
    nothing = refusal(housekeeping.prune, session, keep=None, actor=ACTOR)
    assert shown(nothing) == {None: ["give a number of jobs to keep or an age"]}
