"""Accounts, passwords, logins, the sign-in throttle, the first administrator and company roles."""

import datetime as dt
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from multiflexi.core import audit, config, throttle, users
from multiflexi.core import models as m
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.users import AuthenticationFailed, LoginThrottled
from multiflexi.database import tables

ADMIN = audit.Actor.cli()
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
#: the client addresses logins come from
HOME = "192.0.2.10"
STRANGER = "203.0.113.66"


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


def test_a_chosen_language_is_kept_and_an_unknown_one_refused(session):
    user = users.create(session, "bob", actor=ADMIN)
    assert users.language_of(user) is None
    users.update(session, user.id, actor=ADMIN, language="cs")
    assert users.language_of(users.get(session, user.id)) == "cs"
    assert audit_rows(session)[0].details == {"settings": {"language": "cs"}}
    with pytest.raises(ValidationError, match="unknown language 'xx'") as refused:
        users.update(session, user.id, actor=ADMIN, language="xx")
    assert refused.value.for_field("language") == [str(refused.value)]
    assert users.language_of(users.get(session, user.id)) == "cs"
    users.update(session, user.id, actor=ADMIN, language="")
    assert users.language_of(users.get(session, user.id)) is None


def test_the_session_stamp_changes_with_the_password_only(session):
    user = users.create(session, "bob", actor=ADMIN, password="correct horse")
    stamp = users.session_stamp(user)
    users.update(session, user.id, actor=ADMIN, email="bob@example.com")
    assert users.session_stamp(users.get(session, user.id)) == stamp
    users.set_password(session, user.id, "battery staple", actor=ADMIN)
    assert users.session_stamp(users.get(session, user.id)) != stamp
    assert user.password_hash not in stamp and len(stamp) == 16


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
    assert users.authenticate(session, "dave", "s3cret-pass", now=T0, address=HOME).id == user.id
    assert users.get(session, user.id).last_login_at == T0


def test_short_password_is_refused_with_a_clear_message_and_changes_nothing(session):
    with pytest.raises(ValidationError, match="at least 8 characters"):
        users.create(session, "eve", actor=ADMIN, password="1234567")
    assert users.list(session).total == 0
    user = users.create(session, "eve", actor=ADMIN, password="long enough")
    with pytest.raises(ValidationError, match="at least 8 characters"):
        users.set_password(session, user.id, "short", actor=ADMIN)
    assert users.authenticate(session, "eve", "long enough", address=HOME).id == user.id


def test_set_password_replaces_the_old_one_and_the_audit_log_does_not_hold_it(session):
    user = users.create(session, "frank", actor=ADMIN, password="old password")
    users.set_password(session, user.id, "new password", actor=ADMIN)
    assert users.authenticate(session, "frank", "new password", address=HOME).id == user.id
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "frank", "old password", address=HOME)
    assert audit_rows(session)[0].details == {"password": "changed"}


def test_user_without_password_cannot_log_in(session):
    users.create(session, "robot", actor=ADMIN)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "robot", "", address=HOME)


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
            users.authenticate(session, login, password, address=HOME)
        seen[case] = (type(caught.value), caught.value.kind, str(caught.value))
        assert hasher.verifications - before == 1, case
        assert password not in str(caught.value)
    assert len(set(seen.values())) == 1, seen
    assert seen["unknown login"][1] == "authentication"


def fail(session, login, times, *, address, now=T0):
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, login, "a wrong guess", address=address, now=now)


def test_failures_from_one_address_hold_back_that_address_only_until_the_window_ends(session):
    user = users.create(session, "heidi", actor=ADMIN, password="right password", is_admin=True)
    fail(session, "heidi", users.MAX_FAILED_LOGINS, address=STRANGER)

    # the stranger is refused, even with the right password, and told how long to wait
    during = T0 + dt.timedelta(minutes=5)
    with pytest.raises(LoginThrottled) as caught:
        users.authenticate(session, "heidi", "right password", address=STRANGER, now=during)
    assert caught.value.retry_after == (throttle.WINDOW - dt.timedelta(minutes=5)).seconds
    assert caught.value.kind == "throttled"
    assert "heidi" not in str(caught.value)

    # the administrator still logs in from her own address; the account is not locked
    assert users.authenticate(session, "heidi", "right password", address=HOME, now=during) == user
    assert users.get(session, user.id).locked_until is None
    # and the stranger may still try other logins
    fail(session, "somebody-else", 1, address=STRANGER, now=during)

    after = T0 + throttle.WINDOW
    assert users.authenticate(session, "heidi", "right password", address=STRANGER, now=after)
    throttled = [e for e in audit_rows(session) if e.action == "throttle"]
    assert len(throttled) == 1
    assert throttled[0].details["client"] == STRANGER
    assert throttled[0].details["failed_logins"] == users.MAX_FAILED_LOGINS
    assert throttled[0].details["until"] == (T0 + throttle.WINDOW).isoformat()


