"""Errors as RFC 9457 problem documents (``application/problem+json``).

The core's user-facing errors become 4xx answers with a useful title and
detail; nothing a user sent is echoed back for authentication failures, and no
traceback ever reaches a client.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, json
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from multiflexi.core import errors

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

#: core error kind -> (HTTP status, title)
STATUS_OF: dict[type[errors.MultiFlexiError], tuple[int, str]] = {
    errors.NotFound: (404, "Not found"),
    errors.ValidationError: (422, "Invalid input"),
    errors.Conflict: (409, "Conflict"),
    errors.InvalidTransition: (409, "Not possible in this state"),
    errors.PermissionDenied: (403, "Forbidden"),
    errors.ConfigurationError: (503, "Server misconfigured"),
    errors.SchemaMismatch: (503, "Database schema mismatch"),
    errors.DecryptionError: (500, "Secrets cannot be decrypted"),
}


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM)


@dataclasses.dataclass(frozen=True)
class Problem:
    """What went wrong, before it is shown as a problem document or as a page."""

    status: int
    title: str
    detail: str | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()


#: app.extensions key of the web UI's renderer: ``(problem) -> Response | None``, None
#: when the request is not for a page (then the problem document answers)
PAGE_RENDERER = "multiflexi.error_page"


def _answer(found: Problem) -> Response:
    render: Callable[[Problem], Response | None] | None = current_app.extensions.get(PAGE_RENDERER)
    response = render(found) if render is not None else None
    if response is None:
        response = problem(found.status, found.title, found.detail, **found.extra)
    for name, value in found.headers:
        response.headers.add(name, value)
    return response


def status_of(exc: errors.MultiFlexiError) -> tuple[int, str]:
    """The HTTP status and title a core error is answered with, in every face."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400, "Bad request"


def core_problem(exc: errors.MultiFlexiError) -> Problem:
    status, title = status_of(exc)
    extra: dict[str, Any] = {"kind": exc.kind}
    if isinstance(exc, errors.ValidationError):
        extra["errors"] = exc.errors
        extra["fields"] = [{"field": p.field, "message": p.message} for p in exc.placed()]
        if isinstance(exc, errors.MissingRequired):
            extra["missing"] = exc.missing
        return Problem(status, title, exc.summary, extra)
    return Problem(status, title, exc.message, extra)


def for_core_error(exc: errors.MultiFlexiError, **members: Any) -> Response:
    """The problem document of a core error; a face may add its own ``members``."""
    found = core_problem(exc)
    return problem(found.status, found.title, found.detail, **found.extra, **members)


def _for_core_error(exc: errors.MultiFlexiError) -> Response:
    return _answer(core_problem(exc))


def _for_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    detail = exc.description if status != 401 else None
    if isinstance(exc, RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        detail = f"the request body is larger than {limit} bytes (MULTIFLEXI_MAX_BODY)"
    # what the error says in its headers stays said: Allow of a 405, WWW-Authenticate, ...
    headers = tuple(
        (name, value) for name, value in exc.get_headers() if name.lower() != "content-type"
    )
    return _answer(Problem(status, exc.name, detail, headers=headers))


def says_read_only(message: str) -> bool:
    """Whether a database's error message says it refuses writes."""
    said = message.lower()
    return any(words in said for words in ("readonly", "read-only", "read only"))


def _database_problem(said: str) -> tuple[str, str] | None:
    """(title, detail) of a database that cannot do the work now, or None for a bug."""
    if says_read_only(said):
        return "Database is read-only", "the database is read-only; nothing was changed"
    if "unable to open database file" in said:
        return "Database missing", "the database file cannot be opened; nothing was changed"
    if "no such table" in said:
        return (
            "Database schema missing",
            "the database has no MultiFlexi schema (was its file replaced?); nothing was changed",
        )
    return None


def _for_database_error(exc: sa.exc.DBAPIError) -> Response:
    said = str(exc.orig or exc).splitlines()[0] if str(exc.orig or exc) else type(exc).__name__
    found = _database_problem(said)
    if found is None and isinstance(exc, sa.exc.OperationalError):
        found = "Database unavailable", "the database cannot be used now; nothing was changed"
    if found is None:
        return _for_anything_else(exc)
    title, detail = found
    log.error("%s: %s", title, said)
    return _answer(Problem(503, title, detail, {"kind": "database"}))


def _for_anything_else(exc: Exception) -> Response:
    log.exception("unhandled error")
    return _answer(Problem(500, "Internal server error", "the error was logged"))


def register(app: Flask) -> None:
    app.register_error_handler(errors.MultiFlexiError, _for_core_error)
    app.register_error_handler(HTTPException, _for_http_error)
    app.register_error_handler(sa.exc.DBAPIError, _for_database_error)
    app.register_error_handler(Exception, _for_anything_else)
