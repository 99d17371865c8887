"""Who may see and change what: the one access policy of every face.

A :class:`Principal` is an :class:`~multiflexi.core.audit.Actor` that also
knows its company roles. Global administrators (``users.is_admin``, the CLI,
the daemons) may do everything. Everyone else acts inside the companies where
they hold a role, with the permissions :data:`ROLE_PERMISSIONS` gives that role.

Tenant isolation: a company the principal has no role in is answered with
:class:`~multiflexi.core.errors.NotFound`, exactly like one that does not exist,
so a user of company A cannot even learn which objects company B has. Only
where it can see but not change does it get
:class:`~multiflexi.core.errors.PermissionDenied`.

The faces do not apply these rules to one object themselves: they load it through
:mod:`multiflexi.core.loaders`, which reads it and applies them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.audit import Actor
from multiflexi.core.errors import NotFound, PermissionDenied, thing
from multiflexi.core.models import CompanyUser, User
from multiflexi.core.texts import msg

#: see the company and everything in it (run templates, jobs, output, credentials redacted)
READ = "read"
#: create, change, delete and launch the company's run templates, jobs and credentials
WRITE = "write"
#: change or delete the company itself, its environment, application assignments and roles
ADMIN = "admin"
PERMISSIONS = (READ, WRITE, ADMIN)

#: company role -> what it permits in that company (the README shows this table)
ROLE_PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "viewer": frozenset({READ}),
        "manager": frozenset({READ, WRITE}),
        "admin": frozenset({READ, WRITE, ADMIN}),
    }
)

_REFUSED = {
    READ: msg("see it"),
    WRITE: msg("change it"),
    ADMIN: msg("manage the company, its environment or its users"),
}
#: a company role as a refusal names it ("bob is viewer of company 2 ...")
_ROLE_NAMES = {
    "viewer": msg("viewer"),
    "manager": msg("manager"),
    "admin": msg("admin"),
}


@dataclasses.dataclass(frozen=True)
class Principal(Actor):
    """An actor with its company roles (company id -> role), as loaded at login."""

    roles: Mapping[int, str] = dataclasses.field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", MappingProxyType(dict(self.roles)))

    def role(self, company_id: int) -> str | None:
        return self.roles.get(company_id)


def principal_for(session: Session, user: User, *, source: str | None = None) -> Principal:
    """The principal of a logged-in user; a disabled user's principal may do nothing."""
    if not user.enabled:
        return Principal(name=user.login, user_id=user.id, source=source)
    rows = session.execute(
        sa.select(CompanyUser.company_id, CompanyUser.role).where(CompanyUser.user_id == user.id)
    ).all()
    return Principal(
        name=user.login,
        user_id=user.id,
        source=source,
        is_admin=user.is_admin,
        roles={company_id: role for company_id, role in rows},
    )


def _role(actor: Actor, company_id: int) -> str | None:
    return actor.role(company_id) if isinstance(actor, Principal) else None


