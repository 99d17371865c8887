"""What every resource module of the API shares: the page shape, text rules, the caller."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, TypeVar

from flask import Response, json, url_for
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from multiflexi.core.access import Principal
from multiflexi.core.unit import MAX_LIMIT
from multiflexi.core.unit import Page as CorePage
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.api.spec import MAX_ID

T = TypeVar("T")

REDACTED = "***"


def _printable(value: str) -> str:
    """Refuse text no database stores faithfully: NUL bytes and lone surrogates."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


#: text a client may send
Text = Annotated[str, AfterValidator(_printable)]
#: an id a client may send in a body or a filter
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Input(BaseModel):
    """A request body: unknown members are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


class Page(Output, Generic[T]):
    """A slice of a list in a stable order, with the total number of matches."""

    items: list[T]
    total: int = Field(description="how many match, over all pages")
    limit: int
    offset: int


class Query(BaseModel):
    """Query parameters; unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore")


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


def db() -> Session:
    return server_app.session()


def caller() -> Principal:
    return auth.current_principal()


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A time with a zone (UTC assumed for a naive one read from SQLite)."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value
