"""Reading a submitted form into the typed values a core call takes (no rules here),
and the core's validation errors into messages shown beside their fields."""

from __future__ import annotations

from flask import request

from multiflexi.core.errors import ValidationError

#: the key under which messages about no particular field are shown (above the form)
GENERAL = ""


def text(name: str, default: str = "") -> str:
    """A text field as sent, with surrounding blanks removed."""
    return (request.form.get(name) or default).strip()


def optional_text(name: str) -> str | None:
    """A text field, None when left blank."""
    value = text(name)
    return value or None


def checkbox(name: str) -> bool:
    return request.form.get(name) in ("on", "1", "true", "yes")


def problems_of(exc: ValidationError) -> dict[str, list[str]]:
    """Field name -> messages of a core validation error (GENERAL for the whole form)."""
    found: dict[str, list[str]] = {}
    for problem in exc.placed():
        found.setdefault(problem.field or GENERAL, []).append(problem.message)
    return found


def form_problems(exc: ValidationError) -> dict[str, list[str]]:
    """:func:`problems_of`, or the error's summary above the form when it lists none."""
    return problems_of(exc) if exc.problems else {GENERAL: [exc.summary]}
