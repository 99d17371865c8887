"""The access policy: roles per company, global administrators, tenant isolation."""

import dataclasses
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from multiflexi.core import access, audit, users
from multiflexi.core import models as m
from multiflexi.core.errors import NotFound, PermissionDenied

ADMIN = audit.Actor.cli()
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def two_companies(session):
    a = m.Company(name="Alpha", slug="alpha")
    b = m.Company(name="Beta", slug="beta")
    session.add_all([a, b])
    session.commit()
    return a.id, b.id


def member(session, login, company_id, role):
    user = users.create(session, login, actor=ADMIN, password=f"{login} password")
    users.grant(session, company_id, user.id, role, actor=ADMIN)
    return access.principal_for(
        session, users.authenticate(session, login, f"{login} password", address="192.0.2.10")
    )


def test_a_viewer_can_read_but_not_write(session, two_companies):
    a, _ = two_companies
    viewer = member(session, "vera", a, "viewer")
    assert access.can_read(viewer, a) and not access.can_write(viewer, a)
    access.require_read(viewer, a)
    expected = f"vera is viewer of company {a} and may not change it (run template 7)"
    with pytest.raises(PermissionDenied, match=re.escape(expected)):
        access.require_write(viewer, a, what="run template", key=7)
    with pytest.raises(PermissionDenied):
        access.require_admin(viewer, a)


def test_a_manager_writes_but_does_not_manage_the_company(session, two_companies):
    a, _ = two_companies
    manager = member(session, "max", a, "manager")
    access.require_write(manager, a, what="job", key=3)
    assert not access.can_admin(manager, a)
    with pytest.raises(PermissionDenied, match="may not manage the company"):
        access.require_admin(manager, a)


def test_who_writes_somewhere_may_be_offered_to_make_a_run_template(session, two_companies):
    a, b = two_companies
    assert not access.writes_somewhere(member(session, "vera", a, "viewer"))
    assert access.writes_somewhere(member(session, "max", b, "manager"))
    assert access.writes_somewhere(ADMIN)


def test_a_company_admin_may_do_everything_in_its_company_only(session, two_companies):
    a, b = two_companies
    boss = member(session, "bea", a, "admin")
    for permission in access.PERMISSIONS:
        access.require(boss, a, permission)
    assert not any(access.can(boss, b, p) for p in access.PERMISSIONS)


def test_another_companys_objects_are_indistinguishable_from_missing_ones(session, two_companies):
    a, b = two_companies
    for role in ("viewer", "manager", "admin"):
        principal = member(session, f"user-{role}", a, role)
        for check in (access.require_read, access.require_write, access.require_admin):
            with pytest.raises(NotFound) as hidden:
                check(principal, b, what="run template", key=7)
            with pytest.raises(NotFound) as missing:
                check(principal, 12345, what="run template", key=7)
            assert str(hidden.value) == str(missing.value) == "run template 7 not found"
            with pytest.raises(NotFound, match=f"company {b} not found"):
                check(principal, b)


def test_global_administrators_and_the_cli_may_do_everything(session, two_companies):
    a, b = two_companies
    user = users.create(session, "root", actor=ADMIN, is_admin=True)
    root = access.principal_for(session, user)
    for principal in (root, ADMIN, audit.Actor.system("scheduler")):
        for company in (a, b, 999):
            for permission in access.PERMISSIONS:
                access.require(principal, company, permission)
        assert access.visible_company_ids(principal) is None
        access.require_global_admin(principal, "create users")


def test_visible_companies_are_those_with_a_role(session, two_companies):
    a, _ = two_companies
    c = m.Company(name="Gamma", slug="gamma")
    session.add(c)
    session.commit()
    user = users.create(session, "wendy", actor=ADMIN)
    users.grant(session, a, user.id, "viewer", actor=ADMIN)
    users.grant(session, c.id, user.id, "manager", actor=ADMIN)
    principal = access.principal_for(session, user)
    visible = access.visible_company_ids(principal)
    assert visible == {a, c.id}
    listed = session.scalars(sa.select(m.Company.slug).where(m.Company.id.in_(visible))).all()
    assert sorted(listed) == ["alpha", "gamma"]

    nobody = access.principal_for(session, users.create(session, "xena", actor=ADMIN))
    assert access.visible_company_ids(nobody) == set()
    assert access.visible_company_ids(audit.Actor(name="plain")) == set()
    with pytest.raises(NotFound):
        access.require_read(audit.Actor(name="plain"), a)


