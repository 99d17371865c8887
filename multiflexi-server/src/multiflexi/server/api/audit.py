"""The audit log: who changed what, when. Read only; rows come from the core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from multiflexi.core import access, audit, redaction
from multiflexi.core.models import AuditEntry
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import DateTime, Id, ListQuery, Page, Text, page
from multiflexi.server.openapi import operation
from multiflexi.server.request import Output, caller, db

TAG = "audit"


class AuditOut(Output):
    id: int
    at: dt.datetime
    actor: str
    user_id: int | None
    action: str
    entity_type: str
    entity_id: str | None
    company_id: int | None
    details: Any = Field(None, description="what changed; secrets never appear here")
    source: str | None


class AuditPage(Page[AuditOut]):
    pass


class AuditQuery(ListQuery):
    company_id: Id | None = Field(None, description="required unless you are an administrator")
    entity_type: Text | None = Field(None, max_length=64)
    entity_id: Text | None = Field(None, max_length=64)
    actor: Text | None = Field(None, max_length=255)
    action: Text | None = Field(None, max_length=32)
    since: DateTime | None = None
    until: DateTime | None = Field(None, description="entries before this time")


def out(entry: AuditEntry) -> AuditOut:
    shown = AuditOut.model_validate(entry)
    return shown.model_copy(update={"details": redaction.audit_details(entry)})


@operation(
    blueprint,
    "GET",
    "/audit",
    summary="Read the audit log",
    tag=TAG,
    query=AuditQuery,
    response=AuditPage,
)
def list_entries(query: AuditQuery) -> dict[str, Any]:
    """Newest first. Administrators read all of it; a company's admins read the rows of
    their company (give ``company_id``)."""
    access.require_audit_reader(caller(), query.company_id)
    result = audit.entries(
        db(),
        entity_type=query.entity_type,
        entity_id=query.entity_id,
        company_id=query.company_id,
        actor=query.actor,
        since=query.since,
        action=query.action,
        until=query.until,
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)
