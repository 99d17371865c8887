"""Companies (the tenants), their environment variables, user access and applications.

A company the caller holds no role in is answered 404, like one that does not
exist. Creating and deleting companies is for global administrators; changing
a company, its environment, its users and its applications needs the
company's admin role.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from flask import Response, json
from pydantic import Field

from multiflexi.core import (
    access,
    companies,
    fieldtypes,
    images,
    limits,
    loaders,
    lookups,
    redaction,
    users,
)
from multiflexi.core.errors import NotFound
from multiflexi.core.models import Company, CompanyUser, CompanyVariable
from multiflexi.server.api import blueprint
from multiflexi.server.api.applications import ApplicationOut
from multiflexi.server.api.applications import out as application_out
from multiflexi.server.api.common import (
    Deleted,
    Filled,
    Id,
    ListQuery,
    Page,
    Printable,
    Text,
    VariableValue,
    created,
    one_page,
    or_empty,
    page,
)
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, caller, db

TAG = "companies"


class CompanyOut(Output):
    id: int
    name: str
    slug: str
    ic: str | None
    email: str | None
    logo: str | None
    zabbix_host: str | None
    settings: Any = None
    enabled: bool
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class CompanyPage(Page[CompanyOut]):
    pass


class CompanyQuery(ListQuery):
    slug: Text | None = Field(None, max_length=64, description="the one company with this slug")
    ic: Text | None = Field(
        None, max_length=32, description="the companies with this IC (not unique: 0 or more)"
    )
    name: Text | None = Field(
        None,
        max_length=255,
        description="the companies called exactly this (letter case counts; 0 or more)",
    )


#: an e-mail address, or "" for none
Email = Annotated[str, Field(max_length=255, pattern=or_empty(fieldtypes.EMAIL_PATTERN)), Printable]
Slug = Annotated[str, Field(pattern=companies.SLUG_PATTERN), Printable]
#: an image as a data URI, or "" for none (the core checks that its content is that image)
Logo = Annotated[
    str,
    Field(
        max_length=images.LOGO_MAX_CHARS,
        pattern=or_empty(images.LOGO_PATTERN),
        description="an image (PNG, JPEG, GIF, WebP, SVG) as a base64 data URI",
    ),
    Printable,
]


class NewCompany(Input):
    name: Filled = Field(max_length=255)
    slug: Slug | None = Field(None, description="derived from the name if absent")
    ic: Text | None = Field(None, max_length=32)
    email: Email | None = None
    logo: Logo | None = None
    enabled: bool = True


class CompanyChanges(Input):
    name: Filled | None = Field(None, max_length=255)
    slug: Slug | None = None
    ic: Text | None = Field(None, max_length=32)
    email: Email | None = None
    logo: Logo | None = None
    zabbix_host: Text | None = Field(None, max_length=255)
    enabled: bool | None = None
    settings: dict[str, Any] | None = None


class VariableOut(Output):
    name: str
    secret: bool
    value: str = Field(description="'***' for a secret variable")


class VariablePage(Page[VariableOut]):
    pass


class VariableIn(Input):
    value: VariableValue
    secret: bool = False


class MemberOut(Output):
    id: int
    company_id: int
    user_id: int
    login: str
    role: str
    created_at: dt.datetime | None


class MemberPage(Page[MemberOut]):
    pass


class RoleIn(Input):
    # documented as the choice it is; the core checks it (422 naming the roles)
    role: Text = Field(
        description="admin, manager or viewer",
        max_length=16,
        json_schema_extra={"enum": list(users.COMPANY_ROLES)},
    )


class AssignmentOut(Output):
    company_id: int
    application_id: int
    run_template_id: int = Field(description="the default run template the assignment made")
    created: bool


class CompanyApplicationPage(Page[ApplicationOut]):
    pass


class AssignmentRowOut(Output):
    company_id: int
    company_name: str
    company_slug: str
    application_id: int
    application_name: str
    application_uuid: str | None
    assigned_at: dt.datetime | None


class AssignmentPage(Page[AssignmentRowOut]):
    pass


class AssignmentQuery(ListQuery):
    company_id: Id | None = None
    application_id: Id | None = None


def out(company: Company) -> CompanyOut:
    return CompanyOut.model_validate(company)


def reach(company_id: int, permission: str = access.READ) -> Company:
    """The company, if the caller may do ``permission`` in it (404 when it may not see it)."""
    return loaders.company(db(), caller(), company_id, permission)


def variable_out(variable: CompanyVariable) -> VariableOut:
    return VariableOut(
        name=variable.name, secret=variable.secret, value=redaction.company_variable(variable)
    )


def member_out(member: CompanyUser) -> MemberOut:
    user = users.get(db(), member.user_id)
    return MemberOut(
        id=member.id,
        company_id=member.company_id,
        user_id=member.user_id,
        login=user.login,
        role=member.role,
        created_at=member.created_at,
    )


@operation(
    blueprint,
    "GET",
    "/companies",
    summary="List companies",
    tag=TAG,
    query=CompanyQuery,
    response=CompanyPage,
)
def list_companies(query: CompanyQuery) -> dict[str, Any]:
    """The companies the caller may see, by id; ``slug`` finds one by its natural key.

    ``ic`` and ``name`` are not unique: they answer every visible match, by id.
    With more than one of ``slug``, ``ic`` and ``name``, a company matches all of them.
    """
    visible = access.visible_company_ids(caller())
    if query.ic is not None or query.name is not None:
        hits = (
            lookups.companies_with_ic(db(), query.ic, company_ids=visible)
            if query.ic is not None
            else lookups.companies_named(db(), query.name or "", company_ids=visible)
        )
        hits = [c for c in hits if query.name in (None, c.name) and query.slug in (None, c.slug)]
        return one_page([out(c) for c in hits], query)
    if query.slug is not None:
        if query.slug.isdigit():
            return one_page([], query)
        try:
            found = loaders.company(db(), caller(), query.slug)
        except NotFound:  # missing, or of a company the caller has no role in
            return one_page([], query)
        return one_page([out(found)], query)
    result = companies.list_companies(db(), ids=visible, limit=query.limit, offset=query.offset)
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/companies",
    summary="Create a company",
    tag=TAG,
    body=NewCompany,
    response=CompanyOut,
    status=201,
)
def create_company(body: NewCompany) -> Response:
    """Global administrators only. A taken slug is a 409."""
    access.require_global_admin(caller(), "create companies")
    company = companies.create(db(), actor=caller(), **body.model_dump())
    return created(out(company), "api.companies_get_company", company_id=company.id)


@operation(
    blueprint,
    "GET",
    "/companies/<int:company_id>",
    summary="Get a company",
    tag=TAG,
    response=CompanyOut,
)
def get_company(company_id: int) -> CompanyOut:
    return out(reach(company_id))


@operation(
    blueprint,
    "PATCH",
    "/companies/<int:company_id>",
    summary="Change a company",
    tag=TAG,
    body=CompanyChanges,
    response=CompanyOut,
)
def update_company(company_id: int, body: CompanyChanges) -> CompanyOut:
    """Only the given members change. Needs the company's admin role."""
    company = reach(company_id, access.ADMIN)
    changes = body.model_dump(exclude_unset=True)
    return out(companies.update(db(), company.id, changes, actor=caller()))


