"""The audit log as a page shows it: each entry with its company's name and its details
as :mod:`multiflexi.core.redaction` lets them be shown (the web UI's audit page).

The rows are :func:`multiflexi.core.audit.entries`' (the API's), so both faces filter
alike; the company names of a whole page are read in one query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, redaction
from multiflexi.core.models import AuditEntry, Company
from multiflexi.core.unit import Page


@dataclasses.dataclass(frozen=True)
class Row:
    """One audit entry, its company's name (None: no company, or one deleted since) and
    its details as they may be shown."""

    entry: AuditEntry
    company_name: str | None
    details: Any


def browse(
    session: Session,
    *,
    actor: str | None = None,
    entity_type: str | None = None,
    action: str | None = None,
    company_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Row]:
    """One page of the log, newest first (the filters of :func:`audit.entries`)."""
    found = audit.entries(
        session,
        actor=actor,
        entity_type=entity_type,
        action=action,
        company_id=company_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    wanted = {e.company_id for e in found.items if e.company_id is not None}
    names: dict[int, str] = {}
    if wanted:
        query = sa.select(Company.id, Company.name).where(Company.id.in_(wanted))
        names = {company_id: name for company_id, name in session.execute(query)}
    rows = [
        Row(e, names.get(e.company_id) if e.company_id else None, redaction.audit_details(e))
        for e in found.items
    ]
    return Page(items=rows, total=found.total, limit=found.limit, offset=found.offset)


__all__ = ["Row", "browse"]
