"""Open a database and turn connection failures into one-line, password-free errors.

:func:`connect` yields a SQLAlchemy ``Connection`` in a transaction. Whatever stops it
from opening (a driver that is not installed, a refused TCP connection, a wrong
password, a database that does not exist, an SQLite file that cannot be opened)
becomes :class:`~multiflexi.database.errors.DatabaseUnavailable` with a ``problem``
and a message that never contains the password.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from multiflexi.database.errors import DatabaseUnavailable, Problem
from multiflexi.database.tables import REDACTED

__all__ = [
    "CONNECT_TIMEOUT",
    "MIN_HIDDEN_LENGTH",
    "connect",
    "create_engine_for",
    "describe_failure",
    "hide_password",
    "missing_sqlite_file",
    "where",
]

#: seconds to wait for a server before calling it unreachable
CONNECT_TIMEOUT = 10

#: a password at least this long is hidden wherever it appears in a driver's message;
#: a shorter one only where it stands as a password (see :func:`hide_password`)
MIN_HIDDEN_LENGTH = 4

#: the pip extra that brings each backend's driver
_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql"}

# phrases of the PostgreSQL (libpq) and MariaDB/MySQL client messages, by problem
_PHRASES: list[tuple[Problem, tuple[str, ...]]] = [
    (
        "authentication",
        (
            "password authentication failed",
            "no password supplied",
            "access denied for user",
            "authentication failed",
            "role ",
        ),
    ),
    ("database", ("database ", "unknown database", "unable to open database file")),
    (
        "unreachable",
        (
            "connection refused",
            "could not connect",
            "can't connect",
            "could not translate host name",
            "name or service not known",
            "temporary failure in name resolution",
            "timeout expired",
            "timed out",
            "no route to host",
            "network is unreachable",
            "connection to server",
            "unknown mysql server host",
            "no such file or directory",
        ),
    ),
]
# MariaDB/MySQL client and server error codes, by problem
_MYSQL_CODES: dict[int, Problem] = {
    1044: "database",  # access denied to this database
    1045: "authentication",
    1049: "database",
    1698: "authentication",
    2002: "unreachable",
    2003: "unreachable",
    2005: "unreachable",
    2013: "unreachable",
}


def create_engine_for(url: str | URL) -> Engine:
    """An engine without a pool (migrations are short) and with a connect timeout."""
    parsed = make_url(url) if isinstance(url, str) else url
    connect_args: dict[str, object] = {}
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "mysql") and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)


@contextlib.contextmanager
def connect(url: str | URL) -> Iterator[Connection]:
    """A connection to ``url`` inside a transaction that commits when the block ends.

    Raises :class:`DatabaseUnavailable` when the connection cannot be opened.
    """
    parsed = _parse(url)
    try:
        engine = create_engine_for(parsed)
        connection = engine.connect()
    except Exception as exc:
        raise describe_failure(exc, parsed) from None
    try:
        with connection.begin():
            yield connection
    finally:
        connection.close()
        engine.dispose()


def _parse(url: str | URL) -> URL:
    if not isinstance(url, str):
        return url
    try:
        return make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable("other", "not a database URL") from None


def describe_failure(exc: BaseException, url: URL) -> DatabaseUnavailable:
    """Classify why opening ``url`` failed, with a one-line, password-free message."""
    backend = url.get_backend_name()
    place = where(url)
    if isinstance(exc, NoSuchModuleError):
        return DatabaseUnavailable("driver", f"unknown database driver {url.drivername!r}")
    if isinstance(exc, ImportError):
        extra = _EXTRAS.get(backend)
        hint = f": pip install 'multiflexi-database[{extra}]'" if extra else ""
        module = exc.name or "its module"
        return DatabaseUnavailable(
            "driver", f"the {url.drivername} driver is not installed ({module}){hint}"
        )
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    problem = _classify(original, _first_line(str(original)))
    detail = _first_line(hide_password(str(original), url.password))
    if problem == "authentication":
        user = url.username or "(no user)"
        message = f"login refused for user {user!r} on {place}: {detail}"
    elif problem == "database":
        message = f"cannot open database {url.database!r} on {place}: {detail}"
    elif problem == "unreachable":
        message = f"cannot reach the database server at {place}: {detail}"
    else:
        message = f"cannot use the database at {place}: {detail}"
    if backend == "sqlite":
        message = f"cannot open the SQLite database {url.database or ':memory:'!r}: {detail}"
    return DatabaseUnavailable(problem, message)


def _classify(original: BaseException, detail: str) -> Problem:
    args = getattr(original, "args", ())
    if args and isinstance(args[0], int) and args[0] in _MYSQL_CODES:
        return _MYSQL_CODES[args[0]]
    lowered = detail.lower()
    for problem, phrases in _PHRASES:
        if any(phrase in lowered for phrase in phrases):
            return problem
    return "other"


def where(url: URL) -> str:
    """Where a database is, password-free: the SQLite path, or ``host:port``."""
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    host = url.host or str(url.query.get("host") or url.query.get("unix_socket") or "localhost")
    return f"{host}:{url.port}" if url.port else host


def hide_password(text: str, password: str | None) -> str:
    """``text`` (a driver's message) with ``password`` replaced by :data:`REDACTED`.

    Where the password stands as one (a URL's ``user:password@``, a connection string's
    ``password=...``, plain or URL-encoded) it is always hidden. Anywhere else only when it
    is at least :data:`MIN_HIDDEN_LENGTH` characters long: a shorter one cannot be told
    from the text around it, and replacing it there would garble the message ("port 1
    failed" with the password "1") without hiding anything.
    """
    if not password:
        return text
    forms = sorted({password, quote(password, safe="")}, key=len, reverse=True)
    for form in forms:
        text = text.replace(f":{form}@", f":{REDACTED}@")
        for quote_mark in ("'", '"'):
            text = re.sub(
                rf"(?i)\b(password\s*=\s*){quote_mark}{re.escape(form)}{quote_mark}",
                rf"\g<1>{quote_mark}{REDACTED}{quote_mark}",
                text,
            )
        text = re.sub(
            rf"(?i)\b(password\s*=\s*){re.escape(form)}(?=[\s;,&)]|$)",
            rf"\g<1>{REDACTED}",
            text,
        )
    if len(password) >= MIN_HIDDEN_LENGTH:
        for form in forms:
            text = text.replace(form, REDACTED)
    return text


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else "no details"
    if line.startswith("(") and "," in line and line.endswith(")"):
        # PyMySQL: (2003, "Can't connect to ...") -> the message part
        line = line[1:-1].split(",", 1)[1].strip().strip("\"'")
    return line[:300]


def missing_sqlite_file(url: str | URL) -> bool:
    """True for an SQLite file that does not exist (reading it must not create it)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return False
    return not Path(database).exists()
