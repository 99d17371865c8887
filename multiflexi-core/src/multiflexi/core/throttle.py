"""The sign-in throttle: failed logins counted per client address and login.

A client that gets one login's password wrong :data:`MAX_FAILURES` times within
:data:`WINDOW` is refused for that login (:class:`LoginThrottled`, with the
seconds until it may try again) until the window ends, even with the right
password, so it learns nothing more. The account itself is never locked: the
same login keeps working from every other address, so strangers cannot lock a
global administrator out. A successful login from the address clears its count.

* The state lives in the database (``login_throttles``), so every server
  process and worker thread sees the same counts.
* An IPv6 client counts by its /64 network (one host holds a whole /64), an
  IPv4-mapped IPv6 address as the IPv4 address.
* The login is compared without letter case, as :func:`users.authenticate`
  finds logins. Address and login are kept only as keyed SHA-256 hashes (the key
  is derived from ENCRYPTION_MASTER_KEY when it is set), so a password typed
  into the login field by mistake is never stored readable.

The rule is one for every face: the API's HTTP Basic, its login endpoint and the
web UI's form all call :func:`multiflexi.core.users.authenticate`, which applies
it; the faces only turn :class:`LoginThrottled` into their answer (HTTP 429 with
``Retry-After``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import math
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.unit import rowcount
from multiflexi.database.tables import login_throttles as _table

#: failed logins of one login from one client within :data:`WINDOW` before it is refused
MAX_FAILURES = 10
#: the window the failures are counted in, from the first one; the refusal lasts until its end
WINDOW = dt.timedelta(minutes=15)
#: a client whose address is unknown (no peer address): all such share one count per login
UNKNOWN_CLIENT = "unknown"
_IPV6_PREFIX = 64
_KEY_CONTEXT = b"multiflexi sign-in throttle\x00"
_RETRIES = 3


class LoginThrottled(MultiFlexiError):
    """Too many failed logins of this login from this client; ``retry_after`` seconds to wait."""

    kind = "throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed logins from this address; try again in {retry_after} seconds"
        )
        self.retry_after = retry_after


def client_of(address: str | None) -> str:
    """The client a peer address counts as: the address, or its /64 network for IPv6."""
    text = (address or "").strip()
    if not text:
        return UNKNOWN_CLIENT
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:255]  # not an IP address (a Unix socket's name): taken as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, _IPV6_PREFIX)))
    return str(ip)


def _secret(session: Session) -> bytes:
    settings = session.info.get("settings")
    master_key = getattr(settings, "master_key", None) or ""
    return hashlib.sha256(_KEY_CONTEXT + master_key.encode("utf-8")).digest()


def _digest(secret: bytes, *parts: str) -> str:
    data = b"\x00".join(p.encode("utf-8", "surrogatepass") for p in parts)
    return hmac.new(secret, data, hashlib.sha256).hexdigest()


def _keys(session: Session, address: str | None, login: str) -> tuple[str, str]:
    """(key of the client and login, key of the login alone)."""
    secret = _secret(session)
    name = login.lower() if isinstance(login, str) else ""
    return _digest(secret, "pair", client_of(address), name), _digest(secret, "login", name)


def _seconds_until(end: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def check(session: Session, address: str | None, login: str, *, now: dt.datetime) -> int:
    """The failures counted in the current window, or :class:`LoginThrottled` at the limit.

    Call it before checking a password, so a refused client learns nothing from it.
    """
    key, _ = _keys(session, address, login)
    row = session.execute(
        sa.select(_table.c.failures, _table.c.window_ends_at).where(_table.c.key == key)
    ).first()
    if row is None or row.window_ends_at <= now:
        return 0
    if row.failures >= MAX_FAILURES:
        raise LoginThrottled(_seconds_until(row.window_ends_at, now))
    return int(row.failures)


class Count(NamedTuple):
    """The failed logins of a client and login in the current window, and when it ends."""

    failures: int
    window_ends_at: dt.datetime


def record_failure(session: Session, address: str | None, login: str, *, now: dt.datetime) -> Count:
    """Count one failed login; returns the count in the window. Commits on its own.

    Concurrent failures of the same client and login (several server processes)
    each count: the increment is done by the database, and of two processes that
    start a window at once, the one whose insert loses counts in the other's window.
    """
    key, login_key = _keys(session, address, login)
    for attempt in range(_RETRIES):
        try:
            counted = session.execute(
                sa.update(_table)
                .where(_table.c.key == key, _table.c.window_ends_at > now)
                .values(failures=_table.c.failures + 1)
            )
            if not rowcount(counted):
                # none yet, or its window ended: start a new one (and forget every ended one)
                session.execute(sa.delete(_table).where(_table.c.window_ends_at <= now))
                session.execute(
                    sa.insert(_table).values(
                        key=key, login_key=login_key, failures=1, window_ends_at=now + WINDOW
                    )
                )
            row = session.execute(
                sa.select(_table.c.failures, _table.c.window_ends_at).where(_table.c.key == key)
            ).one()
            session.commit()
            return Count(int(row.failures), row.window_ends_at)
        except IntegrityError:
            session.rollback()
            if attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def forget(session: Session, address: str | None, login: str) -> None:
    """Clear the count of this client and login (it logged in). In the caller's transaction."""
    key, _ = _keys(session, address, login)
    session.execute(sa.delete(_table).where(_table.c.key == key))


def held_back(session: Session, logins: Iterable[str], *, now: dt.datetime) -> set[str]:
    """Those of ``logins`` that some client is refused for now (at the limit in its window).

    One query for all of them (a list page asks for its page of users at once).
    """
    wanted = {name: _keys(session, None, name)[1] for name in logins if isinstance(name, str)}
    if not wanted:
        return set()
    found = set(
        session.scalars(
            sa.select(_table.c.login_key).where(
                _table.c.login_key.in_(set(wanted.values())),
                _table.c.failures >= MAX_FAILURES,
                _table.c.window_ends_at > now,
            )
        )
    )
    return {name for name, key in wanted.items() if key in found}


def lift(session: Session, login: str) -> int:
    """Clear the counts of this login from every client; returns how many. In the caller's
    transaction (an administrator's unlock, a new password)."""
    _, login_key = _keys(session, None, login)
    return rowcount(session.execute(sa.delete(_table).where(_table.c.login_key == login_key)))


__all__ = [
    "MAX_FAILURES",
    "UNKNOWN_CLIENT",
    "WINDOW",
    "Count",
    "LoginThrottled",
    "check",
    "client_of",
    "forget",
    "held_back",
    "lift",
    "record_failure",
]
