"""Credentials of a company: values stored encrypted, always shown as ``***``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from flask import Response
from pydantic import Field

from multiflexi.core import access, availability, credentials, loaders, redaction
from multiflexi.core.models import Credential
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    ONLY_NAMED,
    Id,
    ListQuery,
    Page,
    Text,
    VariableName,
    VariableValue,
    created,
    page,
)
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, caller, db

TAG = "credentials"


class CredentialOut(Output):
    id: int
    company_id: int
    credential_type_id: int
    name: str
    values: dict[str, str] = Field(description="field name -> '***'; values are never shown")
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class CredentialPage(Page[CredentialOut]):
    pass


class AvailabilityOut(Output):
    credential_id: int
    state: Literal["available", "degraded", "unavailable", "misconfigured", "unknown"] = Field(
        description="available or unknown: a job may run; degraded or unavailable: jobs wait "
        "and are tried again; misconfigured: jobs are held until it is fixed"
    )
    message: str = Field(description="why, for people; never a credential value")
    ttl: float = Field(description="seconds the answer holds")
    checked_at: dt.datetime
    satisfied: bool = Field(description="a job may run with it (available or unknown)")


class CredentialQuery(ListQuery):
    company_id: Id | None = None


Values = Annotated[dict[VariableName, VariableValue | None], ONLY_NAMED]


class NewCredential(Input):
    company_id: Id
    credential_type_id: Id
    name: Text = Field(min_length=1, max_length=255)
    values: Values = Field(default_factory=dict)


class CredentialChanges(Input):
    name: Text | None = Field(None, min_length=1, max_length=255)
    values: Values | None = Field(
        None, description="null removes a value; an empty secret keeps the stored one"
    )


def out(credential: Credential) -> CredentialOut:
    return CredentialOut(
        id=credential.id,
        company_id=credential.company_id,
        credential_type_id=credential.credential_type_id,
        name=credential.name,
        values=redaction.credential_values(credential),
        created_at=credential.created_at,
        updated_at=credential.updated_at,
    )


def reach(credential_id: int, permission: str = access.READ) -> Credential:
    return loaders.credential(db(), caller(), credential_id, permission)


@operation(
    blueprint,
    "GET",
    "/credentials",
    summary="List credentials",
    tag=TAG,
    query=CredentialQuery,
    response=CredentialPage,
)
def list_credentials(query: CredentialQuery) -> dict[str, Any]:
    result = credentials.list_credentials(
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
    "/credentials",
    summary="Create a credential",
    tag=TAG,
    body=NewCredential,
    response=CredentialOut,
    status=201,
)
def create_credential(body: NewCredential) -> Response:
    """Every required field of the type must be given. Needs write access to the company."""
    access.require_write(caller(), body.company_id)
    credential = credentials.create(
        db(),
        company=body.company_id,
        credential_type_id=body.credential_type_id,
        name=body.name,
        values=body.values,
        actor=caller(),
    )
    return created(out(credential), "api.credentials_get_credential", credential_id=credential.id)


@operation(
    blueprint,
    "GET",
    "/credentials/<int:credential_id>",
    summary="Get a credential",
    tag=TAG,
    response=CredentialOut,
)
def get_credential(credential_id: int) -> CredentialOut:
    return out(reach(credential_id))


@operation(
    blueprint,
    "PATCH",
    "/credentials/<int:credential_id>",
    summary="Change a credential",
    tag=TAG,
    body=CredentialChanges,
    response=CredentialOut,
)
def update_credential(credential_id: int, body: CredentialChanges) -> CredentialOut:
    credential = reach(credential_id, access.WRITE)
    updated = credentials.update(
        db(), credential.id, actor=caller(), name=body.name, values=body.values
    )
    return out(updated)


@operation(
    blueprint,
    "DELETE",
    "/credentials/<int:credential_id>",
    summary="Delete a credential",
    tag=TAG,
)
def delete_credential(credential_id: int) -> None:
    credential = reach(credential_id, access.WRITE)
    credentials.delete(db(), credential.id, actor=caller())


@operation(
    blueprint,
    "POST",
    "/credentials/<int:credential_id>/check",
    summary="Check whether a credential is usable",
    tag=TAG,
    response=AvailabilityOut,
)
def check_credential(credential_id: int) -> AvailabilityOut:
    """Runs the availability check now (the built-in required-field check, then the
    plug-in installed for the credential's prototype, if any) and answers its state and
    message, never a value. Needs write access to the credential's company; audited."""
    result = availability.check_credential(db(), credential_id, actor=caller())
    return AvailabilityOut.model_validate({"credential_id": credential_id, **result.as_dict()})
