"""What the faces show about credentials, credential types and prototypes at a glance,
read in a fixed number of statements per page (no query per row).

- :func:`last_checks`: the latest on-demand availability check of each credential, as
  its audit row recorded it (state, message, when, who): the core keeps no other
  result beyond a process's memory;
- :func:`overview`: a page of credentials with their type, company, how many run
  templates use them and their last check;
- :func:`type_overview`: a page of credential types with their company and how many
  fields and credentials each has;
- :func:`prototype_overview`: a page of prototypes with how many fields each has.

Nothing here changes anything, and nothing here reads a credential's value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from multiflexi.core import credentials
from multiflexi.core.models import (
    AuditEntry,
    Company,
    Credential,
    CredentialPrototype,
    CredentialPrototypeField,
    CredentialType,
    CredentialTypeField,
    RunTemplateCredential,
)
from multiflexi.core.unit import Page, in_companies, paginate


@dataclasses.dataclass(frozen=True)
class LastCheck:
    """The latest availability check someone asked for (never a value in it)."""

    state: str
    message: str
    at: dt.datetime
    by: str


@dataclasses.dataclass(frozen=True)
class CredentialSummary:
    """One credential as a list shows it."""

    credential: Credential
    type_name: str
    prototype_code: str | None
    company: str
    #: how many run templates are bound to it
    used_by: int
    last_check: LastCheck | None


@dataclasses.dataclass(frozen=True)
class TypeSummary:
    """One credential type as a list shows it."""

    credential_type: CredentialType
    company: str
    #: its own fields plus its prototype's
    fields: int
    credentials: int


@dataclasses.dataclass(frozen=True)
class PrototypeSummary:
    """One credential prototype as a list shows it."""

    prototype: CredentialPrototype
    fields: int


def last_checks(session: Session, credential_ids: Iterable[int]) -> dict[int, LastCheck]:
    """credential id -> its latest on-demand check (credentials never checked are absent).

    One statement over the audit log's (entity_type, entity_id) index.
    """
    keys = sorted({str(i) for i in credential_ids})
    if not keys:
        return {}
    checks = sa.and_(
        AuditEntry.entity_type == "credential",
        AuditEntry.action == "check",
        AuditEntry.entity_id.in_(keys),
    )
    latest = (
        sa.select(sa.func.max(AuditEntry.id)).where(checks).group_by(AuditEntry.entity_id)
    ).scalar_subquery()
    found: dict[int, LastCheck] = {}
    for entry in session.scalars(sa.select(AuditEntry).where(AuditEntry.id.in_(latest))):
        details = entry.details if isinstance(entry.details, dict) else {}
        found[int(entry.entity_id or 0)] = LastCheck(
            state=str(details.get("state", "unknown")),
            message=str(details.get("message") or ""),
            at=entry.at,
            by=entry.actor,
        )
    return found


def company_names(session: Session, company_ids: Iterable[int]) -> dict[int, str]:
    """company id -> its name, in one statement."""
    ids = sorted(set(company_ids))
    if not ids:
        return {}
    statement = sa.select(Company.id, Company.name).where(Company.id.in_(ids))
    return {company_id: name for company_id, name in session.execute(statement)}


def _count_by(session: Session, column: Any, keys: Iterable[int]) -> dict[int, int]:
    """key -> how many rows of ``column``'s table hold it, for each of ``keys`` (0
    included), in one statement."""
    wanted = sorted(set(keys))
    found = dict.fromkeys(wanted, 0)
    if wanted:
        statement = sa.select(column, sa.func.count()).where(column.in_(wanted)).group_by(column)
        found.update((key, n) for key, n in session.execute(statement))
    return found


def usage_counts(session: Session, credential_ids: Iterable[int]) -> dict[int, int]:
    """credential id -> how many run templates it is bound to (0 included)."""
    return _count_by(session, RunTemplateCredential.credential_id, credential_ids)


def overview(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    credential_type_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[CredentialSummary]:
    """A page of credentials (by id) with what a list shows of each."""
    query = sa.select(Credential).options(joinedload(Credential.credential_type))
    query = in_companies(query, Credential.company_id, company_ids, company_id)
    if credential_type_id is not None:
        query = query.where(Credential.credential_type_id == credential_type_id)
    found = paginate(session, query, Credential.id, limit, offset)
    ids = [c.id for c in found.items]
    used = usage_counts(session, ids)
    checked = last_checks(session, ids)
    names = company_names(session, (c.company_id for c in found.items))
    items = [
        CredentialSummary(
            credential=c,
            type_name=c.credential_type.name,
            prototype_code=c.credential_type.prototype_code,
            company=names.get(c.company_id, ""),
            used_by=used[c.id],
            last_check=checked.get(c.id),
        )
        for c in found.items
    ]
    return Page(items, found.total, found.limit, found.offset)


def type_overview(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    prototype_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[TypeSummary]:
    """A page of credential types (by id) with their company and counts."""
    query = in_companies(
        sa.select(CredentialType), CredentialType.company_id, company_ids, company_id
    )
    if prototype_id is not None:
        query = query.where(CredentialType.prototype_id == prototype_id)
    found = paginate(session, query, CredentialType.id, limit, offset)
    ids = [t.id for t in found.items]
    own = _count_by(session, CredentialTypeField.credential_type_id, ids)
    used = _count_by(session, Credential.credential_type_id, ids)
    protos = {t.prototype_id for t in found.items if t.prototype_id is not None}
    inherited = _count_by(session, CredentialPrototypeField.prototype_id, protos)
    names = company_names(session, (t.company_id for t in found.items))
    items = [
        TypeSummary(
            credential_type=t,
            company=names.get(t.company_id, ""),
            fields=own[t.id] + inherited.get(t.prototype_id or 0, 0),
            credentials=used[t.id],
        )
        for t in found.items
    ]
    return Page(items, found.total, found.limit, found.offset)


def prototype_overview(
    session: Session, *, limit: int = 50, offset: int = 0
) -> Page[PrototypeSummary]:
    """A page of credential prototypes (by id) with how many fields each defines."""
    found = credentials.list_prototypes(session, limit=limit, offset=offset)
    counts = _count_by(session, CredentialPrototypeField.prototype_id, (p.id for p in found.items))
    items = [PrototypeSummary(p, counts.get(p.id, 0)) for p in found.items]
    return Page(items, found.total, found.limit, found.offset)


__all__ = [
    "CredentialSummary",
    "LastCheck",
    "PrototypeSummary",
    "TypeSummary",
    "company_names",
    "last_checks",
    "overview",
    "prototype_overview",
    "type_overview",
    "usage_counts",
]
