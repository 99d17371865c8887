"""Reading a submitted form into the typed values a core call takes (no rules here),
the core's validation errors into messages shown beside their fields, and the input
an application's field is shown with (its run template's page and the wizard)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask import request

from multiflexi.core import fieldtypes
from multiflexi.core.errors import FieldError, MultiFlexiError, ValidationError
from multiflexi.core.models import ApplicationField
from multiflexi.server.web.i18n import localized

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
    """Field name -> messages of a core validation error (GENERAL for the whole form),
    in the page's language."""
    found: dict[str, list[str]] = {}
    for problem in exc.placed():
        found.setdefault(problem.field or GENERAL, []).append(localized(problem.message))
    return found


def form_problems(exc: ValidationError) -> dict[str, list[str]]:
    """:func:`problems_of`, or the error's summary above the form when it lists none."""
    return problems_of(exc) if exc.problems else {GENERAL: [localized(exc.summary)]}


def problem_lines(exc: MultiFlexiError) -> list[str]:
    """A core error's problems one line each (``field: message``), in the page's language;
    the error's message when it lists none."""
    if isinstance(exc, ValidationError) and exc.problems:
        return [_line(problem) for problem in exc.problems]
    return [localized(exc.message)]


def _line(problem: FieldError) -> str:
    name = problem.field if problem.label is None else problem.label
    message = localized(problem.message)
    return f"{name}: {message}" if name else message


def time_zones() -> list[str]:
    """The IANA zone names a schedule may use (read from disk once: it walks the tz database)."""
    return sorted(available_timezones())


def field_widget(field: ApplicationField) -> str:
    """The input a field's type calls for."""
    if field.is_secret:
        return "password"
    kind = (field.type or "string").lower()
    if kind in ("bool", "boolean", "checkbox", "switch"):
        return "checkbox"
    if kind in ("set", "select", "enum") or fieldtypes.allowed_options(field.options):
        return "select"
    if kind in ("integer", "float", "number"):
        return "number"
    if kind in ("email", "url"):
        return kind
    if kind == "text" or field.multiline:
        return "textarea"
    return "text"


#: the prefix of a configuration value's input (the core's problems name ``values.NAME``)
VALUES = "values."
#: the prefix of the hidden input that says a checkbox was on the form (unticked sends nothing)
PRESENT = "present."


def checkbox_change(field: ApplicationField, before: str | None) -> str | None:
    """What a checkbox field's form sets: "true" or "false" when the box differs from
    ``before`` (the stored value, else the default), None when it does not or was not
    on the form."""
    if PRESENT + field.name not in request.form:
        return None
    checked = checkbox(VALUES + field.name)
    if fieldtypes.is_true(before) == checked:
        return None
    return "true" if checked else "false"


def field_options(field: ApplicationField) -> list[tuple[str, str]]:
    if isinstance(field.options, dict):
        return [(str(key), str(label)) for key, label in field.options.items()]
    return [(value, value) for value in fieldtypes.allowed_options(field.options)]
