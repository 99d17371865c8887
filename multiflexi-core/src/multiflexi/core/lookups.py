"""Finding objects by their natural keys, for idempotent clients (Ansible, scripts).

A lookup answers every match (usually none or one) in id order; it applies no
access policy of its own beyond the ``company_ids`` restriction the caller
passes (see :func:`multiflexi.core.access.visible_company_ids`). :func:`one`
turns the matches into the one object a ``get`` answers, or an error.

None of these keys is unique in the database (only a company's slug and a user's
login are), so two objects may share one; :func:`one` then refuses with
:class:`~multiflexi.core.errors.Ambiguous` instead of choosing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.errors import Ambiguous, NotFound
from multiflexi.core.models import Company, RunTemplate, User


class _HasId(Protocol):
    id: int


T = TypeVar("T", bound=_HasId)


def one(matches: Sequence[T], what: str, key: object) -> T:
    """The only match; NotFound when there is none, Ambiguous (listing the ids) when several."""
    if not matches:
        raise NotFound(what, key)
    if len(matches) > 1:
        raise Ambiguous(what, key, [m.id for m in matches])
    return matches[0]


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


def _companies_where(
    session: Session, condition: sa.ColumnElement[bool], company_ids: set[int] | None
) -> list[Company]:
    query = sa.select(Company).where(condition)
    if company_ids is not None:
        query = query.where(Company.id.in_(company_ids))
    return list(session.scalars(query.order_by(Company.id)))


def companies_with_ic(
    session: Session, ic: str, *, company_ids: set[int] | None = None
) -> list[Company]:
    """The companies whose IC (registration number) is exactly ``ic``, spaces around it ignored.

    The comparison is exact on every backend (MySQL's case- and pad-insensitive
    collations included); an empty ``ic`` matches nothing.
    """
    ic = ic.strip()
    if not ic:
        return []
    found = _companies_where(session, Company.ic == ic, company_ids)
    return [c for c in found if c.ic == ic]


def companies_named(
    session: Session, name: str, *, company_ids: set[int] | None = None
) -> list[Company]:
    """The companies called exactly ``name`` (letter case counts, on every backend)."""
    if not name:
        return []
    found = _companies_where(session, Company.name == name, company_ids)
    return [c for c in found if c.name == name]


def users_with_email(session: Session, email: str) -> list[User]:
    """The users whose e-mail address is ``email``, letter case and spaces around it ignored."""
    email = email.strip().lower()
    if not email:
        return []
    query = sa.select(User).where(sa.func.lower(User.email) == email).order_by(User.id)
    return list(session.scalars(query))


__all__ = ["companies_named", "companies_with_ic", "one", "run_templates_named", "users_with_email"]
