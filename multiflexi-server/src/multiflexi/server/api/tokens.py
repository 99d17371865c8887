"""API tokens: made for a user, shown once, then only by prefix; revoked by id."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, json, url_for
from pydantic import ConfigDict, Field

from multiflexi.core import access, loaders, tokens
from multiflexi.core.errors import ValidationError
from multiflexi.core.models import ApiToken
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    DateTime,
    Id,
    Input,
    ListQuery,
    Output,
    Page,
    Text,
    caller,
    db,
    page,
)
from multiflexi.server.api.spec import operation

TAG = "tokens"


class TokenOut(Output):
    id: int
    user_id: int
    name: str
    prefix: str = Field(description="the first characters, to tell tokens apart")
    created_at: dt.datetime | None
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


class TokenPage(Page[TokenOut]):
    pass


class TokenQuery(ListQuery):
    user_id: Id | None = Field(None, description="default: the caller's own tokens")
    active: bool = Field(False, description="leave out revoked and expired tokens")


class NewToken(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "not": {
                "description": "an expiry time and a lifetime together",
                "required": ["expires_at", "expires_in"],
                "properties": {
                    "expires_at": {"type": "string"},
                    "expires_in": {"type": "integer"},
                },
            }
        },
    )
    name: Text = Field(min_length=1, max_length=255)
    user_id: Id | None = Field(None, description="default: the caller; others: administrators")
    expires_at: DateTime | None = None
    expires_in: int | None = Field(None, ge=1, le=10 * 365 * 86400, description="seconds")


def out(token: ApiToken) -> TokenOut:
    return TokenOut.model_validate(token)


def reach(token_id: int) -> ApiToken:
    """A token of the caller (any token for an administrator); others are 404."""
    return loaders.token(db(), caller(), token_id)


@operation(
    blueprint,
    "GET",
    "/tokens",
    summary="List API tokens",
    tag=TAG,
    query=TokenQuery,
    response=TokenPage,
)
def list_tokens(query: TokenQuery) -> dict[str, Any]:
    principal = caller()
    user_id = query.user_id if query.user_id is not None else principal.user_id
    if user_id is None:
        return {"items": [], "total": 0, "limit": query.limit, "offset": query.offset}
    access.require_self_or_admin(principal, user_id)
    result = tokens.list(
        db(), user_id=user_id, active_only=query.active, limit=query.limit, offset=query.offset
    )
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/tokens",
    summary="Create an API token",
    tag=TAG,
    body=NewToken,
    response=NewTokenOut,
    status=201,
)
def create_token(body: NewToken) -> Response:
    """The answer holds the token; it is not stored and cannot be shown again."""
    principal = caller()
    user_id = body.user_id if body.user_id is not None else principal.user_id
    if user_id is None:
        raise ValidationError("token not created", [("user_id", "required")])
    access.require_self_or_admin(principal, user_id)
    expires_in = dt.timedelta(seconds=body.expires_in) if body.expires_in else None
    token, plaintext = tokens.create(
        db(),
        user_id,
        body.name,
        actor=principal,
        expires_at=body.expires_at,
        expires_in=expires_in,
    )
    data = NewTokenOut(**out(token).model_dump(), token=plaintext)
    response = Response(
        json.dumps(data.model_dump(mode="json")), status=201, mimetype="application/json"
    )
    response.headers["Location"] = url_for("api.tokens_get_token", token_id=token.id)
    response.headers["Cache-Control"] = "no-store"
    return response


@operation(
    blueprint,
    "GET",
    "/tokens/<int:token_id>",
    summary="Get an API token",
    tag=TAG,
    response=TokenOut,
)
def get_token(token_id: int) -> TokenOut:
    return out(reach(token_id))


@operation(
    blueprint,
    "DELETE",
    "/tokens/<int:token_id>",
    summary="Revoke an API token",
    tag=TAG,
    response=TokenOut,
)
def revoke_token(token_id: int) -> TokenOut:
    """It stops working at once; revoking again changes nothing."""
    token = reach(token_id)
    return out(tokens.revoke(db(), token.id, actor=caller()))
