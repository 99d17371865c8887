"""Applications: import a manifest, list, get, update, delete, export.

Applications are global (not owned by a company): every authenticated user
may read them; only a global administrator may import, change or delete one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response
from pydantic import Field, RootModel, model_validator

from multiflexi.core import access, apps, manifests, redaction
from multiflexi.core.errors import NotFound
from multiflexi.core.models import Application
from multiflexi.core.models import ApplicationField as ApplicationFieldRow
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    Deleted,
    ListQuery,
    Page,
    Text,
    created,
    one_page,
    page,
)
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, Query, caller, db

TAG = "applications"


class ApplicationField(Output):
    name: str
    type: str
    label: str | None
    description: str | None
    default_value: str | None
    required: bool
    secret: bool = Field(description="flagged, of a secret type, or secret by its name")

    @model_validator(mode="before")
    @classmethod
    def _redacted(cls, data: Any) -> Any:
        """A secret field's default is shown redacted; ``secret`` is the core's answer."""
        if isinstance(data, ApplicationFieldRow):
            return {
                "name": data.name,
                "type": data.type,
                "label": data.label,
                "description": data.description,
                "default_value": redaction.application_field_default(data),
                "required": data.required,
                "secret": data.is_secret,
            }
        return data


class ExitCode(Output):
    exit_code: int
    lang: str
    description: str
    severity: str
    retry: bool


class ApplicationOut(Output):
    id: int
    uuid: str | None
    name: str
    code: str | None
    title: str | None
    description: str | None
    executable: str
    cmdparams: str | None
    homepage: str | None
    version: str | None
    ociimage: str | None
    image: str | None
    tags: list[str]
    requirements: list[str]
    timeout: int | None
    enabled: bool
    fields: list[ApplicationField]
    exit_codes: list[ExitCode]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class ApplicationPage(Page[ApplicationOut]):
    pass


class ApplicationQuery(ListQuery):
    uuid: Text | None = Field(None, max_length=64, description="the one application with this uuid")
    name: Text | None = Field(None, max_length=255, description="the one application of this name")
    search: Text | None = Field(None, max_length=255, description="part of the name or title")
    enabled: bool | None = None


class ManifestDocument(RootModel[dict[str, Any]]):
    """An application manifest (``*.multiflexi.app.json``), schema 3.x or a legacy spelling."""


class ImportOut(Output):
    created: bool
    warnings: list[str]
    application: ApplicationOut


class ImportPreviewOut(Output):
    application_id: int | None = Field(description="the application the manifest would update")
    created: bool = Field(description="the import would create a new application")
    changed: bool = Field(description="the import would create or change an application")
    manifest: dict[str, Any] = Field(
        description="the manifest as the import would store it (current format, as exported)"
    )
    warnings: list[str]


class ApplicationChanges(Input):
    enabled: bool | None = None
    title: Text | None = Field(None, max_length=255)
    description: Text | None = Field(None, max_length=10_000)
    homepage: Text | None = Field(None, max_length=255)
    ociimage: Text | None = Field(None, max_length=255)
    image: Text | None = Field(None, max_length=255)
    timeout: int | None = Field(None, ge=1, le=10**7)


class DeleteQuery(Query):
    force: bool = Field(False, description="also delete the run templates that use it")


def out(app: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(app)


@operation(
    blueprint,
    "GET",
    "/applications",
    summary="List applications",
    tag=TAG,
    query=ApplicationQuery,
    response=ApplicationPage,
)
def list_applications(query: ApplicationQuery) -> dict[str, Any]:
    """Applications by id. ``uuid`` or ``name`` finds one by its natural key (0 or 1 items)."""
    session = db()
    key = query.uuid or query.name
    if key is not None:
        if key.isdigit():  # an id is not a natural key (and not every digit is 0-9)
            return one_page([], query)
        try:
            found = apps.get(session, key)
        except NotFound:
            return one_page([], query)
        match = found.uuid == query.uuid if query.uuid else found.name == query.name
        return one_page([out(found)] if match else [], query)
    result = apps.list_applications(
        session, enabled=query.enabled, search=query.search, limit=query.limit, offset=query.offset
    )
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/applications",
    summary="Import an application manifest",
    tag=TAG,
    body=ManifestDocument,
    response=ImportOut,
    upload_field="manifest",
    also=(201,),
)
def import_application(body: ManifestDocument | bytes) -> Response:
    """Create or update (matched by uuid, then name) the application a manifest describes.

    Send the manifest as the JSON body, or upload it as the ``manifest`` field of
    a multipart form. Answers 201 when it created the application, 200 when it
    updated one.
    """
    access.require_global_admin(caller(), "import applications")
    session = db()
    source = body if isinstance(body, bytes) else body.root
    result = manifests.import_manifest(session, source, actor=caller())
    app = apps.get(session, result.application_id)
    data = ImportOut(created=result.created, warnings=list(result.warnings), application=out(app))
    return created(
        data,
        "api.applications_get_application",
        status=201 if result.created else 200,
        application_id=app.id,
    )


@operation(
    blueprint,
    "POST",
    "/applications/preview",
    summary="Preview an application manifest's import",
    tag=TAG,
    body=ManifestDocument,
    response=ImportPreviewOut,
    upload_field="manifest",
)
def preview_application(body: ManifestDocument | bytes) -> ImportPreviewOut:
    """What ``POST /applications`` would do with this manifest, without doing it.

    The same checks as the import (a manifest it would refuse is refused here too);
    ``changed`` is false when the stored application already has this manifest;
    ``manifest`` is the document normalised, comparable with the export.
    """
    access.require_global_admin(caller(), "import applications")
    source = body if isinstance(body, bytes) else body.root
    result = manifests.preview_manifest(db(), source)
    return ImportPreviewOut(
        application_id=result.application_id,
        created=result.created,
        changed=result.changed,
        manifest=manifests.manifest_to_json(result.manifest),
        warnings=list(result.warnings),
    )


@operation(
    blueprint,
    "GET",
    "/applications/<int:application_id>",
    summary="Get an application",
    tag=TAG,
    response=ApplicationOut,
)
def get_application(application_id: int) -> ApplicationOut:
    return out(apps.get(db(), application_id))


@operation(
    blueprint,
    "PATCH",
    "/applications/<int:application_id>",
    summary="Change an application",
    tag=TAG,
    body=ApplicationChanges,
    response=ApplicationOut,
)
def update_application(application_id: int, body: ApplicationChanges) -> ApplicationOut:
    """Change the settings an administrator may override; the rest comes from the manifest."""
    access.require_global_admin(caller(), "change applications")
    changes = body.model_dump(exclude_unset=True)
    return out(apps.update(db(), application_id, changes, actor=caller()))


@operation(
    blueprint,
    "DELETE",
    "/applications/<int:application_id>",
    summary="Delete an application",
    tag=TAG,
    query=DeleteQuery,
    response=Deleted,
)
def delete_application(application_id: int, query: DeleteQuery) -> Deleted:
    """Refused (409) while run templates use it, unless ``force=true``."""
    access.require_global_admin(caller(), "delete applications")
    removed = apps.delete(db(), application_id, actor=caller(), force=query.force)
    return Deleted(id=application_id, removed_run_templates=removed)


@operation(
    blueprint,
    "GET",
    "/applications/<int:application_id>/manifest",
    summary="Export an application's manifest",
    tag=TAG,
    response=dict[str, Any],
)
def export_application(application_id: int) -> dict[str, Any]:
    """The stored application as a current-format manifest document."""
    return manifests.export_manifest(db(), application_id)
