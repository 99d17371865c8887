"""Companies: slugs, environment variables, application assignment."""

import pytest

from multiflexi.core import audit, companies
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import AuditEntry, Company, CompanyApplication, RunTemplate
from multiflexi.core.testing import count, database_bytes

ACTOR = audit.Actor("tester", source="test")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Ltd.", "acme_ltd"),
        ("  Spoje.NET  s.r.o. ", "spoje_net_s_r_o"),
        ("Účetnictví Žluťoučký kůň", "ucetnictvi_zlutoucky_kun"),
        ("ABC--123", "abc_123"),
    ],
)
def test_slug_is_derived_from_the_name(session, name, slug):
    company = companies.create(session, name=name, actor=ACTOR)
    assert company.slug == slug
    assert companies.get(session, slug).id == company.id


def test_duplicate_slug_is_refused_and_changes_nothing(session):
    companies.create(session, name="Acme", actor=ACTOR)
    with pytest.raises(Conflict, match="slug 'acme' is taken"):
        companies.create(session, name="ACME", actor=ACTOR)
    assert count(session, Company) == 1
    assert count(session, AuditEntry) == 1


def test_bad_input_lists_every_problem(session):
    with pytest.raises(ValidationError) as info:
        companies.create(session, name="x", slug="Not A Slug", email="nope", actor=ACTOR)
    assert len(info.value.errors) == 2
    assert count(session, Company) == 0


def test_unknown_company_is_not_found(session):
    with pytest.raises(NotFound, match="company 42 not found"):
        companies.get(session, 42)
    with pytest.raises(NotFound):
        companies.update(session, "ghost", {"name": "x"}, actor=ACTOR)


def test_create_update_delete_are_audited(session):
    company = companies.create(session, name="Acme", actor=ACTOR)
    companies.update(session, company.id, {"email": "ops@acme.example"}, actor=ACTOR)
    companies.delete(session, company.id, actor=ACTOR)
    page = audit.entries(session, entity_type="company")
    rows, total = page.items, page.total
    assert total == 3
    assert [r.action for r in rows] == ["delete", "update", "create"]
    assert {r.actor for r in rows} == {"tester"}


def test_assigning_creates_a_default_run_template_once(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    rt, created = companies.assign_application(session, company.id, app.id, actor=ACTOR)
    assert created is True
    assert (rt.name, rt.interval_code, rt.company_id) == (app.name, "n", company.id)
    again, created_again = companies.assign_application(session, company.id, app.id, actor=ACTOR)
    assert (again.id, created_again) == (rt.id, False)
    assert count(session, RunTemplate) == 1
    assert [a.id for a in companies.applications(session, company.id)] == [app.id]


def test_unassigning_removes_the_companys_run_templates_of_the_app(session, app):
    acme = companies.create(session, name="Acme", actor=ACTOR)
    other = companies.create(session, name="Other", actor=ACTOR)
    companies.assign_application(session, acme.id, app.id, actor=ACTOR)
    companies.assign_application(session, other.id, app.id, actor=ACTOR)
    assert companies.unassign_application(session, acme.id, app.id, actor=ACTOR) == 1
    remaining = session.query(RunTemplate).all()
    assert [r.company_id for r in remaining] == [other.id]
    assert count(session, CompanyApplication) == 1
    with pytest.raises(NotFound):
        companies.unassign_application(session, acme.id, app.id, actor=ACTOR)


def test_secret_variable_is_sealed_and_plain_one_is_not(session, engine):
    company = companies.create(session, name="Acme", actor=ACTOR)
    companies.set_variable(session, company.id, "API_URL", "https://api.example", actor=ACTOR)
    companies.set_variable(
        session, company.id, "API_TOKEN", "tok-s3cr3t-value", secret=True, actor=ACTOR
    )
    values = companies.variable_values(session, company.id)
    assert values == {
        "API_TOKEN": ("tok-s3cr3t-value", True),
        "API_URL": ("https://api.example", False),
    }
    stored = {v.name: v.value for v in companies.variables(session, company.id)}
    assert stored["API_URL"] == "https://api.example"
    assert "tok-s3cr3t-value" not in stored["API_TOKEN"]
    assert b"tok-s3cr3t-value" not in database_bytes(engine)


def test_bad_variable_name_is_refused(session):
    company = companies.create(session, name="Acme", actor=ACTOR)
    with pytest.raises(ValidationError, match="not an environment variable name"):
        companies.set_variable(session, company.id, "BAD-NAME", "x", actor=ACTOR)
