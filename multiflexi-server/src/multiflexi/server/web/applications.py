"""Applications: the catalogue (search and tag filter, in the page's language), an
application's page, importing a manifest (upload or paste), export as a download, delete,
and one company's catalogue with assigning and unassigning in place.

Each view reads the request, makes the core call the API makes (``multiflexi.core``
catalog, manifests, apps, companies) and renders. Applications are global: everyone
signed in reads them, only a global administrator imports or deletes them; assigning
one to a company takes that company's administrator (the API's rule).
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.utils import secure_filename

from multiflexi.core import access, apps, catalog, companies, loaders, manifests
from multiflexi.core.errors import Conflict, ValidationError
from multiflexi.core.models import Company
from multiflexi.server import auth
from multiflexi.server.web import base, forms, htmx, i18n

blueprint = Blueprint("applications", __name__)

#: cards per page of a catalogue
PAGE_SIZE = 24
#: the most companies the catalogue offers as "catalogue of company ..." links
COMPANY_LINKS = 50
#: the form's inputs of a manifest: a file, or the JSON pasted
FILE_FIELD = "manifest_file"
TEXT_FIELD = "manifest_text"
#: how an exported manifest's file name ends
EXPORT_SUFFIX = ".multiflexi.app.json"


def _require_global_admin(doing: str) -> None:
    access.require_global_admin(auth.current_principal(), doing)


# -- the catalogue -----------------------------------------------------------------------


def _query() -> tuple[str, list[str], int]:
    text = (request.args.get("q") or "").strip()
    tags = [tag for tag in request.args.getlist("tag") if tag]
    return text, tags, base.page_offset()


def _catalogue(company: Company | None) -> Response:
    text, tags, offset = _query()
    principal = auth.current_principal()
    found = catalog.search(
        base.db(),
        lang=i18n.current_language(),
        text=text,
        tags=tags,
        company_id=company.id if company is not None else None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    here = ".company" if company is not None else ".index"
    where: dict[str, Any] = {"company_id": company.id} if company is not None else {}

    def link(to: int | None = None, *, chosen: list[str] | None = None) -> str:
        picked = found.chosen if chosen is None else chosen
        return url_for(
            here, **where, q=found.search or None, tag=list(picked) or None, offset=to or None
        )

    def toggle(tag: str) -> str:
        """The address with ``tag`` added to the chosen tags, or taken away."""
        picked = [t for t in found.chosen if t != tag]
        if tag not in found.chosen:
            picked.append(tag)
        return link(chosen=picked)

    may_assign = company is not None and loaders.permits(
        base.db(), principal, company.id, access.ADMIN
    )
    context: dict[str, Any] = dict(
        found=found,
        company=company,
        link=link,
        toggle=toggle,
        may_assign=may_assign,
        is_admin=principal.is_admin,
    )
    if htmx.is_partial():
        return base.render("web/applications/_results.html", **context)
    visible = access.visible_company_ids(principal)
    others = companies.list_companies(base.db(), ids=visible, limit=COMPANY_LINKS).items
    return base.render("web/applications/index.html", companies=others, **context)


@blueprint.get("/applications")
def index() -> Response:
    """Every application, searched by text and filtered by tags (``?q=&tag=&tag=``)."""
    return _catalogue(None)


@blueprint.get("/companies/<int:company_id>/applications")
def company(company_id: int) -> Response:
    """The catalogue with the company's assigned applications marked."""
    return _catalogue(loaders.company(base.db(), auth.current_principal(), company_id))


# -- one application ---------------------------------------------------------------------


@blueprint.get("/applications/<int:app_id>")
def detail(app_id: int) -> Response:
    principal = auth.current_principal()
    view = catalog.describe(
        base.db(),
        app_id,
        lang=i18n.current_language(),
        company_ids=access.visible_company_ids(principal),
    )
    return base.render(
        "web/applications/detail.html", view=view, app=view.application, is_admin=principal.is_admin
    )


def export_name(app: Any) -> str:
    """``<name or uuid>.multiflexi.app.json``, safe as a file name."""
    stem = (
        secure_filename(app.name or "")
        or secure_filename(app.uuid or "")
        or f"application-{app.id}"
    )
    return stem + EXPORT_SUFFIX


@blueprint.get("/applications/<int:app_id>/export")
def export(app_id: int) -> Response:
    """The application's manifest (the core's export, as the API and the CLI give it)."""
    app = apps.get(base.db(), app_id)
    document = manifests.export_manifest(base.db(), app.id)
    text = json.dumps(document, indent=4, ensure_ascii=False) + "\n"
    answer = Response(text, mimetype="application/json")
    answer.headers.set("Content-Disposition", "attachment", filename=export_name(app))
    return answer


@blueprint.route("/applications/<int:app_id>/delete", methods=["GET", "POST"])
def delete(app_id: int) -> Response:
    """A confirmation page listing what goes with it (companies, run templates, jobs),
    then the deletion (the run templates and their jobs with it)."""
    _require_global_admin(_("delete applications"))
    if request.method == "GET":
        view = catalog.describe(base.db(), app_id, lang=i18n.current_language())
        return base.render("web/applications/delete.html", view=view, app=view.application)
    app = apps.get(base.db(), app_id)
    name = app.name
    removed = apps.delete(base.db(), app.id, actor=auth.current_principal(), force=True)
    flash(_("Application %(name)s deleted with %(n)s run templates.", name=name, n=removed))
    return base.see(".index")


