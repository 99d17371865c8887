"""What the users' pages of the web UI ask of the core: search, the "locked" mark, a
user's company roles by name, the change of one's own password, the audit log's
filters and its page with company names."""

import datetime as dt

import pytest

from multiflexi.core import audit, auditview, users
from multiflexi.core import models as m
from multiflexi.core.errors import ValidationError
from multiflexi.core.users import AuthenticationFailed, LoginThrottled

ADMIN = audit.Actor.cli()
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
HOME = "192.0.2.10"
STRANGER = "203.0.113.66"


def company(session, slug, name):
    found = m.Company(name=name, slug=slug)
    session.add(found)
    session.commit()
    return found


def logins(page):
    return [u.login for u in page.items]


def test_search_finds_users_by_login_names_or_email_ignoring_letter_case(session):
    users.create(session, "kim", actor=ADMIN, first_name="Kimberly", email="kim@example.org")
    users.create(session, "lee", actor=ADMIN, last_name="Novák", email="LEE@corp.example")
    users.create(session, "max", actor=ADMIN, first_name="Max_50%")
    assert logins(users.list(session, search="KIMB")) == ["kim"]
    assert logins(users.list(session, search="novák")) == ["lee"]
    assert logins(users.list(session, search="corp.EXAMPLE")) == ["lee"]
    assert logins(users.list(session, search="example")) == ["kim", "lee"]
    # the characters of SQL patterns are taken literally
    assert logins(users.list(session, search="_50%")) == ["max"]
    assert logins(users.list(session, search="%")) == ["max"]
    assert logins(users.list(session, search="  ")) == ["kim", "lee", "max"]
    assert users.list(session, search="nobody here").total == 0


def test_held_back_names_the_logins_some_client_is_refused_for(session):
    users.create(session, "kim", actor=ADMIN, password="right password")
    users.create(session, "lee", actor=ADMIN, password="right password")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "KIM", "wrong", address=STRANGER, now=T0)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "lee", "wrong", address=STRANGER, now=T0)
    assert users.held_back(session, ["kim", "lee", "ghost"], now=T0) == {"kim"}
    # the window ends: nobody is held back any more
    later = T0 + dt.timedelta(hours=1)
    assert users.held_back(session, ["kim", "lee"], now=later) == set()
    assert users.held_back(session, [], now=T0) == set()


def test_company_roles_name_the_companies_in_one_list(session):
    user = users.create(session, "kim", actor=ADMIN)
    beta, alpha = company(session, "beta", "Beta"), company(session, "alpha", "Alpha")
    users.grant(session, beta.id, user.id, "viewer", actor=ADMIN)
    users.grant(session, alpha.id, user.id, "admin", actor=ADMIN)
    roles = users.company_roles(session, user.id)
    assert [(r.company_name, r.role) for r in roles] == [("Alpha", "admin"), ("Beta", "viewer")]
    assert roles[0].company_id == alpha.id
    other = users.create(session, "lee", actor=ADMIN)
    assert users.company_roles(session, other.id) == []


def test_own_password_change_needs_the_current_password(session):
    user = users.create(session, "kim", actor=ADMIN, password="old password")
    with pytest.raises(ValidationError) as refused:
        users.change_own_password(
            session, user.id, "not it", "new password", actor=ADMIN, address=HOME, now=T0
        )
    assert refused.value.for_field("current_password") == ["this is not your current password"]
    assert users.authenticate(session, "kim", "old password", address=HOME, now=T0)
    # a too short new password is refused before the current one is even checked
    with pytest.raises(ValidationError) as short:
        users.change_own_password(
            session, user.id, "old password", "short", actor=ADMIN, address=HOME, now=T0
        )
    assert short.value.for_field("password") != []

    users.change_own_password(
        session, user.id, "old password", "new password", actor=ADMIN, address=HOME, now=T0
    )
    assert users.authenticate(session, "kim", "new password", address=HOME, now=T0)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "kim", "old password", address=HOME, now=T0)


def test_own_password_change_is_throttled_like_a_sign_in(session):
    user = users.create(session, "kim", actor=ADMIN, password="old password")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(ValidationError):
            users.change_own_password(
                session, user.id, "guess", "new password", actor=ADMIN, address=STRANGER, now=T0
            )
    with pytest.raises(LoginThrottled):  # even with the right one, from that client
        users.change_own_password(
            session, user.id, "old password", "new password", actor=ADMIN, address=STRANGER, now=T0
        )
    assert users.authenticate(session, "kim", "old password", address=HOME, now=T0)


def test_audit_entries_filter_by_action_and_a_time_range(session):
    early, late = T0 - dt.timedelta(days=2), T0
    for at, action in ((early, "create"), (late, "update"), (late, "delete")):
        audit.record(session, ADMIN, action, "user", 1)
        session.flush()
        session.execute(
            m.AuditEntry.__table__.update()
            .where(m.AuditEntry.__table__.c.action == action)
            .values(at=at)
        )
    session.commit()
    assert [e.action for e in audit.entries(session, action="update").items] == ["update"]
    assert [e.action for e in audit.entries(session, until=T0).items] == ["create"]
    since = audit.entries(session, since=T0 - dt.timedelta(days=1))
    assert sorted(e.action for e in since.items) == ["delete", "update"]
    window = audit.entries(
        session, since=early, until=T0 + dt.timedelta(seconds=1), action="create"
    )
    assert window.total == 1


def test_the_audit_page_names_each_entrys_company(session):
    alpha = company(session, "alpha", "Alpha")
    audit.record(session, ADMIN, "create", "company", alpha.id, company_id=alpha.id)
    audit.record(session, ADMIN, "create", "user", 7, details={"login": "kim"})
    audit.record(session, ADMIN, "delete", "company", 99, company_id=None)
    session.commit()
    page = auditview.browse(session)
    assert page.total == 3
    shown = [(r.entry.entity_type, r.entry.action, r.company_name, r.details) for r in page.items]
    assert shown == [
        ("company", "delete", None, None),
        ("user", "create", None, {"login": "kim"}),
        ("company", "create", "Alpha", None),
    ]
    assert [r.entry.action for r in auditview.browse(session, company_id=alpha.id).items] == [
        "create"
    ]
    assert auditview.browse(session, actor="someone else").total == 0


def test_who_reads_the_audit_log(session):
    from multiflexi.core import access

    admin = access.Principal(name="root", user_id=1, is_admin=True)
    boss = access.Principal(name="alice", user_id=2, roles={1: "admin", 2: "viewer", 3: "admin"})
    helper = access.Principal(name="amy", user_id=3, roles={1: "manager"})
    assert access.audit_company_ids(admin) is None and access.reads_audit(admin)
    assert access.audit_company_ids(boss) == {1, 3} and access.reads_audit(boss)
    assert access.audit_company_ids(helper) == set() and not access.reads_audit(helper)
    assert not access.reads_audit(audit.Actor(name="anonymous"))
