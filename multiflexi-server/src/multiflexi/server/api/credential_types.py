"""Credential types: a company's configured use of a credential prototype."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from pydantic import ConfigDict, Field

from multiflexi.core import access, credentials, loaders, redaction
from multiflexi.core.models import CredentialType
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    Id,
    ListQuery,
    Page,
    Text,
    VariableName,
    created,
    page,
)
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, caller, db

TAG = "credential-types"


class FieldOut(Output):
    keyword: str
    type: str
    required: bool
    secret: bool
    default: str | None = Field(description="'***' for a secret field")
    description: str | None


class CredentialTypeOut(Output):
    id: int
    company_id: int
    prototype_id: int | None
    prototype_code: str | None
    name: str
    version: str | None
    fields: list[FieldOut]
    settings: dict[str, str] = Field(description="setting names; values are never shown")
    created_at: dt.datetime | None


class CredentialTypePage(Page[CredentialTypeOut]):
    pass


class CredentialTypeQuery(ListQuery):
    company_id: Id | None = None


class FieldIn(Input):
    keyword: VariableName
    type: Text = Field("string", max_length=32)
    description: Text | None = Field(None, max_length=1000)
    default: Text | None = Field(None, max_length=10_000)
    required: bool = False
    secret: bool = False


class NewCredentialType(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["prototype_id"],
                    "properties": {"prototype_id": {"type": "integer"}},
                },
                {"required": ["fields"], "properties": {"fields": {"minItems": 1}}},
            ],
            "description": "made from a prototype, or from fields of its own (or both)",
        },
    )
    company_id: Id
    name: Text = Field(min_length=1, max_length=255)
    prototype_id: Id | None = Field(None, description="the prototype it uses")
    fields: list[FieldIn] = Field(default_factory=list, max_length=200)
    settings: dict[Text, Text] = Field(default_factory=dict, description="stored encrypted")


def out(ctype: CredentialType) -> CredentialTypeOut:
    fields = [
        FieldOut(
            keyword=f.keyword,
            type=f.type,
            required=f.required,
            secret=f.secret,
            default=redaction.credential_field_default(f),
            description=f.description,
        )
        for f in credentials.fields_of(ctype)
    ]
    return CredentialTypeOut(
        id=ctype.id,
        company_id=ctype.company_id,
        prototype_id=ctype.prototype_id,
        prototype_code=ctype.prototype_code,
        name=ctype.name,
        version=ctype.version,
        fields=fields,
        settings=redaction.credential_type_settings(ctype),
        created_at=ctype.created_at,
    )


def reach(type_id: int, permission: str = access.READ) -> CredentialType:
    return loaders.credential_type(db(), caller(), type_id, permission)


@operation(
    blueprint,
    "GET",
    "/credential-types",
    summary="List credential types",
    tag=TAG,
    query=CredentialTypeQuery,
    response=CredentialTypePage,
)
def list_types(query: CredentialTypeQuery) -> dict[str, Any]:
    result = credentials.list_types(
        db(),
        company_id=query.company_id,
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/credential-types",
    summary="Create a credential type",
    tag=TAG,
    body=NewCredentialType,
    response=CredentialTypeOut,
    status=201,
)
def create_type(body: NewCredentialType) -> Response:
    """From a prototype, or from fields of its own. Needs write access to the company."""
    access.require_write(caller(), body.company_id)
    ctype = credentials.create_type(
        db(),
        company=body.company_id,
        name=body.name,
        actor=caller(),
        prototype_ref=body.prototype_id,
        fields=[f.model_dump() for f in body.fields],
        settings=body.settings,
    )
    return created(out(ctype), "api.credential_types_get_type", credential_type_id=ctype.id)


@operation(
    blueprint,
    "GET",
    "/credential-types/<int:credential_type_id>",
    summary="Get a credential type",
    tag=TAG,
    response=CredentialTypeOut,
)
def get_type(credential_type_id: int) -> CredentialTypeOut:
    return out(reach(credential_type_id))


@operation(
    blueprint,
    "DELETE",
    "/credential-types/<int:credential_type_id>",
    summary="Delete a credential type",
    tag=TAG,
)
def delete_type(credential_type_id: int) -> None:
    """Refused (409) while credentials of the type exist."""
    ctype = reach(credential_type_id, access.WRITE)
    credentials.delete_type(db(), ctype.id, actor=caller())
