"""What every resource module of the API shares: the page shape, text rules, the caller."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from flask import Response, json, url_for
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
)

from multiflexi.core import fieldtypes, limits
from multiflexi.core.ids import MAX_ID
from multiflexi.core.unit import MAX_LIMIT
from multiflexi.core.unit import Page as CorePage
from multiflexi.server.request import Output, Query

T = TypeVar("T")


def _printable(value: str) -> str:
    """Refuse text no database stores faithfully: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _date_time_text(value: Any) -> Any:
    """Take a date-time only as ISO 8601 text: pydantic would also read a number (or text
    that is one) as seconds since 1970, which the documented ``format: date-time`` is not."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and not _is_number(value):
        return value
    raise ValueError("must be an ISO 8601 date-time with a time zone, e.g. 2026-01-31T08:00:00Z")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


#: a date-time the client sends: ISO 8601 text with a time zone, never a bare number
DateTime = Annotated[AwareDatetime, BeforeValidator(_date_time_text)]


#: the check of all text a client sends; after the constraints (``Field``) of a text type,
#: so that they stay in its JSON Schema: ``Annotated[str, Field(...), Printable]``
Printable = AfterValidator(_printable)
#: no NUL characters (what :data:`Printable` checks, as the JSON Schema states it)
NO_NUL = r"^[^\x00]*$"
#: text a client may send
Text = Annotated[str, Field(pattern=NO_NUL), Printable]
#: text with something besides blanks in it
Filled = Annotated[str, Field(pattern=rf"^[^\x00]*[^\x00{fieldtypes.BLANKS}][^\x00]*$"), Printable]
#: an environment variable's name, as the core takes it
VariableName = Annotated[
    str,
    Field(pattern=limits.VARIABLE_NAME_PATTERN, description="an environment variable name"),
]
#: only what the schema of a mapping's keys allows (``patternProperties``), nothing else
ONLY_NAMED = Field(json_schema_extra={"additionalProperties": False})
#: an environment variable's value: at most MAX_VALUE_BYTES bytes of UTF-8 (so, characters)
VariableValue = Annotated[
    str,
    Field(
        pattern=NO_NUL,
        description=f"at most {limits.MAX_VALUE_BYTES} bytes of UTF-8",
        # stated here, checked by the core (in bytes), whose message names the variable
        json_schema_extra={"maxLength": limits.MAX_VALUE_BYTES},
    ),
    Printable,
]


def or_empty(pattern: str) -> str:
    """A ``^...$`` pattern that also takes the empty string."""
    return f"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"


#: an id a client may send in a body or a filter
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Page(Output, Generic[T]):
    """A slice of a list in a stable order, with the total number of matches."""

    items: list[T]
    total: int = Field(description="how many match, over all pages")
    limit: int
    offset: int


class ListQuery(Query):
    """Paging of every list."""

    limit: int = Field(100, ge=1, le=MAX_LIMIT, description="page size")
    offset: int = Field(0, ge=0, le=MAX_ID, description="items to skip")


class Deleted(Output):
    """What a deletion removed besides the object itself."""

    deleted: bool = True
    id: int
    removed_run_templates: int = 0


def page(core: CorePage[Any], convert: Any) -> dict[str, Any]:
    """A core page with its items converted to response models."""
    return {
        "items": [convert(item) for item in core.items],
        "total": core.total,
        "limit": core.limit,
        "offset": core.offset,
    }


def one_page(items: list[Any], query: ListQuery) -> dict[str, Any]:
    """A page over a list the core returns whole (or a lookup of 0 or 1 objects)."""
    return {
        "items": items[query.offset : query.offset + query.limit],
        "total": len(items),
        "limit": query.limit,
        "offset": query.offset,
    }


def created(result: BaseModel, endpoint: str, status: int = 201, **values: Any) -> Response:
    """A 201 (or other) answer with the new object and a Location header."""
    response = Response(
        json.dumps(result.model_dump(mode="json")), status=status, mimetype="application/json"
    )
    response.headers["Location"] = url_for(endpoint, **values)
    return response


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time with a zone (UTC assumed for a naive one read from SQLite)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
