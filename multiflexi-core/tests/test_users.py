"""Accounts, passwords, logins, lock-out, the first administrator and company roles."""

import datetime as dt

import pytest
from argon2 import PasswordHasher

from multiflexi.core import audit, users
from multiflexi.core import models as m
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.users import AuthenticationFailed

ADMIN = audit.Actor.cli()
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class CountingHasher(PasswordHasher):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.verifications = 0

    def verify(self, hash, password):
        self.verifications += 1
        return super().verify(hash, password)


def make_company(session, slug):
    company = m.Company(name=slug.title(), slug=slug)
    session.add(company)
    session.commit()
    return company


def audit_rows(session, entity_type="user"):
    page = audit.entries(session, entity_type=entity_type)
    rows, _ = page.items, page.total
    return rows


# --------------------------------------------------------------------------
# accounts
# --------------------------------------------------------------------------


def test_create_then_find_by_id_and_by_login_in_any_letter_case(session):
    user = users.create(
        session, "jane.doe", actor=ADMIN, email=" jane@example.com ", first_name="Jane"
    )
    assert users.get(session, user.id).login == "jane.doe"
    assert users.get_by_login(session, "Jane.Doe").id == user.id
    assert user.email == "jane@example.com"
    assert user.enabled is True and user.is_admin is False
    with pytest.raises(NotFound, match="user 999 not found"):
        users.get(session, 999)
    with pytest.raises(NotFound):
        users.get_by_login(session, "nobody")


@pytest.mark.parametrize(
    "login", ["", "john doe", "jöhn", "a" * 129, "name\n", "semi;colon", "slash/x"]
)
def test_invalid_login_is_refused_and_nothing_is_stored(session, login):
    with pytest.raises(ValidationError, match="invalid login"):
        users.create(session, login, actor=ADMIN)
    assert users.list(session).total == 0


def test_login_of_128_allowed_characters_is_accepted(session):
    login = ("a.b_c@d-E9" * 13)[:128]
    assert users.create(session, login, actor=ADMIN).login == login


def test_duplicate_login_is_a_conflict_also_when_only_the_letter_case_differs(session):
    first = users.create(session, "admin", actor=ADMIN, email="a@example.com")
    for login in ("admin", "ADMIN"):
        with pytest.raises(Conflict, match="already taken"):
            users.create(session, login, actor=ADMIN, email="b@example.com")
    assert users.list(session).total == 1
    assert users.get(session, first.id).email == "a@example.com"


def test_list_total_is_exact_on_every_page(session):
    """The total is the number of matches wherever the page starts and however long it is."""
    for i in range(5):
        users.create(session, f"user{i}", actor=ADMIN)
    for limit, offset, shown in (
        (2, 0, 2),
        (2, 2, 2),
        (2, 4, 1),
        (2, 5, 0),
        (2, 9, 0),
        (5, 0, 5),
        (5, 5, 0),
        (10, 0, 5),
        (10, 3, 2),
    ):
        page = users.list(session, limit=limit, offset=offset)
        assert (len(page.items), page.total) == (shown, 5), (limit, offset)
    assert users.list(session, is_admin=True, limit=10).total == 0
    assert users.list(session, is_admin=True, limit=10, offset=3).total == 0


def test_list_is_paginated_in_id_order(session):
    created = [users.create(session, f"user{i}", actor=ADMIN) for i in range(5)]
    created[1].enabled = False
    session.commit()
    page = users.list(session, limit=2, offset=1)
    assert [u.login for u in page.items] == ["user1", "user2"]
    assert (page.total, page.limit, page.offset) == (5, 2, 1)
    assert [u.login for u in users.list(session, enabled=True).items] == [
        "user0",
        "user2",
        "user3",
        "user4",
    ]


def test_update_changes_fields_and_records_them_in_the_audit_log(session):
    user = users.create(session, "bob", actor=ADMIN, email="bob@example.com", last_name="B")
    users.update(session, user.id, actor=ADMIN, email="robert@example.com", last_name="")
    loaded = users.get(session, user.id)
    assert loaded.email == "robert@example.com"
    assert loaded.last_name is None
    entry = audit_rows(session)[0]
    assert entry.action == "update"
    assert entry.actor == ADMIN.name
    assert entry.details == {"email": "robert@example.com", "last_name": None}


