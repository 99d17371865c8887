"""The interchange schemas (package data) and readable lists of their violations."""

from __future__ import annotations

import json
import re
import uuid as uuidlib
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib.resources import files
from typing import Any, Literal
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema import ValidationError as SchemaError

from multiflexi.core.errors import FieldError
from multiflexi.core.manifests.localized import localized_problem

SchemaName = Literal["application", "credential-prototype", "credential-type"]

#: what an exported manifest names as its ``$schema`` and ``schemaVersion``
APPLICATION_SCHEMA_URL = (
    "https://raw.githubusercontent.com/VitexSoftware/php-vitexsoftware-multiflexi-core/"
    "refs/heads/main/schema/application.json"
)
APPLICATION_SCHEMA_VERSION = "3.4.0"
CREDENTIAL_PROTOTYPE_SCHEMA_URL = (
    "https://raw.githubusercontent.com/VitexSoftware/php-vitexsoftware-multiflexi-core/"
    "refs/heads/main/schema/credential-prototype.json"
)

_LONGEST_VALUE = 60


@cache
def load_schema(name: SchemaName) -> dict[str, Any]:
    """One of the bundled schemas, parsed."""
    text = files("multiflexi.core").joinpath("schemas", f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


_UUID_SHAPE = re.compile(
    r"[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}"
)


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a uuid in RFC 4122's canonical 8-4-4-4-12 hex form."""
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))


def kept_uuid(document: Mapping[str, Any]) -> str | None:
    """The uuid of a document that is uuid-shaped (8-4-4-4-12 letters and digits) but not
    RFC 4122 hex, as real manifests have ("...-1z5a9f2b8c7d"): kept as given, with a
    warning, as the original keeps it. None for a valid, absent or otherwise wrong one."""
    value = document.get("uuid")
    if isinstance(value, str) and _UUID_SHAPE.fullmatch(value) and not is_uuid(value):
        return value
    return None


def uuid_note(value: str) -> str:
    """The warning for a uuid kept as given (see :func:`kept_uuid`)."""
    return f"uuid: {short(value)} is not an RFC 4122 uuid (hex digits only); kept as given"


def canonical_uuid(value: str) -> str:
    """An RFC 4122 uuid in lower case; one kept as given (:func:`kept_uuid`) as it is."""
    return str(uuidlib.UUID(value)) if is_uuid(value) else value


def tolerating_kept_uuid(
    document: Mapping[str, Any], violations: list[FieldError]
) -> list[FieldError]:
    """``violations`` without the uuid's, when the uuid is one kept as given."""
    if kept_uuid(document) is None:
        return violations
    return [problem for problem in violations if problem.field != "uuid"]


def _format_checker() -> FormatChecker:
    """Only the formats we check ourselves, so results never depend on optional packages."""
    checker = FormatChecker(formats=())

    @checker.checks("uuid")
    def _is_uuid(instance: object) -> bool:
        return not isinstance(instance, str) or is_uuid(instance)

    @checker.checks("uri")
    def _is_uri(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        if any(c.isspace() for c in instance):
            return False
        parts = urlsplit(instance)
        return bool(parts.scheme and (parts.netloc or parts.path))

    return checker


@cache
def _validator(name: SchemaName) -> Draft7Validator:
    return Draft7Validator(load_schema(name), format_checker=_format_checker())


def schema_problems(document: Any, name: SchemaName) -> list[FieldError]:
    """Every way `document` breaks schema `name`, each at its place, sorted by line."""
    return readable(_describe(error) for error in _validator(name).iter_errors(document))


def schema_violations(document: Any, name: SchemaName) -> list[str]:
    """Every way `document` breaks schema `name`, one readable line each, sorted."""
    return [problem.line for problem in schema_problems(document, name)]


def readable(problems: Iterable[FieldError]) -> list[FieldError]:
    """Sorted by their lines, and without repeated lines."""
    by_line = {problem.line: problem for problem in problems}
    return [by_line[line] for line in sorted(by_line)]


def problem_at(where: str, what: str) -> FieldError:
    """A violation at ``where`` (a :func:`location`): its field, or the whole document."""
    return FieldError(None, what, where) if where == DOCUMENT else FieldError(where, what)


#: how a message names the document itself (a violation of no one field)
DOCUMENT = "(document)"


def location(path: Sequence[object]) -> str:
    """``environment.FOO.type``, ``artifacts[0].path``; the document itself is ``(document)``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or DOCUMENT


def short(value: Any) -> str:
    """A value as a message shows it: Python-style, cut when long."""
    text = repr(value)
    return text if len(text) <= _LONGEST_VALUE else text[: _LONGEST_VALUE - 1] + "…"


def _describe(error: SchemaError) -> FieldError:
    return problem_at(location(error.absolute_path), _message(error))


def _message(error: SchemaError) -> str:
    kind = error.validator
    value = error.instance
    expected = error.validator_value
    if kind == "oneOf" and _is_localized(error.schema):
        return localized_problem(value) or "must be a text or an object of language code to text"
    if kind == "type":
        return f"{short(value)} is not of type {_join(expected)}"
    if kind == "enum":
        return f"{short(value)} is not one of {expected!r}"
    if kind == "pattern":
        return f"{short(value)} does not match {expected!r}"
    if kind == "format":
        return f"{short(value)} is not a valid {expected}"
    if kind == "oneOf":
        return f"{short(value)} is not valid under any of the given forms"
    message = str(error.message)
    return message if len(message) <= 200 else message[:199] + "…"


def _join(expected: Any) -> str:
    if isinstance(expected, list):
        return " or ".join(repr(item) for item in expected)
    return repr(expected)


def _is_localized(schema: Any) -> bool:
    """Is this sub-schema the formats' ``localizedString`` (a string or a language object)?"""
    if not isinstance(schema, dict) or not isinstance(schema.get("oneOf"), list):
        return False
    options = schema["oneOf"]
    return (
        len(options) == 2
        and options[0] == {"type": "string"}
        and isinstance(options[1], dict)
        and "en" in options[1].get("properties", {})
    )
