"""Errors as RFC 9457 problem documents (``application/problem+json``).

The core's user-facing errors become 4xx answers with a useful title and
detail; nothing a user sent is echoed back for authentication failures, and no
traceback ever reaches a client.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

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


def _for_core_error(exc: errors.MultiFlexiError) -> Response:
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            status, title = STATUS_OF[kind]
            break
    else:
        status, title = 400, "Bad request"
    extra: dict[str, Any] = {"kind": exc.kind}
    if isinstance(exc, errors.ValidationError):
        extra["errors"] = exc.errors
        if isinstance(exc, errors.MissingRequired):
            extra["missing"] = exc.missing
        return problem(status, title, exc.summary, **extra)
    return problem(status, title, exc.message, **extra)


def _for_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    return problem(status, exc.name, exc.description if status != 401 else None)


def _for_anything_else(exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem(500, "Internal server error", "the error was logged")


def register(app: Flask) -> None:
    app.register_error_handler(errors.MultiFlexiError, _for_core_error)
    app.register_error_handler(HTTPException, _for_http_error)
    app.register_error_handler(Exception, _for_anything_else)
