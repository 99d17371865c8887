"""Companies: the list, a company's page, create and edit (with its logo), delete after
a preview of what goes with it, its environment variables and its members' roles.

Each view reads the request, makes the core call the API makes (``multiflexi.core``
companies, companyviews, images, jobviews) and renders; who may do what is the
core's (:mod:`multiflexi.core.loaders` and :mod:`multiflexi.core.access`): a global
administrator creates and deletes companies, the company's administrator changes it,
its environment and its members, a manager and a viewer read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from multiflexi.core import (
    access,
    companies,
    companyviews,
    images,
    jobviews,
    loaders,
    redaction,
    users,
)
from multiflexi.core.errors import Conflict, ValidationError
from multiflexi.core.models import Company
from multiflexi.server import auth
from multiflexi.server.web import base, forms

blueprint = Blueprint("companies", __name__, url_prefix="/companies")

#: companies per page of the list
PAGE_SIZE = 50
#: members per page of the members' page
MEMBERS_PAGE = 100
#: the jobs a company's page lists
RECENT_JOBS = 10
#: the text inputs of the company form (the core's names)
TEXTS = ("name", "slug", "ic", "email")
#: the logo's file input, and the box that removes the stored logo
LOGO, REMOVE_LOGO = "logo", "remove_logo"
#: a company role as the pages name it (the core's names are the values sent)
ROLE_NAMES = {
    "admin": lazy_gettext("administrator"),
    "manager": lazy_gettext("manager"),
    "viewer": lazy_gettext("viewer"),
}
assert set(ROLE_NAMES) == set(users.COMPANY_ROLES), "a name for each of the core's roles"


def _load(company_id: int, permission: str = access.READ) -> Company:
    return loaders.company(base.db(), auth.current_principal(), company_id, permission)


def _may(company_id: int, permission: str) -> bool:
    """Whether the user may do ``permission`` in the company (else the page has no
    controls for it); asked of the loader, as every change is."""
    return loaders.permits(base.db(), auth.current_principal(), company_id, permission)


# -- the list ---------------------------------------------------------------------------


@blueprint.get("")
def index() -> Response:
    """The companies the user has a role in (all of them for a global administrator)."""
    principal = auth.current_principal()
    found = companyviews.overview(
        base.db(),
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
        offset=base.page_offset(),
    )
    return base.render(
        "web/companies/index.html",
        **base.list_page(found, ".index"),
        can_create=principal.is_admin,
    )


@blueprint.get("/slug")
def slug() -> Response:
    """The slug the core would derive from ``?name=`` (the form suggests it as one types)."""
    name = request.args.get("name", "")[:255]
    return Response(companies.slugify(name), mimetype="text/plain")


# -- create and edit ----------------------------------------------------------------------


def _form() -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's values as the core's changes (a blank IC or e-mail is none), the logo
    read from its file (checked by the core), and the problems found reading it."""
    changes: dict[str, Any] = {name: forms.text(name) for name in TEXTS}
    for name in ("ic", "email"):
        changes[name] = changes[name] or None
    problems: dict[str, list[str]] = {}
    upload = request.files.get(LOGO)
    if upload is not None and upload.filename:
        content = upload.stream.read(images.LOGO_MAX_BYTES + 1)
        try:
            changes["logo"] = images.logo_from_file(content)
        except ValidationError as exc:
            problems = forms.form_problems(exc)
    elif forms.checkbox(REMOVE_LOGO):
        changes["logo"] = None
    return changes, problems


def _sent() -> dict[str, Any]:
    """What the form shows again after a refusal (never the uploaded file)."""
    return {name: request.form.get(name, "") for name in (*TEXTS, "enabled")}


