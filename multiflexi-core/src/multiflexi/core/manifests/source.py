"""Reading a JSON document from bytes, text, a file or an already parsed mapping."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeAlias

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests.localized import type_name
from multiflexi.core.texts import msg

#: what the parse functions accept: JSON text (str or bytes), a file path
#: (`pathlib.Path` or another `os.PathLike`) or a mapping parsed already
Source: TypeAlias = str | bytes | os.PathLike[str] | Mapping[str, Any]


def label(what: str, source: Source) -> str:
    """How messages name a document: its kind, and its file when it came from one."""
    if isinstance(source, os.PathLike):
        return f"{what} {os.fspath(source)}"
    return what


def load_object(source: Source, what: str) -> dict[str, Any]:
    """The JSON object in `source`; `what` names the kind of document in messages.

    Anything that is not a readable JSON object raises `ValidationError` saying
    why, with the line and column for a syntax error. A mapping is deep-copied,
    so later steps never change the caller's data.
    """
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    name = label(what, source)
    if isinstance(source, os.PathLike):
        try:
            raw: str | bytes = Path(source).read_bytes()
        except OSError as exc:
            raise ValidationError(
                msg("{name} cannot be read", name=name), [exc.strerror or str(exc)]
            ) from None
    elif isinstance(source, str | bytes):
        raw = source
    else:
        raise ValidationError(
            msg(
                "{what} must be JSON text, a file path or a mapping, not {type}",
                what=what,
                type=type(source).__name__,
            )
        )
    text = _decode(raw, name)
    try:
        document = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            msg("{name} is not valid JSON", name=name),
            [f"line {exc.lineno}, column {exc.colno}: {exc.msg.removesuffix(' at')}"],
        ) from None
    except ValueError as exc:
        raise ValidationError(msg("{name} is not valid JSON", name=name), [str(exc)]) from None
    except RecursionError:
        raise ValidationError(msg("{name} is nested too deeply", name=name)) from None
    if not isinstance(document, dict):
        raise ValidationError(
            msg("{name} must be a JSON object", name=name), [f"found {type_name(document)}"]
        )
    return document


def _decode(raw: str | bytes, name: str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            msg("{name} is not UTF-8 text", name=name),
            [f"byte {exc.start}: invalid {exc.reason}"],
        ) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