def test_unknown_logins_are_throttled_alike_so_a_refusal_reveals_nothing(session):
    users.create(session, "ivy", actor=ADMIN, password="right password")
    fail(session, "ivy", users.MAX_FAILED_LOGINS, address=STRANGER)
    fail(session, "no-such-user", users.MAX_FAILED_LOGINS, address=STRANGER)
    for login in ("ivy", "no-such-user", "IVY"):  # letter case does not make a new count
        with pytest.raises(LoginThrottled):
            users.authenticate(session, login, "another guess", address=STRANGER, now=T0)


def test_a_successful_login_clears_the_count_of_its_address(session):
    users.create(session, "ivan", actor=ADMIN, password="right password")
    for _ in range(3):
        fail(session, "ivan", users.MAX_FAILED_LOGINS - 1, address=HOME)
        assert users.get_by_login(session, "ivan").failed_logins == users.MAX_FAILED_LOGINS - 1
        users.authenticate(session, "ivan", "right password", address=HOME, now=T0)
        assert users.get_by_login(session, "ivan").failed_logins == 0


def test_after_the_window_a_wrong_password_starts_a_new_count(session):
    users.create(session, "judy", actor=ADMIN, password="right password")
    fail(session, "judy", users.MAX_FAILED_LOGINS, address=HOME)
    later = T0 + throttle.WINDOW + dt.timedelta(minutes=1)
    fail(session, "judy", users.MAX_FAILED_LOGINS - 1, address=HOME, now=later)
    assert users.authenticate(session, "judy", "right password", address=HOME, now=later)


def test_an_administrator_lifts_the_throttle_from_every_address(session):
    user = users.create(session, "kim", actor=ADMIN, password="right password")
    for address in (HOME, STRANGER):
        fail(session, "kim", users.MAX_FAILED_LOGINS, address=address)
    users.unlock(session, user.id, actor=ADMIN)
    for address in (HOME, STRANGER):
        assert users.authenticate(session, "kim", "right password", address=address, now=T0)
    assert [e.action for e in audit_rows(session)].count("unlock") == 1

    fail(session, "kim", users.MAX_FAILED_LOGINS, address=HOME)
    users.set_password(session, user.id, "another password", actor=ADMIN)
    assert users.authenticate(session, "kim", "another password", address=HOME, now=T0)


def test_an_ipv6_client_counts_by_its_64_network(session):
    users.create(session, "lou", actor=ADMIN, password="right password")
    for host in range(1, users.MAX_FAILED_LOGINS + 1):
        fail(session, "lou", 1, address=f"2001:db8:0:7::{host:x}")
    with pytest.raises(LoginThrottled):
        users.authenticate(session, "lou", "right password", address="2001:db8:0:7::ffff", now=T0)
    assert users.authenticate(session, "lou", "right password", address="2001:db8:0:8::1", now=T0)
    assert throttle.client_of("2001:db8:0:7:1:2:3:4") == "2001:db8:0:7::/64"
    assert throttle.client_of("::ffff:192.0.2.10") == HOME
    assert throttle.client_of(None) == throttle.client_of("") == throttle.UNKNOWN_CLIENT


def test_nothing_readable_of_the_login_or_address_is_stored(session):
    users.create(session, "max", actor=ADMIN, password="right password")
    mistake = "my-Secret-Passw0rd"  # typed into the login field
    fail(session, mistake, 1, address=STRANGER)
    fail(session, "max", 1, address=STRANGER)
    rows = session.execute(sa.select(tables.login_throttles)).all()
    assert len(rows) == 2
    text = repr(rows).lower()
    assert mistake.lower() not in text and "max" not in text and STRANGER not in text