def test_a_disabled_user_may_do_nothing_even_as_administrator(session, two_companies):
    a, _ = two_companies
    users.create(session, "keep", actor=ADMIN, is_admin=True)
    user = users.create(session, "yves", actor=ADMIN, is_admin=True)
    users.grant(session, a, user.id, "admin", actor=ADMIN)
    users.update(session, user.id, actor=ADMIN, enabled=False)
    principal = access.principal_for(session, user)
    assert not principal.is_admin
    assert access.visible_company_ids(principal) == set()
    with pytest.raises(NotFound):
        access.require_read(principal, a)


def test_a_principal_sees_the_roles_of_when_it_was_loaded_and_cannot_be_altered(
    session, two_companies
):
    a, b = two_companies
    user = users.create(session, "zoe", actor=ADMIN)
    users.grant(session, a, user.id, "viewer", actor=ADMIN)
    principal = access.principal_for(session, user, source="api")
    assert (principal.name, principal.user_id, principal.source) == ("zoe", user.id, "api")
    assert principal.role(a) == "viewer" and principal.role(b) is None
    with pytest.raises(TypeError):
        principal.roles[b] = "admin"
    with pytest.raises(dataclasses.FrozenInstanceError):
        principal.is_admin = True
    users.grant(session, a, user.id, "manager", actor=ADMIN)
    assert not access.can_write(principal, a)
    assert access.can_write(access.principal_for(session, user), a)


def test_principal_is_an_actor_for_the_audit_log(session, two_companies):
    a, _ = two_companies
    boss = member(session, "ada", a, "admin")
    other = users.create(session, "bo", actor=ADMIN)
    users.grant(session, a, other.id, "viewer", actor=boss)
    entry = audit.entries(session, entity_type="company_user").items[0]
    assert (entry.actor, entry.user_id, entry.company_id) == ("ada", boss.user_id, a)


def test_users_reach_their_own_account_and_no_one_elses(session):
    me = access.principal_for(session, users.create(session, "me", actor=ADMIN))
    other = users.create(session, "you", actor=ADMIN)
    access.require_self_or_admin(me, me.user_id)
    with pytest.raises(NotFound, match=f"user {other.id} not found"):
        access.require_self_or_admin(me, other.id)
    access.require_self_or_admin(ADMIN, other.id)
    with pytest.raises(PermissionDenied, match="only a global administrator may create users"):
        access.require_global_admin(me, "create users")


def test_an_unknown_permission_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown permission"):
        access.can(ADMIN, 1, "delete everything")


def test_the_readme_documents_the_role_table():
    text = README.read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and re.fullmatch(r"`?(viewer|manager|admin)`?", cells[0]):
            rows[cells[0].strip("`")] = cells[1:]
    header = next(
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.lstrip().startswith("| Role")
    )
    columns = [h.strip("` ").lower() for h in header[1:]]
    assert set(columns) == set(access.PERMISSIONS)
    assert set(rows) == set(access.ROLE_PERMISSIONS)
    for role, cells in rows.items():
        documented = {column for column, cell in zip(columns, cells, strict=True) if cell == "yes"}
        assert documented == access.ROLE_PERMISSIONS[role], role


def test_the_whole_audit_log_is_for_administrators_a_companys_rows_for_its_admins(
    session, two_companies
):
    a, b = two_companies
    boss = member(session, "ada", a, "admin")
    manager = member(session, "mia", a, "manager")
    access.require_audit_reader(boss, a)
    with pytest.raises(PermissionDenied, match="only administrators read the whole log"):
        access.require_audit_reader(boss, None)
    with pytest.raises(PermissionDenied, match="may not manage the company"):
        access.require_audit_reader(manager, a)
    with pytest.raises(NotFound, match=f"company {b} not found"):
        access.require_audit_reader(boss, b)
    for company_id in (None, a, b):
        access.require_audit_reader(ADMIN, company_id)
