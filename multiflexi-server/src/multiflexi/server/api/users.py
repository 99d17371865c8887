"""Users: accounts, passwords, company roles; and ``/me``, the caller itself.

Global administrators manage every account. Any other user sees only their
own account (other accounts are 404) and may change their own names, email
and password.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from flask import Response
from pydantic import Field

from multiflexi.core import access, loaders, lookups, users
from multiflexi.core.errors import NotFound
from multiflexi.core.models import User
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    NO_NUL,
    ListQuery,
    Page,
    Printable,
    Text,
    created,
    one_page,
    or_empty,
    page,
)
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, caller, db

TAG = "users"


class UserOut(Output):
    id: int
    login: str
    email: str | None
    first_name: str | None
    last_name: str | None
    enabled: bool
    is_admin: bool
    locked_until: dt.datetime | None = Field(
        description="only versions before the sign-in throttle set it; failed logins are"
        " now throttled per client address and login, never locking the account"
    )
    last_login_at: dt.datetime | None
    created_at: dt.datetime | None


class UserPage(Page[UserOut]):
    pass


class UserQuery(ListQuery):
    login: Text | None = Field(None, max_length=128, description="the one user with this login")
    email: Text | None = Field(
        None,
        max_length=255,
        description="the users with this e-mail address (letter case ignored; not unique)",
    )
    enabled: bool | None = None
    is_admin: bool | None = None


#: the password rules of the core, as the document states them
Password = Annotated[
    str,
    Field(
        min_length=users.MIN_PASSWORD_LENGTH,
        max_length=users.MAX_PASSWORD_LENGTH,
        pattern=NO_NUL,
    ),
    Printable,
]
#: an e-mail address, or "" for none
Email = Annotated[str, Field(max_length=255, pattern=or_empty(users.EMAIL_PATTERN)), Printable]


class NewUser(Input):
    login: Annotated[str, Field(pattern=users.LOGIN_PATTERN), Printable] = Field(
        description="letters, digits and . _ @ -"
    )
    password: Password | None = Field(None, description="none: tokens only")
    email: Email = ""
    first_name: Text = Field("", max_length=128)
    last_name: Text = Field("", max_length=128)
    enabled: bool = True
    is_admin: bool = False


class UserChanges(Input):
    email: Email | None = None
    first_name: Text | None = Field(None, max_length=128)
    last_name: Text | None = Field(None, max_length=128)
    enabled: bool | None = Field(None, description="administrators only")
    is_admin: bool | None = Field(None, description="administrators only")


class PasswordIn(Input):
    password: Password | None = Field(description="null removes the password")


class MembershipOut(Output):
    company_id: int
    role: str


class MembershipPage(Page[MembershipOut]):
    pass


class MeOut(UserOut):
    roles: dict[str, str] = Field(description="company id -> role")


def out(user: User) -> UserOut:
    return UserOut.model_validate(user)


def reach(user_id: int) -> User:
    return loaders.user(db(), caller(), user_id)


@operation(
    blueprint,
    "GET",
    "/me",
    summary="The caller's own account and roles",
    tag=TAG,
    response=MeOut,
)
def me() -> MeOut:
    principal = caller()
    user = users.get(db(), principal.user_id or 0)
    roles = {str(k): v for k, v in sorted(principal.roles.items())}
    return MeOut(**out(user).model_dump(), roles=roles)


@operation(
    blueprint,
    "GET",
    "/users",
    summary="List users",
    tag=TAG,
    query=UserQuery,
    response=UserPage,
)
def list_users(query: UserQuery) -> dict[str, Any]:
    """All users for an administrator; for anyone else only their own account.

    ``email`` answers every account with that address, by id (it is not unique).
    """
    principal = caller()
    if query.email is not None:
        hits = [
            u
            for u in lookups.users_with_email(db(), query.email)
            if access.sees_user(principal, u.id) and query.login in (None, u.login)
        ]
        return one_page([out(u) for u in hits], query)
    if query.login is not None or not principal.is_admin:
        try:
            found = (
                users.get_by_login(db(), query.login)
                if query.login is not None
                else users.get(db(), principal.user_id or 0)
            )
        except NotFound:
            return one_page([], query)
        return one_page([out(found)] if access.sees_user(principal, found.id) else [], query)
    result = users.list(
        db(),
        enabled=query.enabled,
        is_admin=query.is_admin,
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/users",
    summary="Create a user",
    tag=TAG,
    body=NewUser,
    response=UserOut,
    status=201,
)
def create_user(body: NewUser) -> Response:
    """Global administrators only. A taken login is a 409."""
    access.require_global_admin(caller(), "create users")
    user = users.create(db(), actor=caller(), **body.model_dump())
    return created(out(user), "api.users_get_user", user_id=user.id)


@operation(
    blueprint,
    "GET",
    "/users/<int:user_id>",
    summary="Get a user",
    tag=TAG,
    response=UserOut,
)
def get_user(user_id: int) -> UserOut:
    return out(reach(user_id))


@operation(
    blueprint,
    "PATCH",
    "/users/<int:user_id>",
    summary="Change a user",
    tag=TAG,
    body=UserChanges,
    response=UserOut,
)
def update_user(user_id: int, body: UserChanges) -> UserOut:
    """A user may change their own names and email; enabling and administrator rights are
    for administrators. The last enabled administrator cannot be disabled or demoted (409)."""
    user = reach(user_id)
    changes = body.model_dump(exclude_unset=True)
    if {"enabled", "is_admin"} & set(changes):
        access.require_global_admin(caller(), "enable, disable or promote users")
    return out(users.update(db(), user.id, actor=caller(), **changes))


@operation(
    blueprint,
    "PUT",
    "/users/<int:user_id>/password",
    summary="Set a user's password",
    tag=TAG,
    body=PasswordIn,
    response=UserOut,
)
def set_password(user_id: int, body: PasswordIn) -> UserOut:
    """Own password, or any user's for an administrator; also lifts the sign-in throttles
    of the login (every address)."""
    user = reach(user_id)
    return out(users.set_password(db(), user.id, body.password, actor=caller()))


@operation(
    blueprint,
    "DELETE",
    "/users/<int:user_id>",
    summary="Delete a user",
    tag=TAG,
)
def delete_user(user_id: int) -> None:
    """With their tokens and roles. Administrators only; never the last administrator (409)."""
    user = reach(user_id)
    access.require_global_admin(caller(), "delete users")
    users.delete(db(), user.id, actor=caller())


@operation(
    blueprint,
    "GET",
    "/users/<int:user_id>/companies",
    summary="List a user's company roles",
    tag=TAG,
    query=ListQuery,
    response=MembershipPage,
)
def list_memberships(user_id: int, query: ListQuery) -> dict[str, Any]:
    user = reach(user_id)
    result = users.memberships(db(), user.id, limit=query.limit, offset=query.offset)
    return page(result, lambda m: MembershipOut(company_id=m.company_id, role=m.role))