def _failures_in_a_process(url: str, master_key: str, count: int) -> str:
    script = textwrap.dedent(
        f"""
        import datetime as dt, os
        from argon2 import PasswordHasher
        from multiflexi.core import config, users
        users.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        settings = config.load_settings(environ={{
            "DATABASE_URL": {url!r}, "ENCRYPTION_MASTER_KEY": {master_key!r},
            "MULTIFLEXI_DATA_DIR": os.getcwd()}}, env_file=os.devnull)
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            for _ in range({count}):
                try:
                    users.authenticate(session, "nina", "guess", address={STRANGER!r})
                except users.AuthenticationFailed:
                    pass
        """
    )
    return script


def test_processes_share_the_count(session, settings, tmp_path):
    """Several server processes guessing at once: every failure counts, in every process."""
    users.create(session, "nina", actor=ADMIN, password="right password")
    per_process = users.MAX_FAILED_LOGINS // 2
    script = _failures_in_a_process(settings.database_url, settings.master_key, per_process)
    running = [
        subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for process in running:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    with pytest.raises(LoginThrottled):
        users.authenticate(session, "nina", "right password", address=STRANGER)
    assert users.get_by_login(session, "nina").failed_logins == 2 * per_process


# --------------------------------------------------------------------------
# verified passwords are remembered briefly
# --------------------------------------------------------------------------


@pytest.fixture
def counting(monkeypatch):
    hasher = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(users, "PASSWORD_HASHER", hasher)
    return hasher


def login_costs(counting, session, login, password, now=T0):
    """How many argon2 verifications one successful login took."""
    before = counting.verifications
    users.authenticate(session, login, password, address=HOME, now=now)
    return counting.verifications - before


def test_a_verified_password_is_not_hashed_again_until_the_ttl_runs_out(session, counting):
    users.create(session, "olga", actor=ADMIN, password="right password")
    assert login_costs(counting, session, "olga", "right password") == 1
    within = T0 + users.VERIFIED_TTL - dt.timedelta(seconds=1)
    assert login_costs(counting, session, "olga", "right password", now=within) == 0
    # a wrong password is always checked, and fails
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "olga", "right passwork", address=HOME, now=within)
    assert (
        login_costs(counting, session, "olga", "right password", now=T0 + users.VERIFIED_TTL) == 1
    )


def test_a_new_password_a_disabled_account_or_a_role_change_drop_the_memory(session, counting):
    user = users.create(session, "pia", actor=ADMIN, password="right password")
    assert login_costs(counting, session, "pia", "right password") == 1

    # changed in another session (as another server process would)
    with config.session_factory(session.get_bind(), session.info["settings"])() as other:
        users.set_password(other, user.id, "a new password", actor=ADMIN)
    session.expire_all()
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "pia", "right password", address=HOME, now=T0)
    assert login_costs(counting, session, "pia", "a new password") == 1

    users.update(session, user.id, actor=ADMIN, enabled=False)
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "pia", "a new password", address=HOME, now=T0)
    users.update(session, user.id, actor=ADMIN, enabled=True)

    users.update(session, user.id, actor=ADMIN, is_admin=True)
    assert login_costs(counting, session, "pia", "a new password") == 1
    assert login_costs(counting, session, "pia", "a new password") == 0


def test_a_throttled_client_is_refused_even_with_a_remembered_password(session, counting):
    users.create(session, "quinn", actor=ADMIN, password="right password")
    users.authenticate(session, "quinn", "right password", address=HOME, now=T0)
    fail(session, "quinn", users.MAX_FAILED_LOGINS, address=STRANGER)
    with pytest.raises(LoginThrottled):
        users.authenticate(session, "quinn", "right password", address=STRANGER, now=T0)
    assert login_costs(counting, session, "quinn", "right password") == 0


def test_old_hash_parameters_are_upgraded_at_the_next_login(session, monkeypatch):
    user = users.create(session, "leo", actor=ADMIN, password="right password")
    old_hash = user.password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    monkeypatch.setattr(users, "PASSWORD_HASHER", stronger)
    users.authenticate(session, "leo", "right password", address=HOME)
    new_hash = users.get(session, user.id).password_hash
    assert new_hash != old_hash
    assert "m=2048,t=2,p=1" in new_hash
    assert not stronger.check_needs_rehash(new_hash)
    assert users.authenticate(session, "leo", "right password", address=HOME).id == user.id


