"""API tokens: random bearer secrets, shown once, kept only as SHA-256 hashes.

A token reads ``mfx_`` followed by 43 URL-safe characters (256 random bits).
Its first :data:`PREFIX_LENGTH` characters are stored in clear as ``prefix`` so
people can tell their tokens apart; the whole token never reaches the database,
the audit log or a message. A token works until it is revoked or expires, and
only while its user is enabled (a password lock-out does not stop it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, schedules, users
from multiflexi.core.audit import Actor
from multiflexi.core.errors import FieldError, NotFound, ValidationError
from multiflexi.core.models import ApiToken, User
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, paginate, transaction
from multiflexi.core.users import AuthenticationFailed

TOKEN_PREFIX = "mfx_"  # noqa: S105 - a public marker, not a secret
TOKEN_BYTES = 32
PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
#: ``last_used_at`` is written at most this often per token (no write per request)
LAST_USED_INTERVAL = dt.timedelta(minutes=1)
_TOKEN_LENGTH = len(TOKEN_PREFIX) + len(secrets.token_urlsafe(TOKEN_BYTES))
_NAME_MAX = 255
_ENTITY = "api_token"


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def _expiry(
    expires_at: dt.datetime | None, expires_in: dt.timedelta | None, moment: dt.datetime
) -> dt.datetime | None:
    if expires_at is not None and expires_in is not None:
        raise ValidationError(msg("give either an expiry time or a lifetime, not both"))
    if expires_in is not None:
        if expires_in <= dt.timedelta(0):
            raise ValidationError(
                msg("invalid lifetime"),
                [FieldError("expires_in", msg("a token's lifetime must be positive"), "")],
            )
        return moment + expires_in
    if expires_at is not None:
        if expires_at.tzinfo is None or expires_at.utcoffset() is None:
            problem = FieldError("expires_at", msg("the expiry time needs a time zone"), "")
            raise ValidationError(msg("invalid expiry"), [problem])
        if expires_at <= moment:
            raise ValidationError(
                msg("invalid expiry"),
                [FieldError("expires_at", msg("the expiry time is in the past"), "")],
            )
        return expires_at.astimezone(dt.UTC)
    return None


def create(
    session: Session,
    user_id: int,
    name: str,
    *,
    actor: Actor,
    expires_at: dt.datetime | None = None,
    expires_in: dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token of the user, and its plaintext: the only time anyone sees it.

    Without ``expires_at`` or ``expires_in`` the token works until revoked.
    """
    moment = schedules.now_or(now)
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > _NAME_MAX:
        raise ValidationError(
            msg("invalid token name"),
            [FieldError("name", msg("1 to {name_max} characters", name_max=_NAME_MAX), "")],
        )
    expiry = _expiry(expires_at, expires_in, moment)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    with transaction(session, conflict=msg("could not store the token; try again")):
        users.get(session, user_id)
        token = ApiToken(
            user_id=user_id,
            name=name,
            token_hash=_digest(plaintext),
            prefix=plaintext[:PREFIX_LENGTH],
            created_at=moment,
            expires_at=expiry,
        )
        session.add(token)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            _ENTITY,
            token.id,
            details={
                "user_id": user_id,
                "name": name,
                "prefix": token.prefix,
                "expires_at": None if expiry is None else expiry.isoformat(),
            },
        )
    return token, plaintext


def get(session: Session, token_id: int) -> ApiToken:
    """The token with this id (its hash and prefix, never the plaintext), else NotFound."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("API token", token_id)
    return token


def list(
    session: Session,
    *,
    user_id: int | None = None,
    active_only: bool = False,
    now: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[ApiToken]:
    """Tokens by id, of one user or of all; ``active_only`` leaves out revoked and expired ones."""
    query = sa.select(ApiToken)
    if user_id is not None:
        users.get(session, user_id)
        query = query.where(ApiToken.user_id == user_id)
    if active_only:
        moment = schedules.now_or(now)
        query = query.where(
            ApiToken.revoked_at.is_(None),
            sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > moment),
        )
    return paginate(session, query, ApiToken.id, limit, offset)


def revoke(
    session: Session, token_id: int, *, actor: Actor, now: dt.datetime | None = None
) -> ApiToken:
    """Stop the token from working. Revoking a revoked token changes nothing."""
    moment = schedules.now_or(now)
    with transaction(session):
        token = get(session, token_id)
        if token.revoked_at is None:
            token.revoked_at = moment
            audit.record(
                session,
                actor,
                "revoke",
                _ENTITY,
                token.id,
                details={"user_id": token.user_id, "prefix": token.prefix},
            )
    return token


def authenticate(session: Session, plaintext: str, *, now: dt.datetime | None = None) -> User:
    """The enabled user a valid token belongs to; else users.AuthenticationFailed."""
    moment = schedules.now_or(now)
    if (
        not isinstance(plaintext, str)
        or len(plaintext) != _TOKEN_LENGTH
        or not plaintext.startswith(TOKEN_PREFIX)
    ):
        raise AuthenticationFailed()
    digest = _digest(plaintext)
    token = session.scalars(sa.select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        raise AuthenticationFailed()
    if token.revoked_at is not None or (
        token.expires_at is not None and token.expires_at <= moment
    ):
        raise AuthenticationFailed()
    user = session.get(User, token.user_id)
    if user is None or not user.enabled:
        raise AuthenticationFailed()
    last = token.last_used_at
    if last is None or moment - last >= LAST_USED_INTERVAL:
        with transaction(session):
            token.last_used_at = moment
    return user


__all__ = [
    "LAST_USED_INTERVAL",
    "TOKEN_PREFIX",
    "authenticate",
    "create",
    "get",
    "list",
    "revoke",
]