@operation(
    blueprint,
    "DELETE",
    "/companies/<int:company_id>",
    summary="Delete a company",
    tag=TAG,
    response=Deleted,
)
def delete_company(company_id: int) -> Deleted:
    """With everything it owns (run templates, jobs, credentials). Global administrators only."""
    company = reach(company_id)
    access.require_global_admin(caller(), "delete companies")
    companies.delete(db(), company.id, actor=caller())
    return Deleted(id=company_id)


# -- environment ----------------------------------------------------------------------


@operation(
    blueprint,
    "GET",
    "/companies/<int:company_id>/environment",
    summary="List a company's environment variables",
    tag=TAG,
    query=ListQuery,
    response=VariablePage,
)
def list_environment(company_id: int, query: ListQuery) -> dict[str, Any]:
    """By name; the values of secret variables are shown as ``***``."""
    company = reach(company_id)
    variables = companies.variables(db(), company.id)
    return one_page([variable_out(v) for v in variables], query)


@operation(
    blueprint,
    "PUT",
    "/companies/<int:company_id>/environment/<name>",
    summary="Set a company environment variable",
    path_patterns={"name": limits.VARIABLE_NAME_PATTERN},
    tag=TAG,
    body=VariableIn,
    response=VariableOut,
)
def set_variable(company_id: int, name: str, body: VariableIn) -> VariableOut:
    """Create or replace; a secret value is stored encrypted. Needs the company's admin role."""
    company = reach(company_id, access.ADMIN)
    variable = companies.set_variable(
        db(), company.id, name, body.value, actor=caller(), secret=body.secret
    )
    return variable_out(variable)


