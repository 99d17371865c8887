"""What every face of the server that answers a request shares (the API, the
compatibility layer, the web UI): the request's database session and caller, and the
base models of what a request sends and what it answers.

Nothing here knows a face's routes; each face builds its own on these.
"""

from __future__ import annotations

import functools
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy.orm import Session

from multiflexi.core.access import Principal
from multiflexi.server import app as server_app
from multiflexi.server import auth


def db() -> Session:
    """The request's database session (it carries the settings the core needs)."""
    return server_app.session()


def caller() -> Principal:
    """Who sent the request (the face's guard has authenticated it)."""
    return auth.current_principal()


class Input(BaseModel):
    """A request body: unknown members are refused, not ignored.

    A member documented as a number or a yes/no takes a JSON number or a JSON
    true/false, nothing else: pydantic alone would read ``true`` as 1 and ``"yes"``
    as true, which the document does not allow.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_kinds(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = _scalar_kinds(cls)
            wrong = [
                f"{name}: must be {'a number' if kinds[name] is int else 'true or false'}"
                for name, value in data.items()
                if name in kinds and value is not None and not _is_kind(value, kinds[name])
            ]
            if wrong:
                raise ValueError("; ".join(wrong))
        return data


def _bare(annotation: Any) -> Any:
    """``int`` for ``Annotated[int, ...]``."""
    if typing.get_origin(annotation) is Annotated:
        return typing.get_args(annotation)[0]
    return annotation


def _is_kind(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.cache
def _scalar_kinds(model: type[BaseModel]) -> dict[str, type]:
    """The members of a model that are numbers (int) or yes/no (bool), maybe optional."""
    kinds: dict[str, type] = {}
    for name, field in model.model_fields.items():
        options = {_bare(a) for a in typing.get_args(field.annotation) if a is not type(None)}
        annotation = options.pop() if len(options) == 1 else _bare(field.annotation)
        if annotation is bool:
            kinds[name] = bool
        elif annotation in (int, float):
            kinds[name] = int
    return kinds


class Output(BaseModel):
    """A response body."""

    model_config = ConfigDict(from_attributes=True)


class Query(BaseModel):
    """Query parameters; unknown ones are ignored."""

    model_config = ConfigDict(extra="ignore")


__all__ = ["Input", "Output", "Query", "caller", "db"]
