"""What the server reads of a request: the body's size and the JSON's nesting.

- ``MULTIFLEXI_MAX_BODY`` (bytes, or with a ``K``, ``M`` or ``G`` suffix) caps a request
  body; a larger one is answered 413 before it is read (Flask's ``MAX_CONTENT_LENGTH``).
  The default leaves room for an application manifest with its icons.
- A JSON body nested deeper than :data:`MAX_JSON_DEPTH` is answered 400 on every route
  (the API, the login, the compatibility layer) before any view parses it: deep enough
  for every real document, far from the depth at which a parser or a validator would
  run out of stack.

The sizes of environment values are the core's rule (:mod:`multiflexi.core.limits`).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Mapping

from flask import Flask, Response, request

from multiflexi.core.errors import ConfigurationError
from multiflexi.server.errors import problem

#: the largest request body by default: 16 MiB
DEFAULT_MAX_BODY = 16 * 1024 * 1024
#: the deepest JSON a request body may hold (arrays and objects inside each other)
MAX_JSON_DEPTH = 64
MAX_BODY_VARIABLE = "MULTIFLEXI_MAX_BODY"

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:I?B)?\s*$", re.IGNORECASE)
#: a JSON string (its escapes included), whose brackets are text, not structure
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: opening brackets become 2, closing ones 0, everything else is dropped
_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[{]}"))


def max_body(environ: Mapping[str, str]) -> int:
    """The body size limit in bytes; a wrong setting raises ConfigurationError naming it."""
    text = environ.get(MAX_BODY_VARIABLE)
    if not text:
        return DEFAULT_MAX_BODY
    match = _SIZE.match(text)
    size = int(match[1]) * _UNITS[match[2].upper()] if match else 0
    if size < 1024:
        raise ConfigurationError(
            MAX_BODY_VARIABLE,
            f"{text!r} is not a size of at least 1024 bytes (write bytes, or 512K, 16M, 1G)",
        )
    return size


def json_depth(data: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (0 for a scalar).

    Counted without parsing and without a loop in Python: strings are cut out, the
    brackets left are mapped to 2 (opening) and 0 (closing), and after ``k`` brackets
    the running sum less ``k`` is the depth there.
    """
    brackets = _JSON_STRING.sub(b"", data).translate(_BRACKETS, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(map(operator.sub, itertools.accumulate(brackets), itertools.count(1)))


def _refuse_deep_json() -> Response | None:
    if not request.is_json or not request.content_length:
        return None
    if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        return problem(
            400,
            "Bad request",
            f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
            kind="validation",
        )
    return None


def install(app: Flask, environ: Mapping[str, str]) -> None:
    """Apply the body size limit and the JSON nesting check to every route of ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = max_body(environ)
    app.before_request(_refuse_deep_json)


__all__ = [
    "DEFAULT_MAX_BODY",
    "MAX_BODY_VARIABLE",
    "MAX_JSON_DEPTH",
    "install",
    "json_depth",
    "max_body",
]
