"""API tokens: shown once, stored hashed, refused when revoked, expired or disabled."""

import datetime as dt
import hashlib

import pytest

from multiflexi.core import audit, tokens, users
from multiflexi.core.errors import NotFound, ValidationError
from multiflexi.core.testing import database_bytes, database_rows
from multiflexi.core.users import AuthenticationFailed

ADMIN = audit.Actor.cli()
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def user(session):
    return users.create(session, "tina", actor=ADMIN, password="tina's password")


def test_a_new_token_is_random_recognisable_and_stored_only_as_its_sha256(session, user):
    token, plaintext = tokens.create(session, user.id, "deploy", actor=ADMIN, now=T0)
    _, other = tokens.create(session, user.id, "deploy", actor=ADMIN, now=T0)
    assert plaintext.startswith("mfx_")
    assert len(plaintext) >= 4 + 43  # 32 random bytes, URL-safe
    assert other != plaintext
    assert token.prefix == plaintext[:12]
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.created_at == T0 and token.expires_at is None
    assert tokens.authenticate(session, plaintext, now=T0).id == user.id
    assert tokens.authenticate(session, other, now=T0).id == user.id


def test_wrong_or_malformed_tokens_get_the_same_error_as_a_wrong_password(session, user):
    _, plaintext = tokens.create(session, user.id, "deploy", actor=ADMIN)
    flipped = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    with pytest.raises(AuthenticationFailed) as wrong_password:
        users.authenticate(session, "tina", "not her password", address="192.0.2.10")
    for bad in (flipped, "", "mfx_", plaintext + "x", "Bearer " + plaintext, plaintext[4:]):
        with pytest.raises(AuthenticationFailed) as caught:
            tokens.authenticate(session, bad)
        assert str(caught.value) == str(wrong_password.value)
        assert plaintext not in str(caught.value)


def test_an_expired_token_is_refused(session, user):
    _, plaintext = tokens.create(
        session, user.id, "short", actor=ADMIN, expires_in=dt.timedelta(hours=1), now=T0
    )
    assert tokens.authenticate(session, plaintext, now=T0 + dt.timedelta(minutes=59)).id == user.id
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session, plaintext, now=T0 + dt.timedelta(hours=1))


def test_an_expiry_time_works_like_a_lifetime(session, user):
    until = T0 + dt.timedelta(days=30)
    token, plaintext = tokens.create(
        session, user.id, "month", actor=ADMIN, expires_at=until, now=T0
    )
    assert token.expires_at == until
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session, plaintext, now=until + dt.timedelta(seconds=1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"expires_at": T0 - dt.timedelta(seconds=1)}, "in the past"),
        ({"expires_at": dt.datetime(2030, 1, 1)}, "time zone"),
        ({"expires_in": dt.timedelta(0)}, "must be positive"),
        (
            {"expires_at": T0 + dt.timedelta(days=1), "expires_in": dt.timedelta(days=1)},
            "not both",
        ),
        ({"name": "  "}, "invalid token name"),
    ],
)
def test_impossible_token_requests_are_refused_and_store_nothing(session, user, kwargs, message):
    kwargs = {"name": "ci", **kwargs}
    with pytest.raises(ValidationError, match=message):
        tokens.create(session, user.id, actor=ADMIN, now=T0, **kwargs)
    assert tokens.list(session).total == 0


def test_a_token_for_a_missing_user_is_refused(session):
    with pytest.raises(NotFound, match="user 42"):
        tokens.create(session, 42, "ci", actor=ADMIN)


def test_a_revoked_token_is_refused_and_revoking_twice_changes_nothing(session, user):
    token, plaintext = tokens.create(session, user.id, "ci", actor=ADMIN, now=T0)
    revoked = tokens.revoke(session, token.id, actor=ADMIN, now=T0 + dt.timedelta(hours=1))
    assert revoked.revoked_at == T0 + dt.timedelta(hours=1)
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session, plaintext, now=T0 + dt.timedelta(hours=2))
    tokens.revoke(session, token.id, actor=ADMIN, now=T0 + dt.timedelta(hours=3))
    assert tokens.get(session, token.id).revoked_at == T0 + dt.timedelta(hours=1)
    actions = [e.action for e in audit.entries(session, entity_type="api_token").items]
    assert actions == ["revoke", "create"]
    with pytest.raises(NotFound, match="API token 999"):
        tokens.revoke(session, 999, actor=ADMIN)