def test_invalid_email_is_refused_and_the_old_one_kept(session):
    user = users.create(session, "bob", actor=ADMIN, email="bob@example.com")
    with pytest.raises(ValidationError, match="email"):
        users.update(session, user.id, actor=ADMIN, email="not an address")
    assert users.get(session, user.id).email == "bob@example.com"


def test_create_update_and_delete_are_audited(session):
    user = users.create(session, "carol", actor=ADMIN, password="correct horse")
    users.update(session, user.id, actor=ADMIN, first_name="Carol")
    users.delete(session, user.id, actor=ADMIN)
    assert [e.action for e in reversed(audit_rows(session))] == ["create", "update", "delete"]
    assert {e.entity_id for e in audit_rows(session)} == {str(user.id)}


# --------------------------------------------------------------------------
# passwords and logging in
# --------------------------------------------------------------------------


def test_password_is_stored_as_argon2id_and_logs_in(session):
    user = users.create(session, "dave", actor=ADMIN, password="s3cret-pass")
    assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-pass" not in user.password_hash
    assert users.authenticate(session, "dave", "s3cret-pass", now=T0).id == user.id
    assert users.get(session, user.id).last_login_at == T0


def test_short_password_is_refused_with_a_clear_message_and_changes_nothing(session):
    with pytest.raises(ValidationError, match="at least 8 characters"):
        users.create(session, "eve", actor=ADMIN, password="1234567")
    assert users.list(session).total == 0
    user = users.create(session, "eve", actor=ADMIN, password="long enough")
    with pytest.raises(ValidationError, match="at least 8 characters"):
        users.set_password(session, user.id, "short", actor=ADMIN)
    assert users.authenticate(session, "eve", "long enough").id == user.id


def test_set_password_replaces_the_old_one_and_the_audit_log_does_not_hold_it(session):
    user = users.create(session, "frank", actor=ADMIN, password="old password")
    users.set_password(session, user.id, "new password", actor=ADMIN)
    assert users.authenticate(session, "frank", "new password").id == user.id
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "frank", "old password")
    assert audit_rows(session)[0].details == {"password": "changed"}


def test_user_without_password_cannot_log_in(session):
    users.create(session, "robot", actor=ADMIN)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "robot", "")


def test_every_refusal_is_the_same_error_after_the_same_work(session, monkeypatch):
    hasher = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "PASSWORD_HASHER", hasher)
    users.create(session, "grace", actor=ADMIN, password="right password")
    users.create(session, "off", actor=ADMIN, password="right password", enabled=False)
    users.create(session, "nopass", actor=ADMIN)
    attempts = {
        "wrong password": ("grace", "wrong password"),
        "unknown login": ("nobody", "right password"),
        "malformed login": ("no body!", "right password"),
        "disabled account": ("off", "right password"),
        "no password set": ("nopass", "right password"),
    }
    seen = {}
    for case, (login, password) in attempts.items():
        before = hasher.verifications
        with pytest.raises(AuthenticationFailed) as caught:
            users.authenticate(session, login, password)
        seen[case] = (type(caught.value), caught.value.kind, str(caught.value))
        assert hasher.verifications - before == 1, case
        assert password not in str(caught.value)
    assert len(set(seen.values())) == 1, seen
    assert seen["unknown login"][1] == "authentication"


def test_ten_failures_lock_the_account_until_the_lock_runs_out(session):
    user = users.create(session, "heidi", actor=ADMIN, password="right password")
    for i in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "heidi", f"guess {i}", now=T0 + dt.timedelta(seconds=i))
    locked = users.get(session, user.id)
    assert locked.failed_logins == users.MAX_FAILED_LOGINS
    assert locked.locked_until is not None

    # while locked even the right password is refused, with the same error
    during = T0 + users.LOCKOUT - dt.timedelta(seconds=1)
    with pytest.raises(AuthenticationFailed) as caught:
        users.authenticate(session, "heidi", "right password", now=during)
    with pytest.raises(AuthenticationFailed) as unknown:
        users.authenticate(session, "nobody", "right password", now=during)
    assert str(caught.value) == str(unknown.value)

    after = T0 + users.LOCKOUT + dt.timedelta(seconds=10)
    assert users.authenticate(session, "heidi", "right password", now=after).id == user.id
    unlocked = users.get(session, user.id)
    assert (unlocked.failed_logins, unlocked.locked_until) == (0, None)
    assert [e.action for e in audit_rows(session)].count("lock") == 1


