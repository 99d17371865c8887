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

from multiflexi.core import limits

TRUE_WORDS = frozenset({"true", "1", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "n", ""})
SECRET_TYPES = frozenset({"password", "secret"})
#: the characters Python's ``str.isspace`` and ``strip`` take for blanks, spelled out so that
#: a pattern means the same in Python, in JSON Schema (ECMA-262) and in pydantic (Rust)
BLANKS = r"\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: an e-mail address (of a company, or a value of an ``email`` field)
EMAIL_PATTERN = rf"^[^@\x00{BLANKS}]+@[^@\x00{BLANKS}]+\.[^@\x00{BLANKS}]+$"
_EMAIL_RE = re.compile(EMAIL_PATTERN)


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
    if not _EMAIL_RE.fullmatch(text):
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
    limits.check_value(value)
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


# -- secret by name --------------------------------------------------------------------
#
# Manifests often type an API key or a token as plain ``text`` or ``string``. So a field
# (or a company variable) is secret by its NAME as well, by a conservative rule:
#
# 1. the name is split into words at every character that is not a letter or a digit
#    (``CSAS_API_KEY`` -> CSAS, API, KEY), upper-cased;
# 2. it is secret when a word is, or ends with, PASSWORD, PASSWD, PASSPHRASE, SECRET or
#    TOKEN (``OFFICE365_CLSECRET``, ``KIMAI_TOKEN``), or is PASS, APIKEY or PRIVATEKEY;
#    plurals do not count (``PROBE_SHOW_SECRETS`` is a switch, not a secret);
# 3. unless a word after the last such word says the name is about the secret rather
#    than the secret itself: ``TOKEN_URL``, ``PASSWORD_POLICY``, ``PASSWORD_MIN_LENGTH``,
#    ``FIO_TOKEN_NAME``, ``PASSWORD_FILE`` (see NOT_SECRET_AFTER);
# 4. it is also secret when its last two words are API KEY, PRIVATE KEY, ACCESS KEY,
#    SECRET KEY, MASTER KEY, ENCRYPTION KEY or SIGNING KEY (``AWS_ACCESS_KEY_ID`` is not:
#    it ends in KEY ID);
# 5. a field whose type is a yes/no or a choice from listed options is never secret by
#    its name (its value cannot be a secret, and masking "true" would blank out output).

#: words that make a name secret when a word is, or ends with, one of them
SECRET_NAME_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN")
#: words that make a name secret only as whole words
SECRET_NAME_WHOLE_WORDS = frozenset({"PASS", "APIKEY", "PRIVATEKEY"})
#: last two words that make a name secret
SECRET_NAME_ENDINGS = frozenset(
    {
        ("API", "KEY"),
        ("PRIVATE", "KEY"),
        ("ACCESS", "KEY"),
        ("SECRET", "KEY"),
        ("MASTER", "KEY"),
        ("ENCRYPTION", "KEY"),
        ("SIGNING", "KEY"),
    }
)
#: words that, after a secret word, make the name about the secret, not the secret itself
NOT_SECRET_AFTER = frozenset(
    {
        "URL", "URI", "ENDPOINT", "HOST", "HOSTNAME", "PORT", "SERVER", "DOMAIN",
        "POLICY", "RULES", "LENGTH", "LEN", "MIN", "MAX", "SIZE", "STRENGTH",
        "EXPIRY", "EXPIRES", "EXPIRE", "EXPIRATION", "TTL", "LIFETIME", "AGE", "TIMEOUT",
        "INTERVAL", "TYPE", "KIND", "FORMAT", "ENCODING", "ALGORITHM", "ALG", "MODE",
        "FILE", "FILENAME", "PATH", "DIR", "DIRECTORY", "LOCATION",
        "NAME", "USER", "USERNAME", "LOGIN", "ID", "LABEL", "HINT", "FIELD", "HEADER",
        "PARAM", "PARAMETER", "PREFIX", "SCOPE", "SCOPES", "ISSUER", "AUDIENCE",
        "PROVIDER", "METHOD", "VERSION", "COUNT", "RESET", "ROTATION", "REGEX", "PATTERN",
        "ENABLED", "DISABLED", "REQUIRED",
    }
)  # fmt: skip
#: field types whose values are never secret by the field's name
NEVER_SECRET_BY_NAME_TYPES = frozenset({"bool", "boolean", "checkbox", "switch", "set", "select"})
_NAME_WORD = re.compile(r"[A-Z0-9]+")


def _is_secret_word(word: str) -> bool:
    return word in SECRET_NAME_WHOLE_WORDS or word.endswith(SECRET_NAME_WORDS)


def is_secret_name(name: str) -> bool:
    """Whether a variable named ``name`` holds a secret, by the rule above."""
    words = _NAME_WORD.findall(name.upper())
    if tuple(words[-2:]) in SECRET_NAME_ENDINGS:
        return True
    last = max((i for i, word in enumerate(words) if _is_secret_word(word)), default=None)
    if last is None:
        return False
    return not any(word in NOT_SECRET_AFTER for word in words[last + 1 :])


def is_secret_field(name: str, field_type: str, flagged: bool = False) -> bool:
    """Whether a field's values are secret: flagged so, of a secret type, or by its name.

    The one rule for encryption at rest, redaction in views and masking in job output.
    """
    if flagged or is_secret_type(field_type):
        return True
    return field_type not in NEVER_SECRET_BY_NAME_TYPES and is_secret_name(name)


__all__ = [
    "BLANKS",
    "CHECKS",
    "EMAIL_PATTERN",
    "FALSE_WORDS",
    "NEVER_SECRET_BY_NAME_TYPES",
    "NOT_SECRET_AFTER",
    "SECRET_NAME_ENDINGS",
    "SECRET_NAME_WHOLE_WORDS",
    "SECRET_NAME_WORDS",
    "SECRET_TYPES",
    "TRUE_WORDS",
    "allowed_options",
    "check",
    "is_secret_field",
    "is_secret_name",
    "is_secret_type",
    "is_true",
]
