"""Typed configuration values: check a value against an application field's type.

Values are stored as strings (as in the original). A check returns the
normalised string to store, or raises ``ValueError`` with a message that fits
after the field name ("APP_PORT: 'x' is not an integer").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", ""})
SECRET_TYPES = frozenset({"password", "secret"})
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _string(value: str, _options: Any) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _integer(value: str, _options: Any) -> str:
    text = value.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"{value!r} is not an integer")
    return str(int(text))


def _float(value: str, _options: Any) -> str:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return text


def _bool(value: str, _options: Any) -> str:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise ValueError(f"{value!r} is not a yes/no value (use true or false)")


def _email(value: str, _options: Any) -> str:
    text = value.strip()
    if not _EMAIL_RE.match(text):
        raise ValueError(f"{value!r} is not an e-mail address")
    return text


def _url(value: str, _options: Any) -> str:
    text = value.strip()
    parts = urlsplit(text)
    if not parts.scheme or not (parts.netloc or parts.scheme == "file"):
        raise ValueError(f"{value!r} is not a URL (expected scheme://host/...)")
    return text


def allowed_options(options: Any) -> list[str]:
    """The allowed values of a set field: a list, or the keys of a value -> label map."""
    if isinstance(options, dict):
        return [str(k) for k in options]
    if isinstance(options, Iterable) and not isinstance(options, str):
        return [str(o) for o in options]
    return []


def _set(value: str, options: Any) -> str:
    allowed = allowed_options(options)
    if allowed and value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


CHECKS: dict[str, Callable[[str, Any], str]] = {
    "string": _string,
    "text": _string,
    "password": _string,
    "secret": _string,
    "file-path": _string,
    "integer": _integer,
    "float": _float,
    "bool": _bool,
    "email": _email,
    "url": _url,
    "set": _set,
}


def check(field_type: str, value: str, options: Any = None) -> str:
    """The normalised value, or ``ValueError``; an unknown type is checked as a string."""
    if not isinstance(value, str):
        value = _stringify(value)
    return CHECKS.get(field_type, _string)(value, options)


def _stringify(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_WORDS


def is_secret_type(field_type: str) -> bool:
    return field_type in SECRET_TYPES