@operation(
    blueprint,
    "DELETE",
    "/companies/<int:company_id>/environment/<name>",
    summary="Remove a company environment variable",
    tag=TAG,
)
def unset_variable(company_id: int, name: str) -> None:
    company = reach(company_id, access.ADMIN)
    companies.unset_variable(db(), company.id, name, actor=caller())


# -- user access ----------------------------------------------------------------------


@operation(
    blueprint,
    "GET",
    "/companies/<int:company_id>/users",
    summary="List the users of a company and their roles",
    tag=TAG,
    query=ListQuery,
    response=MemberPage,
)
def list_members(company_id: int, query: ListQuery) -> dict[str, Any]:
    company = reach(company_id)
    result = users.members(db(), company.id, limit=query.limit, offset=query.offset)
    return page(result, member_out)


@operation(
    blueprint,
    "PUT",
    "/companies/<int:company_id>/users/<int:user_id>",
    summary="Give a user a role in a company",
    tag=TAG,
    body=RoleIn,
    response=MemberOut,
)
def grant_role(company_id: int, user_id: int, body: RoleIn) -> MemberOut:
    """Replaces any role the user had there. Needs the company's admin role."""
    company = reach(company_id, access.ADMIN)
    member = users.grant(db(), company.id, user_id, body.role, actor=caller())
    return member_out(member)


@operation(
    blueprint,
    "DELETE",
    "/companies/<int:company_id>/users/<int:user_id>",
    summary="Take a user's role in a company away",
    tag=TAG,
)
def revoke_role(company_id: int, user_id: int) -> None:
    company = reach(company_id, access.ADMIN)
    users.revoke(db(), company.id, user_id, actor=caller())


# -- applications ---------------------------------------------------------------------


@operation(
    blueprint,
    "GET",
    "/companies/<int:company_id>/applications",
    summary="List the applications assigned to a company",
    tag=TAG,
    query=ListQuery,
    response=CompanyApplicationPage,
)
def list_assigned(company_id: int, query: ListQuery) -> dict[str, Any]:
    company = reach(company_id)
    return one_page([application_out(a) for a in companies.applications(db(), company.id)], query)


@operation(
    blueprint,
    "PUT",
    "/companies/<int:company_id>/applications/<int:application_id>",
    summary="Assign an application to a company",
    tag=TAG,
    response=AssignmentOut,
    also=(201,),
)
def assign(company_id: int, application_id: int) -> Response:
    """Makes a default run template (201); assigning again changes nothing (200)."""
    company = reach(company_id, access.ADMIN)
    run_template, new = companies.assign_application(
        db(), company.id, application_id, actor=caller()
    )
    data = AssignmentOut(
        company_id=company.id,
        application_id=application_id,
        run_template_id=run_template.id,
        created=new,
    )
    return Response(
        json.dumps(data.model_dump(mode="json")),
        status=201 if new else 200,
        mimetype="application/json",
    )


@operation(
    blueprint,
    "DELETE",
    "/companies/<int:company_id>/applications/<int:application_id>",
    summary="Unassign an application from a company",
    tag=TAG,
    response=Deleted,
)
def unassign(company_id: int, application_id: int) -> Deleted:
    """Deletes the company's run templates of the application (and their jobs)."""
    company = reach(company_id, access.ADMIN)
    removed = companies.unassign_application(db(), company.id, application_id, actor=caller())
    return Deleted(id=application_id, removed_run_templates=removed)


@operation(
    blueprint,
    "GET",
    "/company-applications",
    summary="List application assignments across companies",
    tag=TAG,
    query=AssignmentQuery,
    response=AssignmentPage,
)
def list_assignments(query: AssignmentQuery) -> dict[str, Any]:
    """Of the companies the caller may see, by company id, then application id.

    ``company_id`` and ``application_id`` narrow the list; an unknown (or
    invisible) company or an unknown application is a 404.
    """
    result = companies.list_assignments(
        db(),
        company=query.company_id,
        app_id=query.application_id,
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, assignment_out)


def assignment_out(item: companies.Assignment) -> AssignmentRowOut:
    return AssignmentRowOut(
        company_id=item.company.id,
        company_name=item.company.name,
        company_slug=item.company.slug,
        application_id=item.application.id,
        application_name=item.application.name,
        application_uuid=item.application.uuid,
        assigned_at=item.assigned_at,
    )