# -- import ------------------------------------------------------------------------------


def _sent_manifest() -> tuple[bytes | str | None, str]:
    """The manifest the form sends: the file when one was chosen, else the pasted text."""
    upload = request.files.get(FILE_FIELD)
    if upload is not None and upload.filename:
        return upload.read(), upload.filename
    pasted = request.form.get(TEXT_FIELD) or ""
    return (pasted if pasted.strip() else None), ""


@blueprint.route("/applications/import", methods=["GET", "POST"])
def import_manifest() -> Response:
    """Upload or paste a manifest; an invalid one is listed problem by problem and
    nothing is written; a valid one is imported (or updates the application of the
    same uuid) and its page is shown, with the import's warnings."""
    _require_global_admin(_("import applications"))
    if request.method == "GET":
        return base.render("web/applications/import.html", problems=[], general=[], pasted="")
    source, filename = _sent_manifest()
    pasted = "" if filename else (request.form.get(TEXT_FIELD) or "")
    if source is None:
        general = [_("Choose a manifest file or paste its JSON.")]
        return base.render(
            "web/applications/import.html", 422, problems=[], general=general, pasted=pasted
        )
    try:
        result = manifests.import_manifest(base.db(), source, actor=auth.current_principal())
    except ValidationError as exc:
        placed = [p for p in exc.problems if p.field]
        general = [exc.summary, *(p.message for p in exc.problems if not p.field)]
        return base.render(
            "web/applications/import.html",
            422,
            problems=placed,
            general=general,
            pasted=pasted,
            filename=filename,
        )
    except Conflict as exc:
        return base.render(
            "web/applications/import.html",
            422,
            problems=[],
            general=[exc.message],
            pasted=pasted,
            filename=filename,
        )
    app = apps.get(base.db(), result.application_id)
    if result.created:
        flash(_("Application %(name)s imported.", name=app.name))
    else:
        flash(_("Application %(name)s updated from the manifest.", name=app.name))
    for warning in result.warnings:
        flash(warning, "warning")
    return base.see(".detail", app_id=app.id)


# -- assignment to a company -------------------------------------------------------------


def _card(company: Company, app_id: int, status: int = 200, **extra: Any) -> Response:
    card = catalog.entry(base.db(), app_id, lang=i18n.current_language(), company_id=company.id)
    may_assign = loaders.permits(base.db(), auth.current_principal(), company.id, access.ADMIN)
    return base.render(
        "web/applications/_card.html",
        status=status,
        entry=card,
        company=company,
        may_assign=may_assign,
        **extra,
    )


def _back_to_catalogue(company_id: int) -> Response:
    target = forms.text("next")
    prefix = url_for(".company", company_id=company_id)
    if not (target == prefix or target.startswith(prefix + "?")):
        target = prefix
    return redirect(target, code=303)  # type: ignore[return-value]


@blueprint.get("/companies/<int:company_id>/applications/<int:app_id>")
def card(company_id: int, app_id: int) -> Response:
    """One card of the company's catalogue (what htmx swaps back after a cancel)."""
    found = loaders.company(base.db(), auth.current_principal(), company_id)
    if not htmx.is_partial():
        return base.see(".detail", app_id=apps.get(base.db(), app_id).id)
    return _card(found, app_id)


@blueprint.post("/companies/<int:company_id>/applications/<int:app_id>/assign")
def assign(company_id: int, app_id: int) -> Response:
    """Assign (which makes the default run template, as in the original)."""
    principal = auth.current_principal()
    found = loaders.company(base.db(), principal, company_id, access.ADMIN)
    run_template, new = companies.assign_application(base.db(), found.id, app_id, actor=principal)
    if htmx.is_partial():
        return _card(found, app_id, created=run_template if new else None)
    flash(_("Assigned; its run template %(name)s was made.", name=run_template.name))
    return _back_to_catalogue(found.id)


@blueprint.route(
    "/companies/<int:company_id>/applications/<int:app_id>/unassign", methods=["GET", "POST"]
)
def unassign(company_id: int, app_id: int) -> Response:
    """First what unassigning deletes (the company's run templates of the application
    and their jobs), then the unassignment."""
    principal = auth.current_principal()
    found = loaders.company(base.db(), principal, company_id, access.ADMIN)
    if request.method == "GET":
        templates, job_count = catalog.company_usage(base.db(), found.id, app_id)
        context: dict[str, Any] = dict(
            templates=templates, job_count=job_count, back=request.args.get("next")
        )
        if htmx.is_partial():
            return _card(found, app_id, confirming=True, **context)
        entry = catalog.entry(base.db(), app_id, lang=i18n.current_language(), company_id=found.id)
        return base.render("web/applications/unassign.html", company=found, entry=entry, **context)
    removed = companies.unassign_application(base.db(), found.id, app_id, actor=principal)
    if htmx.is_partial():
        return _card(found, app_id, removed=removed)
    flash(_("Unassigned; %(n)s run templates deleted with their jobs.", n=removed))
    return _back_to_catalogue(found.id)


__all__ = ["EXPORT_SUFFIX", "PAGE_SIZE", "blueprint", "export_name"]