def test_a_disabled_users_tokens_stop_working_but_a_sign_in_throttle_does_not_stop_them(
    session, user
):
    _, plaintext = tokens.create(session, user.id, "ci", actor=ADMIN)
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            users.authenticate(session, "tina", "guess", address="192.0.2.10")
    with pytest.raises(users.LoginThrottled):
        users.authenticate(session, "tina", "guess", address="192.0.2.10")
    assert tokens.authenticate(session, plaintext).id == user.id

    users.update(session, user.id, actor=ADMIN, enabled=False)
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session, plaintext)


def test_deleting_the_user_deletes_its_tokens(session, user):
    _, plaintext = tokens.create(session, user.id, "ci", actor=ADMIN)
    users.delete(session, user.id, actor=ADMIN)
    assert tokens.list(session).total == 0
    with pytest.raises(AuthenticationFailed):
        tokens.authenticate(session, plaintext)


def test_last_use_is_recorded_at_most_once_a_minute(session, user):
    token, plaintext = tokens.create(session, user.id, "ci", actor=ADMIN, now=T0)
    assert token.last_used_at is None
    tokens.authenticate(session, plaintext, now=T0)
    tokens.authenticate(session, plaintext, now=T0 + dt.timedelta(seconds=59))
    assert tokens.get(session, token.id).last_used_at == T0
    tokens.authenticate(session, plaintext, now=T0 + dt.timedelta(seconds=60))
    assert tokens.get(session, token.id).last_used_at == T0 + dt.timedelta(seconds=60)


def test_list_shows_tokens_per_user_in_order_and_can_hide_dead_ones(session, user):
    other = users.create(session, "uma", actor=ADMIN)
    first, _ = tokens.create(session, user.id, "one", actor=ADMIN, now=T0)
    tokens.create(session, other.id, "theirs", actor=ADMIN, now=T0)
    short, _ = tokens.create(
        session, user.id, "short", actor=ADMIN, expires_in=dt.timedelta(minutes=5), now=T0
    )
    third, _ = tokens.create(session, user.id, "three", actor=ADMIN, now=T0)
    tokens.revoke(session, first.id, actor=ADMIN, now=T0)

    mine = tokens.list(session, user_id=user.id)
    assert [t.name for t in mine.items] == ["one", "short", "three"]
    assert mine.total == 3
    alive = tokens.list(session, user_id=user.id, active_only=True, now=T0 + dt.timedelta(hours=1))
    assert [t.id for t in alive.items] == [third.id]
    assert tokens.list(session, limit=1, offset=1).items[0].name == "theirs"
    with pytest.raises(NotFound):
        tokens.list(session, user_id=999)
    assert short.id in {t.id for t in tokens.list(session).items}


def test_no_password_or_token_in_plain_text_anywhere_in_the_database(session, engine):
    """Every secret that passed through the core, searched for in every table and the raw file."""
    admin, generated = users.ensure_admin(session, "admin")
    user = users.create(session, "victor", actor=ADMIN, password="victor's first pw")
    users.set_password(session, user.id, "victor's second pw", actor=ADMIN)
    users.authenticate(session, "victor", "victor's second pw", address="192.0.2.10")
    with pytest.raises(AuthenticationFailed):
        users.authenticate(session, "victor", "a guessed password", address="192.0.2.10")
    secrets = [generated, "victor's first pw", "victor's second pw", "a guessed password"]
    for i in range(3):
        token, plaintext = tokens.create(session, admin.id, f"t{i}", actor=ADMIN)
        tokens.authenticate(session, plaintext)
        secrets.append(plaintext)
    tokens.revoke(session, token.id, actor=ADMIN)
    session.close()

    dump = database_rows(engine)
    assert "api_tokens:" in dump and "audit_log:" in dump
    assert dump.count("$argon2id$") == 2  # the two password hashes are there, as hashes
    raw = database_bytes(engine)
    for secret in secrets:
        assert secret not in dump
        assert secret.encode() not in raw
