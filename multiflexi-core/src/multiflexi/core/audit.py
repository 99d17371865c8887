"""Who did what: the actor of every change, and the audit log it leaves.

Every create, update and delete of applications, companies, run templates,
credentials, users and tokens writes one row (who, what, which id, when) in the
same transaction as the change. Secret values never reach the log: callers
record the *names* of changed fields (the faces show details as recorded, see
:func:`multiflexi.core.redaction.audit_details`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.models import AuditEntry
from multiflexi.core.unit import Page, paginate
from multiflexi.database.tables import utc_now


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who is acting: a user of the API or web UI, the CLI's Unix user, a daemon."""

    name: str
    user_id: int | None = None
    source: str | None = None
    is_admin: bool = False

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(name=name, source=name, is_admin=True)

    @classmethod
    def cli(cls) -> Actor:
        """The Unix user running the command line; it administers the database directly."""
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return cls(name=f"cli:{user}", source="cli", is_admin=True)


_AUDIT: sa.Table = AuditEntry.__table__
_INSERT = _AUDIT.insert()


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    company_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Write one audit row in the session's transaction (it commits or rolls back with it).

    A plain INSERT, not an ORM object: audit rows are only ever added, and this runs
    with every change and every launch.
    """
    session.execute(
        _INSERT,
        {
            "at": utc_now(),
            "actor": actor.name,
            "user_id": actor.user_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": None if entity_id is None else str(entity_id),
            "company_id": company_id,
            "details": dict(details) if details else None,
            "source": actor.source,
        },
    )


def entries(
    session: Session,
    *,
    entity_type: str | None = None,
    entity_id: object | None = None,
    company_id: int | None = None,
    actor: str | None = None,
    since: dt.datetime | None = None,
    action: str | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[AuditEntry]:
    """Audit rows, newest first, with the total that match: ``since`` included,
    ``until`` excluded."""
    query = sa.select(AuditEntry)
    if entity_type is not None:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    if company_id is not None:
        query = query.where(AuditEntry.company_id == company_id)
    if actor is not None:
        query = query.where(AuditEntry.actor == actor)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return paginate(session, query, AuditEntry.id.desc(), limit, offset)


__all__ = [
    "Actor",
    "entries",
    "record",
]