def test_a_successful_login_resets_the_failure_count(session):
    users.create(session, "ivan", actor=ADMIN, password="right password")
    for _ in range(2):
        for _ in range(users.MAX_FAILED_LOGINS - 1):
            with pytest.raises(AuthenticationFailed):
                users.authenticate(session, "ivan", "wrong", now=T0)
        users.authenticate(session, "ivan", "right password", now=T0)
    assert users.get_by_login(session, "ivan").locked_until is None


def test_after_the_lock_runs_out_a_wrong_password_does_not_lock_again_at_once(session):
    users.create(session, "judy", actor=ADMIN, password="right password")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "judy", "wrong", now=T0)
    later = T0 + users.LOCKOUT + dt.timedelta(minutes=1)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "judy", "wrong", now=later)
    assert users.get_by_login(session, "judy").locked_until is None
    assert users.authenticate(session, "judy", "right password", now=later).login == "judy"


def test_an_administrator_can_unlock_or_reset_a_locked_account(session):
    user = users.create(session, "kim", actor=ADMIN, password="right password")
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "kim", "wrong", now=T0)
    users.unlock(session, user.id, actor=ADMIN)
    assert users.authenticate(session, "kim", "right password", now=T0).id == user.id

    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "kim", "wrong", now=T0)
    users.set_password(session, user.id, "another password", actor=ADMIN)
    assert users.authenticate(session, "kim", "another password", now=T0).id == user.id


def test_old_hash_parameters_are_upgraded_at_the_next_login(session, monkeypatch):
    user = users.create(session, "leo", actor=ADMIN, password="right password")
    old_hash = user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(users, "PASSWORD_HASHER", stronger)
    users.authenticate(session, "leo", "right password")
    new_hash = users.get(session, user.id).password_hash
    assert new_hash != old_hash
    assert "m=2048,t=2,p=1" in new_hash
    assert not stronger.check_needs_rehash(new_hash)
    assert users.authenticate(session, "leo", "right password").id == user.id


def test_a_wrong_password_does_not_upgrade_the_hash(session, monkeypatch):
    user = users.create(session, "mia", actor=ADMIN, password="right password")
    old_hash = user.password_hash
    monkeypatch.setattr(
        users, "PASSWORD_HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    )
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "mia", "wrong password")
    assert users.get(session, user.id).password_hash == old_hash


def test_repeated_logins_record_the_last_login_at_most_once_a_minute(session):
    users.create(session, "ned", actor=ADMIN, password="right password")
    users.authenticate(session, "ned", "right password", now=T0)
    users.authenticate(session, "ned", "right password", now=T0 + dt.timedelta(seconds=30))
    assert users.get_by_login(session, "ned").last_login_at == T0
    later = T0 + dt.timedelta(seconds=61)
    users.authenticate(session, "ned", "right password", now=later)
    assert users.get_by_login(session, "ned").last_login_at == later


# --------------------------------------------------------------------------
# the last administrator
# --------------------------------------------------------------------------


def test_the_last_enabled_administrator_cannot_be_deleted_disabled_or_demoted(session):
    root = users.create(session, "root", actor=ADMIN, is_admin=True)
    other = users.create(session, "other", actor=ADMIN, is_admin=True, enabled=False)
    with pytest.raises(Conflict, match="last enabled global administrator"):
        users.delete(session, root.id, actor=ADMIN)
    with pytest.raises(Conflict, match="last enabled global administrator"):
        users.update(session, root.id, actor=ADMIN, is_admin=False)
    with pytest.raises(Conflict, match="last enabled global administrator"):
        users.update(session, root.id, actor=ADMIN, enabled=False)
    kept = users.get(session, root.id)
    assert kept.is_admin and kept.enabled

    users.update(session, other.id, actor=ADMIN, enabled=True)
    users.delete(session, root.id, actor=ADMIN)
    assert [u.login for u in users.list(session).items] == ["other"]


