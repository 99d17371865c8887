"""Which exceptions are a user's to fix, and how each is reported (kind, message, exit code)."""

from __future__ import annotations

from typing import Any

EXIT_ERROR = 1
EXIT_NOT_FOUND = 3


def describe_exception(exc: BaseException) -> tuple[str, str, list[str], int] | None:
    """(kind, one-line message, detail lines, exit code) for a user error; None for a bug."""
    from multiflexi.core.errors import MultiFlexiError, NotFound, ValidationError

    if isinstance(exc, MultiFlexiError):
        code = EXIT_NOT_FOUND if isinstance(exc, NotFound) else EXIT_ERROR
        errors = list(exc.errors) if isinstance(exc, ValidationError) else []
        return exc.kind, exc.message, errors, code
    import multiflexi.database as database

    if isinstance(exc, database.SettingError):
        return "configuration", f"{exc.variable}: {exc.message}", [], EXIT_ERROR
    if isinstance(exc, database.DatabaseUnavailable | database.MigrationError):
        return "database", _first_line(str(exc)), [], EXIT_ERROR
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(exc, SQLAlchemyError):
        detail = getattr(exc, "orig", None) or exc
        return "database", f"database error: {_first_line(str(detail))}", [], EXIT_ERROR
    if isinstance(exc, OSError) and exc.filename is not None:
        return "io", f"{exc.filename}: {exc.strerror or exc}", [], EXIT_ERROR
    return None


def extra_members(exc: BaseException) -> dict[str, Any]:
    """Members a script needs beside the message (``missing``: the fields a launch lacks)."""
    from multiflexi.core.errors import MissingRequired

    if isinstance(exc, MissingRequired):
        return {"missing": list(exc.missing)}
    return {}


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"