def test_a_wrong_password_does_not_upgrade_the_hash(session, monkeypatch):
    user = users.create(session, "mia", actor=ADMIN, password="right password")
    old_hash = user.password_hash
    monkeypatch.setattr(
        users, "PASSWORD_HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    )
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "mia", "wrong password", address=HOME)
    assert users.get(session, user.id).password_hash == old_hash


def test_repeated_logins_record_the_last_login_at_most_once_a_minute(session):
    users.create(session, "ned", actor=ADMIN, password="right password")
    users.authenticate(session, "ned", "right password", now=T0, address=HOME)
    users.authenticate(
        session, "ned", "right password", now=T0 + dt.timedelta(seconds=30), address=HOME
    )
    assert users.get_by_login(session, "ned").last_login_at == T0
    later = T0 + dt.timedelta(seconds=61)
    users.authenticate(session, "ned", "right password", now=later, address=HOME)
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
    assert users.authenticate(session, "admin", password, address=HOME).id == user.id
    assert password not in str(audit_rows(session)[0].details)

    again, second = users.ensure_admin(session, "admin")
    assert (again.id, second) == (user.id, None)
    assert users.authenticate(session, "admin", password, address=HOME).id == user.id
    assert users.list(session).total == 1


def test_ensure_admin_uses_a_given_password_and_returns_none(session):
    user, generated = users.ensure_admin(session, "boss", "given password")
    assert generated is None
    assert users.authenticate(session, "boss", "given password", address=HOME).id == user.id


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


def test_a_company_admin_cannot_lower_or_remove_their_own_role(session):
    from multiflexi.core import access

    acme = make_company(session, "acme")
    ada = users.create(session, "ada", actor=ADMIN)
    ben = users.create(session, "ben", actor=ADMIN)
    users.grant(session, acme.id, ada.id, "admin", actor=ADMIN)
    users.grant(session, acme.id, ben.id, "admin", actor=ADMIN)
    as_ada = access.principal_for(session, ada, source="test")
    rows_before = len(audit_rows(session, "company_user"))
    for lower in ("manager", "viewer"):
        with pytest.raises(Conflict, match="ask another administrator of the company"):
            users.grant(session, acme.id, ada.id, lower, actor=as_ada)
    with pytest.raises(Conflict, match="or a global administrator"):
        users.revoke(session, acme.id, ada.id, actor=as_ada)
    session.rollback()
    assert [(r.company_id, r.role) for r in users.memberships(session, ada.id).items] == [
        (acme.id, "admin")
    ]
    assert len(audit_rows(session, "company_user")) == rows_before
    assert not users.may_change_own_role(as_ada, ada.id)
    # keeping one's own role is no change; another administrator's role is theirs to change
    users.grant(session, acme.id, ada.id, "admin", actor=as_ada)
    users.grant(session, acme.id, ben.id, "viewer", actor=as_ada)
    users.revoke(session, acme.id, ben.id, actor=as_ada)
    assert users.may_change_own_role(as_ada, ben.id)
    # a global administrator changes anyone's role, their own included
    root = users.create(session, "root2", actor=ADMIN)
    root.is_admin = True
    users.grant(session, acme.id, root.id, "admin", actor=ADMIN)
    session.commit()
    as_root = access.principal_for(session, root, source="test")
    users.grant(session, acme.id, root.id, "viewer", actor=as_root)
    users.revoke(session, acme.id, root.id, actor=as_root)
    users.grant(session, acme.id, ada.id, "manager", actor=as_root)
    assert users.memberships(session, ada.id).items[0].role == "manager"


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


# --------------------------------------------------------------------------
# the first administrator, made from the web UI of a new installation
# --------------------------------------------------------------------------


def test_the_first_account_is_an_administrator_and_a_second_first_one_is_refused(session):
    assert not users.any_exist(session)
    first = users.create_first_admin(session, "boss", "a long enough password")
    assert first.is_admin and first.enabled
    assert users.any_exist(session)
    signed_in = users.authenticate(session, "boss", "a long enough password", address=HOME)
    assert signed_in.id == first.id
    with pytest.raises(Conflict, match="already exists"):
        users.create_first_admin(session, "intruder", "another long password")
    assert [u.login for u in users.list(session).items] == ["boss"]


def test_a_bad_first_administrator_is_refused_and_nothing_is_stored(session):
    with pytest.raises(ValidationError):
        users.create_first_admin(session, "boss", "short")
    assert not users.any_exist(session)
