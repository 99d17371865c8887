"""Companies by IC and name, users by e-mail, and assignments across companies."""

from __future__ import annotations

import re

import pytest

from multiflexi.core import companies, lookups, models, users
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Ambiguous, Conflict, NotFound, ValidationError

ME = Actor.system("tests")


def _company(session, name, slug, ic=None):
    return companies.create(session, name=name, slug=slug, ic=ic, actor=ME)


def test_a_company_is_found_by_its_exact_ic(session):
    acme = _company(session, "Acme", "acme", ic="12345678")
    _company(session, "Other", "other", ic="87654321")
    assert lookups.companies_with_ic(session, "12345678") == [acme]
    assert lookups.companies_with_ic(session, " 12345678 ") == [acme]
    assert lookups.companies_with_ic(session, "1234567") == []
    assert lookups.companies_with_ic(session, "") == []
    assert companies.get_by_ic(session, "12345678") is acme


def test_an_unknown_ic_is_not_found(session):
    _company(session, "Acme", "acme", ic="12345678")
    with pytest.raises(NotFound, match="company with IC '99999999' not found"):
        companies.get_by_ic(session, "99999999")


def test_a_blank_ic_is_refused(session):
    with pytest.raises(ValidationError, match="ic: must not be empty"):
        companies.get_by_ic(session, "  ")


def test_a_shared_ic_is_refused_with_the_ids(session):
    first = _company(session, "Acme", "acme", ic="12345678")
    second = _company(session, "Acme again", "acme2", ic="12345678")
    with pytest.raises(Ambiguous) as caught:
        companies.get_by_ic(session, "12345678")
    assert caught.value.ids == [first.id, second.id]
    assert caught.value.kind == "ambiguous"
    assert isinstance(caught.value, Conflict)
    assert str(caught.value) == (
        f"company with IC '12345678' is not unique: ids {first.id}, {second.id} match;"
        " choose one by id"
    )


def test_ic_lookups_see_only_the_given_companies(session):
    first = _company(session, "Acme", "acme", ic="12345678")
    second = _company(session, "Acme again", "acme2", ic="12345678")
    # an invisible company neither answers nor makes the visible one ambiguous
    assert companies.get_by_ic(session, "12345678", company_ids={second.id}) is second
    with pytest.raises(NotFound):
        companies.get_by_ic(session, "12345678", company_ids=set())
    assert lookups.companies_with_ic(session, "12345678", company_ids={first.id}) == [first]


def test_a_company_is_found_by_its_exact_name(session):
    acme = _company(session, "Acme s.r.o.", "acme")
    _company(session, "acme s.r.o.", "acme-lower")
    assert companies.get_by_name(session, "Acme s.r.o.") is acme
    assert lookups.companies_named(session, "ACME S.R.O.") == []
    with pytest.raises(NotFound, match="company named 'Acme' not found"):
        companies.get_by_name(session, "Acme")
    with pytest.raises(ValidationError):
        companies.get_by_name(session, "")


def test_a_shared_name_is_refused_unless_only_one_is_visible(session):
    first = _company(session, "Acme", "acme")
    second = _company(session, "Acme", "acme2")
    with pytest.raises(Ambiguous, match=f"ids {first.id}, {second.id} match"):
        companies.get_by_name(session, "Acme")
    assert companies.get_by_name(session, "Acme", company_ids={first.id}) is first


def test_a_user_is_found_by_email_whatever_its_letter_case(session):
    user = users.create(session, "alice", actor=ME, email="Alice@Example.com")
    users.create(session, "bob", actor=ME, email="bob@example.com")
    users.create(session, "nomail", actor=ME)
    assert users.get_by_email(session, "alice@example.COM") is user
    assert users.get_by_email(session, " Alice@Example.com ") is user
    assert lookups.users_with_email(session, "") == []
    with pytest.raises(NotFound, match=re.escape("user with e-mail 'carol@example.com' not found")):
        users.get_by_email(session, "carol@example.com")
    with pytest.raises(ValidationError, match="email: must not be empty"):
        users.get_by_email(session, " ")


def test_a_shared_email_is_refused_with_the_ids(session):
    first = users.create(session, "alice", actor=ME, email="shared@example.com")
    second = users.create(session, "alice2", actor=ME, email="SHARED@example.com")
    with pytest.raises(Ambiguous) as caught:
        users.get_by_email(session, "shared@example.com")
    assert caught.value.ids == [first.id, second.id]


@pytest.fixture
def assigned(session, app):
    """Companies beta (id 1) and alpha (id 2); beta has two applications, alpha one."""
    other = models.Application(name="other", executable="/bin/true", version="2.0")
    session.add(other)
    session.commit()
    beta = _company(session, "Beta", "beta")
    alpha = _company(session, "Alpha", "alpha")
    companies.assign_application(session, beta.id, other.id, actor=ME)
    companies.assign_application(session, alpha.id, app.id, actor=ME)
    companies.assign_application(session, beta.id, app.id, actor=ME)
    return {"alpha": alpha, "beta": beta, "app": app, "other": other}


def _pairs(page):
    return [(a.company.slug, a.application.name) for a in page.items]


def test_assignments_of_every_company_by_company_then_application(session, assigned):
    page = companies.list_assignments(session)
    assert _pairs(page) == [("beta", "probe"), ("beta", "other"), ("alpha", "probe")]
    assert page.total == 3
    assert all(a.assigned_at is not None for a in page.items)


def test_assignments_are_paged_with_the_total(session, assigned):
    page = companies.list_assignments(session, limit=1, offset=1)
    assert _pairs(page) == [("beta", "other")]
    assert (page.total, page.limit, page.offset) == (3, 1, 1)


def test_assignments_filter_by_company_and_application(session, assigned):
    app, beta = assigned["app"], assigned["beta"]
    assert _pairs(companies.list_assignments(session, company="beta")) == [
        ("beta", "probe"),
        ("beta", "other"),
    ]
    assert _pairs(companies.list_assignments(session, app_id=app.id)) == [
        ("beta", "probe"),
        ("alpha", "probe"),
    ]
    assert _pairs(companies.list_assignments(session, company=beta.id, app_id=app.id)) == [
        ("beta", "probe")
    ]


def test_assignment_filters_must_exist(session, assigned):
    with pytest.raises(NotFound, match="company nobody"):
        companies.list_assignments(session, company="nobody")
    with pytest.raises(NotFound, match="application 999"):
        companies.list_assignments(session, app_id=999)


def test_assignments_show_only_the_visible_companies(session, assigned):
    alpha = assigned["alpha"]
    assert _pairs(companies.list_assignments(session, company_ids={alpha.id})) == [
        ("alpha", "probe")
    ]
    with pytest.raises(NotFound, match="company beta"):
        companies.list_assignments(session, company="beta", company_ids={alpha.id})
    assert companies.list_assignments(session, company_ids=set()).items == []