def can(actor: Actor, company_id: int, permission: str) -> bool:
    """Whether the actor may do ``permission`` (READ, WRITE, ADMIN) in the company."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if actor.is_admin:
        return True
    role = _role(actor, company_id)
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def can_read(actor: Actor, company_id: int) -> bool:
    return can(actor, company_id, READ)


def can_write(actor: Actor, company_id: int) -> bool:
    return can(actor, company_id, WRITE)


def can_admin(actor: Actor, company_id: int) -> bool:
    return can(actor, company_id, ADMIN)


def require(
    actor: Actor,
    company_id: int,
    permission: str,
    *,
    what: str = "company",
    key: object = None,
) -> None:
    """Pass, or raise: NotFound when the company is out of sight, else PermissionDenied.

    ``what`` and ``key`` name the object being reached (default: the company),
    so the NotFound reads the same as for an object that does not exist.
    """
    if can(actor, company_id, permission):
        return
    key = company_id if key is None else key
    if not can(actor, company_id, READ):
        raise NotFound(what, key)
    role = _role(actor, company_id)
    raise PermissionDenied(
        msg(
            "{name} is {role} of company {company_id} and may not {refused} ({what} {key})",
            name=actor.name,
            role=_ROLE_NAMES.get(role or "", role),
            company_id=company_id,
            refused=_REFUSED[permission],
            what=thing(what),
            key=key,
        )
    )


def require_read(
    actor: Actor, company_id: int, *, what: str = "company", key: object = None
) -> None:
    require(actor, company_id, READ, what=what, key=key)


def require_write(
    actor: Actor, company_id: int, *, what: str = "company", key: object = None
) -> None:
    require(actor, company_id, WRITE, what=what, key=key)


def require_admin(
    actor: Actor, company_id: int, *, what: str = "company", key: object = None
) -> None:
    require(actor, company_id, ADMIN, what=what, key=key)


def require_global_admin(actor: Actor, doing: str) -> None:
    """Pass for a global administrator; else PermissionDenied naming what was refused."""
    if not actor.is_admin:
        raise PermissionDenied(msg("only a global administrator may {doing}", doing=doing))


def require_audit_reader(actor: Actor, company_id: int | None) -> None:
    """The whole audit log is for global administrators; a company's rows for its admins."""
    if company_id is not None:
        require_admin(actor, company_id)
    elif not actor.is_admin:
        raise PermissionDenied(msg("give company_id: only administrators read the whole log"))


def audit_company_ids(actor: Actor) -> set[int] | None:
    """The companies whose audit rows the actor may read; None means the whole log
    (global administrator). Empty: the actor reads no audit log at all."""
    if actor.is_admin:
        return None
    if not isinstance(actor, Principal):
        return set()
    return {company_id for company_id in actor.roles if can(actor, company_id, ADMIN)}


def reads_audit(actor: Actor) -> bool:
    """Whether the actor may read any of the audit log (see :func:`require_audit_reader`)."""
    allowed = audit_company_ids(actor)
    return allowed is None or bool(allowed)


def sees_user(actor: Actor, user_id: int) -> bool:
    """Whether the actor may see the account (its own, or any for a global administrator)."""
    return actor.is_admin or actor.user_id == user_id


def require_self_or_admin(actor: Actor, user_id: int) -> None:
    """A user may reach their own account (password, tokens); other accounts stay invisible."""
    if not sees_user(actor, user_id):
        raise NotFound("user", user_id)


def writes_somewhere(actor: Actor) -> bool:
    """Whether the actor may change some company's run templates (manager or admin there,
    or a global administrator): whether a face offers to make one."""
    if actor.is_admin:
        return True
    if not isinstance(actor, Principal):
        return False
    return any(can(actor, company_id, WRITE) for company_id in actor.roles)


def visible_company_ids(actor: Actor) -> set[int] | None:
    """The companies whose objects the actor may list; None means all (global administrator)."""
    if actor.is_admin:
        return None
    if not isinstance(actor, Principal):
        return set()
    return {company_id for company_id in actor.roles if can(actor, company_id, READ)}


def company_ids_with(actor: Actor, permission: str) -> set[int] | None:
    """The companies where the actor may do ``permission``; None means all (global
    administrator). What a face offers to create in (only where it would be allowed)."""
    if actor.is_admin:
        return None
    if not isinstance(actor, Principal):
        return set()
    return {company_id for company_id in actor.roles if can(actor, company_id, permission)}


__all__ = [
    "ADMIN",
    "PERMISSIONS",
    "READ",
    "ROLE_PERMISSIONS",
    "WRITE",
    "Principal",
    "audit_company_ids",
    "can",
    "can_admin",
    "can_read",
    "can_write",
    "company_ids_with",
    "principal_for",
    "reads_audit",
    "require",
    "require_admin",
    "require_audit_reader",
    "require_global_admin",
    "require_read",
    "require_self_or_admin",
    "require_write",
    "sees_user",
    "visible_company_ids",
    "writes_somewhere",
]
