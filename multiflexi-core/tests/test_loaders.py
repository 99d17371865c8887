"""The loaders every face calls: tenant isolation and roles, proved on the core alone.

The API's isolation sweep (multiflexi-server/tests/test_api_isolation.py) proves the
same rules over HTTP; here each kind of object is loaded directly, as the web UI
and any other face will load it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from multiflexi.core import (
    access,
    audit,
    companies,
    credentials,
    jobs,
    loaders,
    runtemplates,
    tokens,
    users,
)
from multiflexi.core import models as m
from multiflexi.core.errors import NotFound, PermissionDenied

ADMIN = audit.Actor.cli()
MISSING = 987654
COMPANY_KINDS = ("company", "run_template", "job", "credential", "credential_type")
WHAT = {
    "company": "company",
    "run_template": "run template",
    "job": "job",
    "credential": "credential",
    "credential_type": "credential type",
}


def principal(session, login, *, company_id=None, role=None, is_admin=False):
    user = users.create(session, login, actor=ADMIN, is_admin=is_admin)
    if company_id is not None:
        users.grant(session, company_id, user.id, role, actor=ADMIN)
    return access.principal_for(session, user, source="test")


@pytest.fixture
def world(session, app):
    """Two companies, Alpha and Beta, each with one object of every kind."""
    proto = m.CredentialPrototype(
        uuid="6ba7b810-9dad-11d1-80b4-00c04fd430c9", code="probe", name="Probe"
    )
    proto.fields.append(m.CredentialPrototypeField(keyword="PROBE_URL", type="url", position=0))
    session.add(proto)
    session.commit()
    ids: dict[str, dict[str, int]] = {}
    for name in ("Alpha", "Beta"):
        company = companies.create(session, name=name, actor=ADMIN)
        rt = runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=ADMIN,
            active=False,
            values={"ENDPOINT": "https://erp.example"},
        )
        job = jobs.create(
            session,
            rt,
            scheduled_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            schedule_type="adhoc-cli",
            actor=ADMIN,
        )
        ctype = credentials.create_type(
            session, company=company.id, name="Probe", prototype_ref="probe", actor=ADMIN
        )
        cred = credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name="probe login",
            values={"PROBE_URL": "https://probe.example"},
            actor=ADMIN,
        )
        ids[name] = {
            "company": company.id,
            "run_template": rt.id,
            "job": job.id,
            "credential": cred.id,
            "credential_type": ctype.id,
        }
    return ids


def load(session, actor, kind, key, permission=access.READ):
    return getattr(loaders, kind)(session, actor, key, permission)


def test_a_user_of_another_company_gets_not_found_as_for_a_missing_object(session, world):
    alpha = world["Alpha"]["company"]
    for role in ("viewer", "manager", "admin"):
        outsider = principal(session, f"alpha-{role}", company_id=alpha, role=role)
        for kind in COMPANY_KINDS:
            key = world["Beta"][kind]
            for permission in access.PERMISSIONS:
                with pytest.raises(NotFound) as hidden:
                    load(session, outsider, kind, key, permission)
                with pytest.raises(NotFound) as missing:
                    load(session, outsider, kind, MISSING, permission)
                assert str(hidden.value) == f"{WHAT[kind]} {key} not found"
                assert str(missing.value) == f"{WHAT[kind]} {MISSING} not found"
            # their own company's object of the same kind loads
            assert load(session, outsider, kind, world["Alpha"][kind]).id == world["Alpha"][kind]


def test_nobody_without_a_role_reaches_any_company_object(session, world):
    nobody = principal(session, "nobody")
    for actor in (nobody, audit.Actor(name="plain")):
        for kind in COMPANY_KINDS:
            with pytest.raises(NotFound):
                load(session, actor, kind, world["Alpha"][kind])


def test_a_viewer_reads_but_gets_permission_denied_for_writing(session, world):
    beta = world["Beta"]["company"]
    viewer = principal(session, "vera", company_id=beta, role="viewer")
    for kind in COMPANY_KINDS:
        key = world["Beta"][kind]
        assert load(session, viewer, kind, key).id == key
        for permission in (access.WRITE, access.ADMIN):
            with pytest.raises(PermissionDenied, match=f"vera is viewer of company {beta}"):
                load(session, viewer, kind, key, permission)


def test_a_manager_writes_but_does_not_manage_the_company(session, world):
    beta = world["Beta"]["company"]
    manager = principal(session, "max", company_id=beta, role="manager")
    for kind in COMPANY_KINDS:
        key = world["Beta"][kind]
        assert load(session, manager, kind, key, access.WRITE).id == key
        with pytest.raises(PermissionDenied, match="may not manage the company"):
            load(session, manager, kind, key, access.ADMIN)


def test_permits_says_which_controls_a_page_shows_and_hides_other_companies(session, world):
    alpha, beta = world["Alpha"]["company"], world["Beta"]["company"]
    manager = principal(session, "max", company_id=beta, role="manager")
    assert loaders.permits(session, manager, beta, access.WRITE)
    assert not loaders.permits(session, manager, beta, access.ADMIN)
    with pytest.raises(NotFound):  # another company is not "not permitted": it is not there
        loaders.permits(session, manager, alpha, access.READ)


def test_company_and_global_administrators_get_every_object(session, world):
    beta = world["Beta"]["company"]
    boss = principal(session, "bea", company_id=beta, role="admin")
    root = principal(session, "root", is_admin=True)
    for kind in COMPANY_KINDS:
        for permission in access.PERMISSIONS:
            key = world["Beta"][kind]
            assert load(session, boss, kind, key, permission).id == key
            for admin in (root, ADMIN):
                for company in ("Alpha", "Beta"):
                    key = world[company][kind]
                    assert load(session, admin, kind, key, permission).id == key
    with pytest.raises(NotFound, match=f"job {MISSING} not found"):
        loaders.job(session, root, MISSING)


def test_a_company_is_also_reached_by_its_slug(session, world):
    beta = world["Beta"]["company"]
    viewer = principal(session, "vic", company_id=beta, role="viewer")
    assert loaders.company(session, viewer, "beta").id == beta
    with pytest.raises(NotFound, match="company alpha not found"):
        loaders.company(session, viewer, "alpha")


def test_tokens_and_accounts_are_reached_by_their_owner_and_administrators_only(session, world):
    alpha = world["Alpha"]["company"]
    # a company admin is no administrator of other users' accounts
    owner = principal(session, "olga", company_id=alpha, role="admin")
    other = principal(session, "otto", company_id=alpha, role="admin")
    root = principal(session, "root", is_admin=True)
    assert owner.user_id is not None and other.user_id is not None
    token, _ = tokens.create(session, owner.user_id, "ci", actor=ADMIN)

    for actor in (owner, root, ADMIN):
        assert loaders.token(session, actor, token.id).id == token.id
        assert loaders.user(session, actor, owner.user_id).id == owner.user_id
    with pytest.raises(NotFound) as hidden_token:
        loaders.token(session, other, token.id)
    with pytest.raises(NotFound) as missing_token:
        loaders.token(session, other, MISSING)
    assert str(hidden_token.value) == f"API token {token.id} not found"
    assert str(missing_token.value) == f"API token {MISSING} not found"
    with pytest.raises(NotFound) as hidden_user:
        loaders.user(session, other, owner.user_id)
    with pytest.raises(NotFound) as missing_user:
        loaders.user(session, root, MISSING)
    assert str(hidden_user.value) == f"user {owner.user_id} not found"
    assert str(missing_user.value) == f"user {MISSING} not found"
    assert access.sees_user(owner, owner.user_id) and not access.sees_user(other, owner.user_id)
