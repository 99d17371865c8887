"""Load one object for a principal: the loaders every face (API, compatibility layer,
web UI) calls before it shows or changes an object.

Each loader reads the object by its id and applies :mod:`multiflexi.core.access`
to it, so no face decides for itself who may see what:

- an object that does not exist, and one of a company the actor has no role in,
  both raise :class:`~multiflexi.core.errors.NotFound` with the same message
  (``"job 7 not found"``): a user of company A cannot learn what company B has;
- an object the actor may see but not change in the way asked raises
  :class:`~multiflexi.core.errors.PermissionDenied`.

``permission`` is one of :data:`~multiflexi.core.access.READ` (the default),
:data:`~multiflexi.core.access.WRITE` or :data:`~multiflexi.core.access.ADMIN`.
API tokens and user accounts belong to a user, not a company: their owner and the
global administrators reach them, nobody else (NotFound).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from multiflexi.core import access, companies, credentials, jobs, runtemplates, tokens, users
from multiflexi.core.audit import Actor
from multiflexi.core.errors import NotFound, PermissionDenied
from multiflexi.core.models import (
    ApiToken,
    Company,
    Credential,
    CredentialType,
    Job,
    RunTemplate,
    User,
)


def company(
    session: Session, actor: Actor, ref: int | str, permission: str = access.READ
) -> Company:
    """The company with id (or slug) ``ref``."""
    found = companies.get(session, ref)
    access.require(actor, found.id, permission, what="company", key=ref)
    return found


def permits(session: Session, actor: Actor, company_id: int, permission: str) -> bool:
    """Whether the actor may do ``permission`` in the company it can see (a page then
    shows the controls for it): :func:`company` answers, as for every change; a
    company the actor cannot see stays NotFound."""
    try:
        company(session, actor, company_id, permission)
    except PermissionDenied:
        return False
    return True


def run_template(
    session: Session, actor: Actor, rt_id: int, permission: str = access.READ
) -> RunTemplate:
    found = runtemplates.get(session, rt_id)
    access.require(actor, found.company_id, permission, what="run template", key=rt_id)
    return found


def job(session: Session, actor: Actor, job_id: int, permission: str = access.READ) -> Job:
    found = jobs.get(session, job_id)
    access.require(actor, found.company_id, permission, what="job", key=job_id)
    return found


def credential(
    session: Session, actor: Actor, credential_id: int, permission: str = access.READ
) -> Credential:
    found = credentials.get(session, credential_id)
    access.require(actor, found.company_id, permission, what="credential", key=credential_id)
    return found


def credential_type(
    session: Session, actor: Actor, type_id: int, permission: str = access.READ
) -> CredentialType:
    found = credentials.credential_type(session, type_id)
    access.require(actor, found.company_id, permission, what="credential type", key=type_id)
    return found


def token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    """A token of the actor; any token for a global administrator."""
    found = tokens.get(session, token_id)
    if not access.sees_user(actor, found.user_id):
        raise NotFound("API token", token_id)
    return found


def user(session: Session, actor: Actor, user_id: int) -> User:
    """The actor's own account; any account for a global administrator.

    Another user's account is NotFound before it is read, so a missing and a
    hidden account answer alike.
    """
    access.require_self_or_admin(actor, user_id)
    return users.get(session, user_id)


__all__ = [
    "company",
    "credential",
    "credential_type",
    "job",
    "permits",
    "run_template",
    "token",
    "user",
]