def test_deleting_a_user_removes_its_company_roles(session):
    company = make_company(session, "acme")
    user = users.create(session, "olga", actor=ADMIN)
    users.grant(session, company.id, user.id, "manager", actor=ADMIN)
    users.delete(session, user.id, actor=ADMIN)
    assert users.members(session, company.id).total == 0
    with pytest.raises(NotFound):
        users.get(session, user.id)


# --------------------------------------------------------------------------
# first start
# --------------------------------------------------------------------------


def test_ensure_admin_creates_an_administrator_with_a_random_password_once(session):
    user, password = users.ensure_admin(session, "admin")
    assert user.is_admin and user.enabled
    assert password is not None and len(password) >= 16
    assert users.authenticate(session, "admin", password).id == user.id
    assert password not in str(audit_rows(session)[0].details)

    again, second = users.ensure_admin(session, "admin")
    assert (again.id, second) == (user.id, None)
    assert users.authenticate(session, "admin", password).id == user.id
    assert users.list(session).total == 1


def test_ensure_admin_uses_a_given_password_and_returns_none(session):
    user, generated = users.ensure_admin(session, "boss", "given password")
    assert generated is None
    assert users.authenticate(session, "boss", "given password").id == user.id


def test_ensure_admin_with_users_present_creates_nobody(session):
    root = users.create(session, "root", actor=ADMIN, is_admin=True)
    user, generated = users.ensure_admin(session, "admin")
    assert (user.id, generated) == (root.id, None)
    assert users.list(session).total == 1


# --------------------------------------------------------------------------
# company roles
# --------------------------------------------------------------------------


def test_grant_regrant_and_revoke_a_company_role(session):
    acme = make_company(session, "acme")
    user = users.create(session, "pam", actor=ADMIN)
    users.grant(session, acme.id, user.id, "viewer", actor=ADMIN)
    users.grant(session, acme.id, user.id, "manager", actor=ADMIN)
    page = users.memberships(session, user.id)
    assert [(r.company_id, r.role) for r in page.items] == [(acme.id, "manager")]
    assert [e.action for e in reversed(audit_rows(session, "company_user"))] == [
        "create",
        "update",
    ]
    users.revoke(session, acme.id, user.id, actor=ADMIN)
    assert users.memberships(session, user.id).total == 0
    with pytest.raises(NotFound, match=f"membership of user {user.id} in company {acme.id}"):
        users.revoke(session, acme.id, user.id, actor=ADMIN)


def test_unknown_role_company_or_user_is_refused(session):
    acme = make_company(session, "acme")
    user = users.create(session, "quinn", actor=ADMIN)
    with pytest.raises(ValidationError, match="'owner' is not one of admin, manager, viewer"):
        users.grant(session, acme.id, user.id, "owner", actor=ADMIN)
    with pytest.raises(NotFound, match="company 999"):
        users.grant(session, 999, user.id, "viewer", actor=ADMIN)
    with pytest.raises(NotFound, match="user 999"):
        users.grant(session, acme.id, 999, "viewer", actor=ADMIN)
    assert users.memberships(session, user.id).total == 0


def test_members_of_a_company_are_listed_in_order(session):
    acme = make_company(session, "acme")
    other = make_company(session, "other")
    people = [users.create(session, f"p{i}", actor=ADMIN) for i in range(3)]
    for person, role in zip(people, ["admin", "viewer", "manager"], strict=True):
        users.grant(session, acme.id, person.id, role, actor=ADMIN)
    users.grant(session, other.id, people[0].id, "viewer", actor=ADMIN)
    page = users.members(session, acme.id, limit=2)
    assert [(r.user_id, r.role) for r in page.items] == [
        (people[0].id, "admin"),
        (people[1].id, "viewer"),
    ]
    assert page.total == 3
    with pytest.raises(NotFound):
        users.members(session, 999)
