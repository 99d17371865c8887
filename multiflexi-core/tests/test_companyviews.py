"""What the faces show of companies: counts, the deletion preview, members by login."""

import datetime as dt

import pytest

from multiflexi.core import (
    audit,
    companies,
    companyviews,
    credentials,
    jobs,
    manifests,
    runtemplates,
    users,
)
from multiflexi.core.errors import NotFound, ValidationError
from multiflexi.core.models import Company, CompanyUser, Job, RunTemplate
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")
MANIFEST = {
    "name": "Probe",
    "description": "prints what it is given",
    "version": "1.0",
    "uuid": "6f1c1a4e-0000-4000-8000-0000000c0a01",
    "executable": "/usr/bin/env",
    "environment": {},
}


@pytest.fixture
def filled(session):
    """Company Acme with 2 run templates (3 jobs), a credential, variables, 2 members; and
    an empty company Zeta."""
    app_id = manifests.import_manifest(session, MANIFEST, actor=ACTOR).application_id
    acme = companies.create(session, name="Acme", actor=ACTOR)
    zeta = companies.create(session, name="Zeta", actor=ACTOR)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for name, launches in (("nightly import", 2), ("bank sync", 1)):
        rt = runtemplates.create(session, company=acme.id, app_id=app_id, actor=ACTOR, name=name)
        for _ in range(launches):
            jobs.launch(session, rt.id, actor=ACTOR, at=later)
    proto = manifests.import_credential_prototype(
        session,
        {
            "uuid": "6f1c1a4e-0000-4000-8000-0000000c0c01",
            "code": "probe_api",
            "name": "Probe API",
            "version": "1.0",
            "fields": [{"keyword": "PROBE_URL", "type": "url", "name": "URL"}],
        },
        actor=ACTOR,
    )
    ctype = credentials.create_type(
        session, company=acme.id, name="probe", actor=ACTOR, prototype_ref=proto.prototype_id
    )
    credentials.create(
        session,
        company=acme.id,
        credential_type_id=ctype.id,
        name="probe login",
        values={"PROBE_URL": "https://probe.example"},
        actor=ACTOR,
    )
    companies.set_variable(session, acme.id, "PLAIN", "1", actor=ACTOR)
    companies.set_variable(session, acme.id, "API_TOKEN", "s3cret", actor=ACTOR)
    logins = {}
    for login, first, role in (("zoe", "Zoe", "viewer"), ("adam", "Adam", "admin")):
        user = users.create(session, login, first_name=first, last_name="Smith", actor=ACTOR)
        users.grant(session, acme.id, user.id, role, actor=ACTOR)
        logins[login] = user.id
    for login in ("carl", "dora"):
        logins[login] = users.create(session, login, actor=ACTOR).id
    users.update(session, logins["dora"], enabled=False, actor=ACTOR)
    return acme, zeta, logins


def test_the_overview_counts_what_each_company_holds(session, filled):
    _, zeta, _ = filled
    page = companyviews.overview(session)
    assert [(s.company.name, s.run_templates, s.applications, s.members) for s in page.items] == [
        ("Acme", 2, 1, 2),
        ("Zeta", 0, 0, 0),
    ]
    only = companyviews.overview(session, company_ids={zeta.id})
    assert [s.company.id for s in only.items] == [zeta.id]
    assert companyviews.overview(session, company_ids=set()).items == []
    second = companyviews.overview(session, limit=1, offset=1)
    assert (second.total, [s.company.name for s in second.items]) == (2, ["Zeta"])


def test_the_deletion_preview_lists_what_goes_and_then_it_goes(session, filled):
    acme, _, _ = filled
    preview = companyviews.deletion_preview(session, acme.id)
    assert preview.run_template_names == ["bank sync", "nightly import"]
    assert (preview.run_templates, preview.jobs, preview.credentials) == (2, 3, 1)
    assert (preview.credential_types, preview.variables, preview.members) == (1, 2, 2)
    assert preview.applications == 1
    companies.delete(session, acme.id, actor=ACTOR)
    for model in (RunTemplate, Job, CompanyUser):
        assert count(session, model) == 0
    assert count(session, Company) == 1
    with pytest.raises(NotFound):
        companyviews.deletion_preview(session, acme.id)


def test_members_come_by_login_with_their_names_and_roles(session, filled):
    acme, _, logins = filled
    page = companyviews.members(session, acme.id)
    assert [(m.login, m.name, m.role) for m in page.items] == [
        ("adam", "Adam Smith", "admin"),
        ("zoe", "Zoe Smith", "viewer"),
    ]
    assert page.items[0].user_id == logins["adam"]
    assert companyviews.members(session, acme.id, limit=1, offset=1).total == 2


def test_candidates_are_the_enabled_accounts_without_a_role_there(session, filled):
    acme, zeta, logins = filled
    admin = audit.Actor("root", source="test", is_admin=True)
    assert [m.login for m in companyviews.candidates(session, acme.id, admin)] == ["carl"]
    assert [m.login for m in companyviews.candidates(session, zeta.id, admin)] == [
        "adam",
        "carl",
        "zoe",
    ]
    # a company's administrator sees no other tenant's accounts: it names the login
    adam = audit.Actor("adam", user_id=logins["adam"], source="test")
    assert companyviews.candidates(session, acme.id, adam) == []


def test_a_role_is_given_and_changed_by_login(session, filled):
    acme, _, _ = filled
    companyviews.grant_by_login(session, acme.id, " carl ", "manager", actor=ACTOR)
    companyviews.grant_by_login(session, acme.id, "zoe", "manager", actor=ACTOR)
    roles = {m.login: m.role for m in companyviews.members(session, acme.id).items}
    assert roles == {"adam": "admin", "carl": "manager", "zoe": "manager"}


@pytest.mark.parametrize(
    ("login", "role", "fields"),
    [
        ("", "viewer", {"login"}),
        ("nosuch", "viewer", {"login"}),
        ("dora", "viewer", {"login"}),  # disabled
        ("carl", "owner", {"role"}),
        ("nosuch", "owner", {"login", "role"}),
    ],
)
def test_a_bad_login_or_role_is_refused_beside_its_field_and_nothing_changes(
    session, filled, login, role, fields
):
    acme, _, _ = filled
    before = count(session, CompanyUser)
    with pytest.raises(ValidationError) as info:
        companyviews.grant_by_login(session, acme.id, login, role, actor=ACTOR)
    assert {p.field for p in info.value.problems} == fields
    assert count(session, CompanyUser) == before


def test_the_overview_reads_a_page_in_the_same_statements_however_long(session, engine):
    import sqlalchemy as sa

    def statements(limit: int) -> int:
        seen: list[str] = []

        def note(*args):
            seen.append(args[2])

        sa.event.listen(engine, "before_cursor_execute", note)
        try:
            page = companyviews.overview(session, limit=limit)
            assert len(page.items) == limit
        finally:
            sa.event.remove(engine, "before_cursor_execute", note)
        return len(seen)

    for number in range(30):
        companies.create(session, name=f"Tenant {number:02}", actor=ACTOR)
    session.expire_all()
    few = statements(3)
    assert 0 < few <= 3
    assert statements(25) == few
