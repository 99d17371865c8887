"""Credential prototypes: the global kinds of credential (their fields), imported from JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, json
from pydantic import Field, RootModel

from multiflexi.core import access, credentials, manifests
from multiflexi.core.models import CredentialPrototype
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import ListQuery, Page, page
from multiflexi.server.openapi import operation
from multiflexi.server.request import Output, caller, db

TAG = "credential-prototypes"


class PrototypeField(Output):
    keyword: str
    type: str
    name: str | None
    description: str | None
    default_value: str | None
    required: bool
    secret: bool


class PrototypeOut(Output):
    id: int
    uuid: str
    code: str
    name: str
    description: str | None
    version: str | None
    url: str | None
    homepage: str | None
    tags: list[str]
    fields: list[PrototypeField]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class PrototypePage(Page[PrototypeOut]):
    pass


class PrototypeDocument(RootModel[dict[str, Any]]):
    """A credential prototype document (``*.credprototype.json``)."""


class PrototypeImportOut(Output):
    created: bool
    warnings: list[str]
    prototype: PrototypeOut


class PrototypePreviewOut(Output):
    prototype_id: int | None = Field(description="the prototype the document would update")
    created: bool = Field(description="the import would create a new prototype")
    changed: bool = Field(description="the import would create or change a prototype")
    prototype: dict[str, Any] = Field(
        description="the document as the import would store it (as exported)"
    )
    warnings: list[str]


def out(prototype: CredentialPrototype) -> PrototypeOut:
    return PrototypeOut.model_validate(prototype)


@operation(
    blueprint,
    "GET",
    "/credential-prototypes",
    summary="List credential prototypes",
    tag=TAG,
    query=ListQuery,
    response=PrototypePage,
)
def list_prototypes(query: ListQuery) -> dict[str, Any]:
    return page(credentials.list_prototypes(db(), limit=query.limit, offset=query.offset), out)


@operation(
    blueprint,
    "POST",
    "/credential-prototypes",
    summary="Import a credential prototype",
    tag=TAG,
    body=PrototypeDocument,
    response=PrototypeImportOut,
    upload_field="document",
    also=(201,),
)
def import_prototype(body: PrototypeDocument | bytes) -> Response:
    """Create (201) or update (200, matched by uuid, then code). Global administrators only."""
    access.require_global_admin(caller(), "import credential prototypes")
    session = db()
    source = body if isinstance(body, bytes) else body.root
    result = manifests.import_credential_prototype(session, source, actor=caller())
    prototype = credentials.prototype(session, result.prototype_id)
    data = PrototypeImportOut(
        created=result.created, warnings=list(result.warnings), prototype=out(prototype)
    )
    return Response(
        json.dumps(data.model_dump(mode="json")),
        status=201 if result.created else 200,
        mimetype="application/json",
    )


@operation(
    blueprint,
    "POST",
    "/credential-prototypes/preview",
    summary="Preview a credential prototype's import",
    tag=TAG,
    body=PrototypeDocument,
    response=PrototypePreviewOut,
    upload_field="document",
)
def preview_prototype(body: PrototypeDocument | bytes) -> PrototypePreviewOut:
    """What ``POST /credential-prototypes`` would do with this document, without doing it.

    The same checks as the import; ``changed`` is false when the stored prototype
    already has this definition; ``prototype`` is the document normalised.
    """
    access.require_global_admin(caller(), "import credential prototypes")
    source = body if isinstance(body, bytes) else body.root
    result = manifests.preview_credential_prototype(db(), source)
    return PrototypePreviewOut(
        prototype_id=result.prototype_id,
        created=result.created,
        changed=result.changed,
        prototype=manifests.prototype_to_json(result.prototype),
        warnings=list(result.warnings),
    )


@operation(
    blueprint,
    "GET",
    "/credential-prototypes/<int:prototype_id>",
    summary="Get a credential prototype",
    tag=TAG,
    response=PrototypeOut,
)
def get_prototype(prototype_id: int) -> PrototypeOut:
    return out(credentials.prototype(db(), prototype_id))


@operation(
    blueprint,
    "GET",
    "/credential-prototypes/<int:prototype_id>/document",
    summary="Export a credential prototype",
    tag=TAG,
    response=dict[str, Any],
)
def export_prototype(prototype_id: int) -> dict[str, Any]:
    return manifests.export_credential_prototype(db(), prototype_id)
