"""Finding objects by their natural keys, for idempotent clients (Ansible, scripts).

A lookup answers every match (usually none or one) in id order; it applies no
access policy of its own beyond the ``company_ids`` restriction the caller
passes (see :func:`multiflexi.core.access.visible_company_ids`).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.models import RunTemplate


def run_templates_named(
    session: Session,
    name: str,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
) -> list[RunTemplate]:
    """The run templates called exactly ``name``, of one company or of the visible ones."""
    query = sa.select(RunTemplate).where(RunTemplate.name == name)
    if company_id is not None:
        query = query.where(RunTemplate.company_id == company_id)
    if company_ids is not None:
        query = query.where(RunTemplate.company_id.in_(company_ids))
    return list(session.scalars(query.order_by(RunTemplate.id)))


__all__ = ["run_templates_named"]
