"""Value and environment sizes: too large is refused when given, and a launch that
would start a process with too large an environment is refused, not left to fail."""

import pytest

from multiflexi.core import audit, companies, credentials, environment, jobs, runtemplates
from multiflexi.core.errors import ValidationError
from multiflexi.core.limits import MAX_ENVIRONMENT_BYTES, MAX_VALUE_BYTES
from multiflexi.core.models import Job
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")
#: the largest value accepted, and one byte more (in UTF-8: "é" is two bytes)
FITS = "x" * MAX_VALUE_BYTES
TOO_LARGE = "x" * (MAX_VALUE_BYTES - 1) + "é"


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def rt(session, app, company):
    return runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example"},
    )


def _stored(session, rt_id: int) -> dict[str, str]:
    session.expire_all()
    return {v.name: v.value for v in runtemplates.get(session, rt_id).values}


def test_a_configuration_value_too_large_is_refused_and_nothing_changes(session, rt):
    with pytest.raises(ValidationError) as info:
        runtemplates.set_values(
            session, rt.id, {"REPORT_NAME": TOO_LARGE, "LIMIT": "3"}, actor=ACTOR
        )
    assert info.value.errors == [
        f"REPORT_NAME: is {MAX_VALUE_BYTES + 1} bytes; a value may be at most "
        f"{MAX_VALUE_BYTES} bytes"
    ]
    assert _stored(session, rt.id) == {"ENDPOINT": "https://erp.example"}
    runtemplates.set_values(session, rt.id, {"REPORT_NAME": FITS}, actor=ACTOR)
    assert _stored(session, rt.id)["REPORT_NAME"] == FITS


def test_a_company_variable_too_large_is_refused(session, company):
    with pytest.raises(ValidationError, match=f"at most {MAX_VALUE_BYTES} bytes") as info:
        companies.set_variable(session, company.id, "BIG", TOO_LARGE, actor=ACTOR)
    assert info.value.errors[0].startswith("BIG: ")
    session.expire_all()
    assert companies.variable_values(session, company.id) == {}
    companies.set_variable(session, company.id, "BIG", FITS, actor=ACTOR)
    assert companies.variable_values(session, company.id) == {"BIG": (FITS, False)}


def test_a_credential_value_too_large_is_refused(session, company):
    ctype = credentials.create_type(
        session,
        company=company.id,
        name="ERP",
        actor=ACTOR,
        fields=[{"keyword": "ERP_TOKEN", "type": "password"}],
    )
    with pytest.raises(ValidationError, match="ERP_TOKEN: is 65537 bytes"):
        credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name="main",
            values={"ERP_TOKEN": TOO_LARGE},
            actor=ACTOR,
        )
    assert credentials.list_credentials(session).total == 0


def test_a_one_time_value_too_large_launches_nothing(session, rt, redis):
    with pytest.raises(ValidationError, match="NOTE: is 65537 bytes"):
        jobs.launch(session, rt.id, actor=ACTOR, overrides={"NOTE": TOO_LARGE}, redis=redis)
    many = {f"NOTE_{i}": FITS for i in range(MAX_ENVIRONMENT_BYTES // MAX_VALUE_BYTES)}
    with pytest.raises(ValidationError, match=f"at most {MAX_ENVIRONMENT_BYTES} bytes"):
        jobs.launch(session, rt.id, actor=ACTOR, overrides=many, redis=redis)
    assert count(session, Job) == 0


def test_a_launch_whose_whole_environment_is_too_large_is_refused(session, rt, company, redis):
    # every value fits, together they do not: 10 company variables and 7 one-time values
    for i in range(10):
        companies.set_variable(session, company.id, f"PART_{i}", FITS, actor=ACTOR)
    overrides = {f"ONCE_{i}": FITS for i in range(7)}
    with pytest.raises(ValidationError, match="job not launched") as info:
        jobs.launch(session, rt.id, actor=ACTOR, overrides=overrides, redis=redis)
    assert info.value.errors[-1].startswith("the environment is ")
    assert count(session, Job) == 0
    # with fewer one-time values the same run template launches
    job = jobs.launch(session, rt.id, actor=ACTOR, overrides={"ONCE": FITS}, redis=redis)
    assert job.state == "queued"


def test_a_macro_that_grows_a_value_past_the_limit_refuses_the_launch(session, rt, redis):
    half = "y" * (MAX_VALUE_BYTES // 2 + 1)
    runtemplates.set_values(session, rt.id, {"REPORT_NAME": "{ENDPOINT}"}, actor=ACTOR)
    jobs.launch(session, rt.id, actor=ACTOR, redis=redis)  # small once expanded: launches
    with pytest.raises(ValidationError) as info:
        jobs.launch(
            session,
            rt.id,
            actor=ACTOR,
            overrides={"ENDPOINT": half, "REPORT_NAME": "{ENDPOINT}{ENDPOINT}"},
            redis=redis,
        )
    assert info.value.errors == [
        f"REPORT_NAME: is {2 * len(half)} bytes; a value may be at most {MAX_VALUE_BYTES} bytes "
        "(after its {VAR} macros are expanded)"
    ]
    assert count(session, Job) == 1


def test_the_assembled_environment_is_checked_where_the_worker_builds_it():
    with pytest.raises(ValidationError, match="environment too large"):
        environment.assemble(company={"A": FITS}, runtemplate={"B": "{A}{A}"})
    big = {f"V{i}": FITS for i in range(MAX_ENVIRONMENT_BYTES // MAX_VALUE_BYTES)}
    with pytest.raises(ValidationError, match=f"at most {MAX_ENVIRONMENT_BYTES} bytes"):
        environment.assemble(company=big)
    assert len(environment.assemble(company={"A": FITS})) == 1