def _form_page(
    company: Company | None,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    if sent is None:
        sent = (
            {"enabled": True}
            if company is None
            else {
                "name": company.name,
                "slug": company.slug,
                "ic": company.ic or "",
                "email": company.email or "",
                "enabled": company.enabled,
            }
        )
    return base.render(
        "web/companies/form.html",
        status=status,
        company=company,
        problems=problems or {},
        sent=sent,
        logo_types=", ".join(images.LOGO_TYPES.values()),
        logo_kib=images.LOGO_MAX_BYTES // 1024,
    )


def _refused(company: Company | None, exc: ValidationError | Conflict, sent: Any) -> Response:
    base.db().rollback()
    if isinstance(exc, Conflict):  # the one conflict of a company is its slug
        return _form_page(company, 409, {"slug": [exc.message]}, sent)
    return _form_page(company, 422, forms.form_problems(exc), sent)


@blueprint.route("/new", methods=["GET", "POST"])
def new() -> Response:
    """A new company: for global administrators."""
    principal = auth.current_principal()
    access.require_global_admin(principal, _("create companies"))
    if request.method == "GET":
        return _form_page(None)
    changes, problems = _form()
    sent = _sent()
    if problems:
        return _form_page(None, 422, problems, sent)
    try:
        company = companies.create(
            base.db(),
            actor=principal,
            name=changes["name"],
            slug=changes["slug"] or None,
            ic=changes["ic"],
            email=changes["email"],
            logo=changes.get("logo"),
            enabled=forms.checkbox("enabled"),
        )
    except (ValidationError, Conflict) as exc:
        return _refused(None, exc, sent)
    flash(_("Company %(name)s created.", name=company.name))
    return base.see(".detail", company_id=company.id)


@blueprint.route("/<int:company_id>/edit", methods=["GET", "POST"])
def edit(company_id: int) -> Response:
    """Change the company: for its administrators and the global ones."""
    company = _load(company_id, access.ADMIN)
    if request.method == "GET":
        return _form_page(company)
    changes, problems = _form()
    sent = _sent()
    if problems:
        return _form_page(company, 422, problems, sent)
    changes["enabled"] = forms.checkbox("enabled")
    if not changes["slug"]:
        changes["slug"] = company.slug
    try:
        companies.update(base.db(), company.id, changes, actor=auth.current_principal())
    except (ValidationError, Conflict) as exc:
        return _refused(_load(company_id), exc, sent)
    flash(_("Company saved."))
    return base.see(".detail", company_id=company_id)


# -- one company ----------------------------------------------------------------------------


@blueprint.get("/<int:company_id>")
def detail(company_id: int) -> Response:
    """The company's details, what it holds, links to its areas and its latest jobs."""
    company = _load(company_id)
    principal = auth.current_principal()
    summary = companyviews.overview(base.db(), company_ids={company.id}, limit=1).items[0]
    recent = jobviews.search(
        base.db(), principal, jobviews.JobFilter(company_id=company.id), limit=RECENT_JOBS
    )
    return base.render(
        "web/companies/detail.html",
        company=company,
        summary=summary,
        jobs=recent,
        can_admin=_may(company.id, access.ADMIN),
        can_write=_may(company.id, access.WRITE),
        can_delete=principal.is_admin,
    )


@blueprint.route("/<int:company_id>/delete", methods=["GET", "POST"])
def delete(company_id: int) -> Response:
    """What goes with the company, then its deletion: for global administrators."""
    company = _load(company_id)
    principal = auth.current_principal()
    access.require_global_admin(principal, _("delete companies"))
    if request.method == "GET":
        preview = companyviews.deletion_preview(base.db(), company.id)
        return base.render("web/companies/delete.html", company=company, preview=preview)
    name = company.name
    companies.delete(base.db(), company.id, actor=principal)
    flash(_("Company %(name)s deleted with everything it held.", name=name))
    return base.see(".index")


# -- environment variables ------------------------------------------------------------------


def _variables_page(
    company: Company,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    variables = companies.variables(base.db(), company.id)
    shown = [(v, redaction.company_variable(v)) for v in variables]
    return base.render(
        "web/companies/variables.html",
        status=status,
        company=company,
        variables=shown,
        can_edit=_may(company.id, access.ADMIN),
        problems=problems or {},
        sent=sent or {},
    )


@blueprint.get("/<int:company_id>/variables")
def variables(company_id: int) -> Response:
    """The variables every job of the company gets; secret values are never shown."""
    return _variables_page(_load(company_id))


@blueprint.post("/<int:company_id>/variables")
def set_variable(company_id: int) -> Response:
    """Add a variable or give one a new value; a blank value of a secret one keeps it."""
    company = _load(company_id, access.ADMIN)
    name = forms.text("name")
    value = request.form.get("value", "")
    existing = next((v for v in company.environment if v.name == name), None)
    secret = forms.checkbox("secret") or (existing is not None and existing.secret)
    sent = {"name": name, "secret": secret, "value": "" if secret else value}
    if existing is not None and existing.secret and value == "":
        flash(_("Nothing changed: a blank value keeps the stored secret."))
        return base.see(".variables", company_id=company_id)
    try:
        companies.set_variable(
            base.db(), company.id, name, value, actor=auth.current_principal(), secret=secret
        )
    except ValidationError as exc:
        base.db().rollback()
        return _variables_page(_load(company_id), 422, forms.form_problems(exc), sent)
    flash(_("Variable %(name)s saved.", name=name))
    return base.see(".variables", company_id=company_id)


@blueprint.post("/<int:company_id>/variables/<name>/remove")
def unset_variable(company_id: int, name: str) -> Response:
    company = _load(company_id, access.ADMIN)
    companies.unset_variable(base.db(), company.id, name, actor=auth.current_principal())
    flash(_("Variable %(name)s removed.", name=name))
    return base.see(".variables", company_id=company_id)


# -- members ----------------------------------------------------------------------------------


def _members_page(
    company: Company,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    found = companyviews.members(
        base.db(), company.id, limit=MEMBERS_PAGE, offset=base.page_offset()
    )
    can_edit = _may(company.id, access.ADMIN)
    candidates = (
        companyviews.candidates(base.db(), company.id, auth.current_principal()) if can_edit else []
    )
    return base.render(
        "web/companies/members.html",
        status=status,
        company=company,
        **base.list_page(found, ".members", company_id=company.id),
        can_edit=can_edit,
        candidates_choices=[
            (m.login, f"{m.login} ({m.name})" if m.name else m.login) for m in candidates
        ],
        candidates=bool(candidates),
        roles=ROLE_NAMES,
        problems=problems or {},
        sent=sent or {},
        me=auth.current_principal().user_id,
        keeps_role=lambda user_id: not users.may_change_own_role(auth.current_principal(), user_id),
    )


@blueprint.get("/<int:company_id>/members")
def members(company_id: int) -> Response:
    """The users with a role in the company; its administrators change them."""
    return _members_page(_load(company_id))


def _granted(login: str, role: str, company: Company) -> None:
    flash(
        _(
            "%(login)s is %(role)s of %(company)s now.",
            login=login,
            role=ROLE_NAMES[role],
            company=company.name,
        )
    )


@blueprint.post("/<int:company_id>/members")
def grant(company_id: int) -> Response:
    """Give a user (by login) a role in the company."""
    company = _load(company_id, access.ADMIN)
    login, role = forms.text("login"), forms.text("role")
    try:
        companyviews.grant_by_login(
            base.db(), company.id, login, role, actor=auth.current_principal()
        )
    except ValidationError as exc:
        base.db().rollback()
        sent = {"login": login, "role": role}
        return _members_page(_load(company_id), 422, forms.form_problems(exc), sent)
    except Conflict as exc:
        base.db().rollback()
        sent = {"login": login, "role": role}
        return _members_page(_load(company_id), 422, {"role": [exc.message]}, sent)
    _granted(login, role, company)
    return base.see(".members", company_id=company_id)


@blueprint.post("/<int:company_id>/members/<int:user_id>")
def change_member(company_id: int, user_id: int) -> Response:
    """Change a member's role (``role``), or take it away (``op=remove``)."""
    company = _load(company_id, access.ADMIN)
    principal = auth.current_principal()
    login = users.get(base.db(), user_id).login
    if forms.text("op") == "remove":
        try:
            users.revoke(base.db(), company.id, user_id, actor=principal)
        except Conflict as exc:
            base.db().rollback()
            return _members_page(_load(company_id), 422, {f"role-{user_id}": [exc.message]})
        flash(
            _("%(login)s has no role in %(company)s any more.", login=login, company=company.name)
        )
        return base.see(".members", company_id=company_id)
    role = forms.text("role")
    try:
        users.grant(base.db(), company.id, user_id, role, actor=principal)
    except ValidationError as exc:
        base.db().rollback()
        problems = {f"role-{user_id}": [p.message for p in exc.placed()]}
        return _members_page(_load(company_id), 422, problems)
    except Conflict as exc:
        base.db().rollback()
        return _members_page(_load(company_id), 422, {f"role-{user_id}": [exc.message]})
    _granted(login, role, company)
    return base.see(".members", company_id=company_id)


__all__ = ["blueprint"]
