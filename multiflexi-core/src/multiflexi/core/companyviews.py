"""What the faces show about companies, read in few statements, and the role changes
made by login.

- :func:`overview`: a page of companies with the number of their run templates,
  assigned applications and members (two statements per page, whatever its length);
- :func:`deletion_preview`: everything that goes with a company when it is deleted;
- :func:`members`: a company's users with their logins and roles, in one statement;
- :func:`candidates` and :func:`grant_by_login`: the accounts a role may be given to,
  and giving one a role by its login.

These functions carry no access policy: the faces load the company through
:mod:`multiflexi.core.loaders` first (READ to show, ADMIN to change roles).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from multiflexi.core import companies, jobcounts, users
from multiflexi.core.audit import Actor
from multiflexi.core.errors import ValidationError
from multiflexi.core.models import (
    Company,
    CompanyApplication,
    CompanyUser,
    CompanyVariable,
    Credential,
    CredentialType,
    RunTemplate,
    User,
)
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, clamp, paginate

#: the most run template names a deletion preview lists (it counts them all)
PREVIEW_NAMES = 100
#: the most accounts :func:`candidates` offers
CANDIDATES = 1000


@dataclasses.dataclass(frozen=True)
class CompanySummary:
    """A company with how much it holds."""

    company: Company
    run_templates: int
    applications: int
    members: int


def _counts(session: Session, company_ids: Collection[int]) -> dict[int, tuple[int, int, int]]:
    """company id -> (run templates, applications, members), in one statement."""
    if not company_ids:
        return {}

    def counted(column: InstrumentedAttribute[int]) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .where(column == Company.id)
            .correlate(Company)
            .scalar_subquery()
        )

    found = session.execute(
        sa.select(
            Company.id,
            counted(RunTemplate.company_id),
            counted(CompanyApplication.company_id),
            counted(CompanyUser.company_id),
        ).where(Company.id.in_(sorted(company_ids)))
    ).all()
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in found}


def overview(
    session: Session,
    *,
    company_ids: set[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page[CompanySummary]:
    """Companies by name (then id), each with its counts; ``company_ids`` restricts the
    list to the companies a caller may see (None: all)."""
    query = sa.select(Company)
    if company_ids is not None:
        query = query.where(Company.id.in_(sorted(company_ids)))
    page: Page[Company] = paginate(session, query, (Company.name, Company.id), limit, offset)
    counts = _counts(session, [c.id for c in page.items])
    items = [CompanySummary(c, *counts.get(c.id, (0, 0, 0))) for c in page.items]
    return Page(items, page.total, page.limit, page.offset)


@dataclasses.dataclass(frozen=True)
class DeletionPreview:
    """What deleting a company takes with it."""

    company: Company
    run_templates: int
    #: the names of the first :data:`PREVIEW_NAMES` run templates, by name
    run_template_names: list[str]
    jobs: int
    credentials: int
    credential_types: int
    variables: int
    members: int
    applications: int


def _count(session: Session, column: InstrumentedAttribute[int], company_id: int) -> int:
    return int(session.scalar(sa.select(sa.func.count()).where(column == company_id)) or 0)


def deletion_preview(session: Session, ref: int | str) -> DeletionPreview:
    """Everything :func:`multiflexi.core.companies.delete` would delete with the company."""
    company = companies.get(session, ref)
    names = list(
        session.scalars(
            sa.select(RunTemplate.name)
            .where(RunTemplate.company_id == company.id)
            .order_by(RunTemplate.name, RunTemplate.id)
            .limit(PREVIEW_NAMES)
        )
    )
    return DeletionPreview(
        company=company,
        run_templates=_count(session, RunTemplate.company_id, company.id),
        run_template_names=names,
        jobs=jobcounts.total(session, [company.id]),
        credentials=_count(session, Credential.company_id, company.id),
        credential_types=_count(session, CredentialType.company_id, company.id),
        variables=_count(session, CompanyVariable.company_id, company.id),
        members=_count(session, CompanyUser.company_id, company.id),
        applications=_count(session, CompanyApplication.company_id, company.id),
    )


@dataclasses.dataclass(frozen=True)
class Member:
    """A user's role in a company, with what identifies the user."""

    user_id: int
    login: str
    name: str
    enabled: bool
    role: str
    since: dt.datetime | None


def _full_name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def members(
    session: Session, company_id: int, *, limit: int = 100, offset: int = 0
) -> Page[Member]:
    """The company's users by login, with their roles (one statement for the page)."""
    companies.get(session, company_id)
    limit, offset = clamp(limit, offset)
    query = (
        sa.select(
            User.id,
            User.login,
            User.first_name,
            User.last_name,
            User.enabled,
            CompanyUser.role,
            CompanyUser.created_at,
        )
        .join(User, User.id == CompanyUser.user_id)
        .where(CompanyUser.company_id == company_id)
    )
    found = session.execute(query.order_by(User.login).limit(limit).offset(offset)).all()
    if len(found) < limit and (found or offset == 0):
        total = offset + len(found)
    else:
        total = _count(session, CompanyUser.company_id, company_id)
    items = [
        Member(row[0], row[1], _full_name(row[2], row[3]), bool(row[4]), row[5], row[6])
        for row in found
    ]
    return Page(items, total, limit, offset)


def candidates(
    session: Session, company_id: int, actor: Actor, *, limit: int = CANDIDATES
) -> list[Member]:
    """The enabled accounts without a role in the company, by login, that ``actor`` may
    see (:func:`multiflexi.core.access.sees_user`): for a global administrator, whom to give
    one; a company's administrator sees no other tenant's accounts and names the login
    (their role and time are those they would get: none)."""
    if not actor.is_admin:
        return []
    holding = sa.select(CompanyUser.user_id).where(CompanyUser.company_id == company_id)
    found = session.execute(
        sa.select(User.id, User.login, User.first_name, User.last_name)
        .where(User.enabled.is_(True), User.id.not_in(holding))
        .order_by(User.login)
        .limit(max(1, min(limit, CANDIDATES)))
    ).all()
    return [Member(row[0], row[1], _full_name(row[2], row[3]), True, "", None) for row in found]


def grant_by_login(
    session: Session, company_id: int, login: str, role: str, *, actor: Actor
) -> CompanyUser:
    """Give the enabled account ``login`` a role in the company (replacing any other).

    An empty, unknown or disabled login is a ValidationError on ``login``, a role that
    is not one of :data:`multiflexi.core.users.COMPANY_ROLES` one on ``role``; both are
    checked before anything changes.
    """
    problems: list[tuple[str, str]] = []
    name = (login or "").strip()
    user = None
    if not name:
        problems.append(("login", msg("choose a user")))
    else:
        user = session.scalar(sa.select(User).where(User.login == name))
        if user is None or not user.enabled:
            problems.append(("login", msg("no enabled user has the login {name!r}", name=name)))
    if role not in users.COMPANY_ROLES:
        problems.append(
            (
                "role",
                msg(
                    "{role!r} is not one of {choices}",
                    role=role,
                    choices=", ".join(users.COMPANY_ROLES),
                ),
            )
        )
    if problems:
        raise ValidationError(msg("role not given"), problems)
    assert user is not None
    return users.grant(session, company_id, user.id, role, actor=actor)


__all__ = [
    "CANDIDATES",
    "PREVIEW_NAMES",
    "CompanySummary",
    "DeletionPreview",
    "Member",
    "candidates",
    "deletion_preview",
    "grant_by_login",
    "members",
    "overview",
]
