"""Who is calling: Bearer tokens, HTTP Basic, and the web UI's session cookie.

Every operation of the API and of the compatibility layer requires one of
them, except the few registered with ``public=True`` (the OpenAPI document,
its page, login and logout, the original's ping). The caller becomes a core
:class:`~multiflexi.core.access.Principal`; the views hand it to the core, which
applies the one access policy (tenant isolation, roles).

* ``Authorization: Bearer mfx_...``: an API token (``core.tokens.authenticate``).
* ``Authorization: Basic ...``: login and password (``core.users.authenticate``,
  which throttles failed logins per client address and login: a client at the
  limit is answered 429 with ``Retry-After``, here and at ``POST /auth/login``).
* The ``session`` cookie set by ``POST /api/v1/auth/login``. A request that
  changes something with only the cookie must also send the ``X-CSRF-Token``
  header the login answered with.

A refusal is a 401 problem document that never repeats what was sent. The client
address is the peer's (``request.remote_addr``); behind a reverse proxy, have the
proxy's address replaced by the client's before the app sees it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from flask import Blueprint, Response, g, request, session

from multiflexi.core import access, tokens, users
from multiflexi.core.access import Principal
from multiflexi.core.errors import NotFound
from multiflexi.core.models import User
from multiflexi.core.users import AuthenticationFailed, LoginThrottled
from multiflexi.server import app as server_app
from multiflexi.server import openapi
from multiflexi.server.errors import problem

SESSION_USER = "user_id"
SESSION_CSRF = "csrf"
#: the fingerprint of the password the session was opened with (users.session_stamp)
SESSION_STAMP = "stamp"
CSRF_HEADER = "X-CSRF-Token"
REALM = 'Bearer realm="MultiFlexi", Basic realm="MultiFlexi"'
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_REFUSED = (
    "send an API token (Authorization: Bearer ...), a login and password "
    "(Authorization: Basic ...) or log in for a session"
)


class Unauthorized(Exception):
    """The request carries no acceptable credentials."""


def unauthorized(detail: str = _REFUSED) -> Response:
    response = problem(401, "Unauthorized", detail)
    response.headers["WWW-Authenticate"] = REALM
    return response


def throttled(refusal: LoginThrottled) -> Response:
    """429 with Retry-After: too many failed logins of this login from this client."""
    response = problem(429, "Too many failed logins", refusal.message, kind=refusal.kind)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def client_address() -> str | None:
    """The address the sign-in throttle counts the request's failed logins under."""
    return request.remote_addr


def _basic(value: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Unauthorized from None
    login, sep, password = decoded.partition(":")
    if not sep:
        raise Unauthorized
    return login, password


def _from_header(header: str) -> tuple[User, str]:
    scheme, _, value = header.partition(" ")
    db = server_app.session()
    try:
        if scheme.lower() == "bearer" and value.strip():
            return tokens.authenticate(db, value.strip()), "api:token"
        if scheme.lower() == "basic" and value.strip():
            login, password = _basic(value)
            user = users.authenticate(db, login, password, address=client_address())
            return user, "api:basic"
    except AuthenticationFailed:
        raise Unauthorized from None
    raise Unauthorized


def session_user() -> User:
    """The enabled user the session cookie names; else :class:`Unauthorized` (and the
    session is forgotten if its user is gone or disabled)."""
    user_id = session.get(SESSION_USER)
    if not isinstance(user_id, int):
        raise Unauthorized
    try:
        user = users.get(server_app.session(), user_id)
    except NotFound:
        session.clear()
        raise Unauthorized from None
    if not user.enabled or session.get(SESSION_STAMP) != users.session_stamp(user):
        session.clear()  # disabled, or its password changed since: every session ends
        raise Unauthorized
    return user


def csrf_token() -> str:
    """The session's CSRF token, made on first use (so a sign-in form has one too)."""
    token = session.get(SESSION_CSRF)
    if not isinstance(token, str) or not token:
        session[SESSION_CSRF] = token = secrets.token_urlsafe(32)
    return token


def csrf_ok(sent: str | None) -> bool:
    """Whether ``sent`` is this session's CSRF token (the one check of both faces)."""
    expected = session.get(SESSION_CSRF)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def _from_session() -> tuple[User, str]:
    user = session_user()
    if request.method not in SAFE_METHODS and not csrf_ok(request.headers.get(CSRF_HEADER)):
        raise Unauthorized
    return user, "web"


def principal_of(user: User, *, source: str) -> Principal:
    """The core principal of a signed-in user (its roles in every company)."""
    return access.principal_for(server_app.session(), user, source=source)


def identify() -> Principal:
    """The principal of the current request; else :class:`Unauthorized`, or
    :class:`~multiflexi.core.users.LoginThrottled` for a client held back."""
    header = request.headers.get("Authorization")
    user, source = _from_header(header) if header else _from_session()
    return access.principal_for(server_app.session(), user, source=source)


def current_principal() -> Principal:
    """The authenticated caller of this request (set before the view runs)."""
    principal = g.get("principal")
    if principal is None:  # a view reached without the guard: refuse, never guess
        raise RuntimeError("no authenticated principal for this request")
    return principal


def start_session(user: User) -> str:
    """Log the user in for the web UI; returns the CSRF token for changing requests."""
    session.clear()
    session[SESSION_USER] = user.id
    session[SESSION_STAMP] = users.session_stamp(user)
    session[SESSION_CSRF] = csrf = secrets.token_urlsafe(32)
    session.permanent = False
    return csrf


def keep_session(user: User) -> None:
    """After the signed-in user changed their own password: this session stays open (the
    others, opened with the old password, end)."""
    if session.get(SESSION_USER) == user.id:
        session[SESSION_STAMP] = users.session_stamp(user)


def end_session() -> None:
    session.clear()


def guard(blueprint: Blueprint) -> None:
    """Require authentication on every route of the blueprint but its operations declared
    ``public`` (:func:`multiflexi.server.openapi.operation`)."""

    @blueprint.before_request
    def _authenticate() -> Response | None:
        if openapi.is_public(request.endpoint):
            return None
        try:
            g.principal = identify()
        except Unauthorized:
            return unauthorized()
        except LoginThrottled as refusal:
            return throttled(refusal)
        return None


__all__ = [
    "CSRF_HEADER",
    "SAFE_METHODS",
    "Unauthorized",
    "client_address",
    "csrf_ok",
    "csrf_token",
    "current_principal",
    "end_session",
    "guard",
    "identify",
    "keep_session",
    "principal_of",
    "session_user",
    "start_session",
    "throttled",
    "unauthorized",
]
