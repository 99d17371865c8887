"""Credentials: the companies' credentials (create, edit with blank-keeps-value for
secrets, delete refused while in use, the availability check), their credential types
and the global prototypes (with the import of a prototype document).

Each view reads the request, makes the core call the API makes (``multiflexi.core``
credentials, credviews, availability, manifests) and renders. No value of a credential
is ever read here: a stored field shows only that it is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _

from multiflexi.core import (
    access,
    availability,
    companies,
    credentials,
    credviews,
    fieldtypes,
    loaders,
    manifests,
    redaction,
)
from multiflexi.core.credentials import FieldSpec
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.models import Credential, CredentialType
from multiflexi.server import auth
from multiflexi.server.web import base, forms, htmx

blueprint = Blueprint("credentials", __name__)

#: rows per page of the lists
PAGE_SIZE = 50
#: the most companies, types or prototypes a choice offers
CHOICES = 500
#: the prefix of a field's input (the core's problems name ``values.NAME``)
VALUES = "values."
#: the prefix of the checkbox that removes a stored value
CLEAR = "clear."
#: the largest prototype document accepted from the form (as the API's request limit)
DOCUMENT_LIMIT = 1024 * 1024


def _offset() -> int:
    return max(0, request.args.get("offset", 0, type=int) or 0)


def _company_filter() -> int | None:
    """``?company_id=`` (blank: every company), checked against what the user may see."""
    company_id = request.args.get("company_id", type=int)
    if company_id is not None:
        loaders.company(base.db(), auth.current_principal(), company_id)  # 404 when not theirs
    return company_id


def _visible_companies() -> list[Any]:
    principal = auth.current_principal()
    ids = access.visible_company_ids(principal)
    return list(companies.list_companies(base.db(), ids=ids, limit=CHOICES).items)


def _writable_companies() -> list[Any]:
    ids = access.company_ids_with(auth.current_principal(), access.WRITE)
    if ids is not None and not ids:
        return []
    return list(companies.list_companies(base.db(), ids=ids, limit=CHOICES).items)


def _may_write(company_id: int) -> bool:
    return loaders.permits(base.db(), auth.current_principal(), company_id, access.WRITE)


def _local(target: str | None) -> str | None:
    """``target`` when it is a path of this site, else None (no open redirect)."""
    return target if target and base.safe_next(target) == target else None


def _widget(spec: FieldSpec) -> str:
    """The input a field's type calls for."""
    if spec.secret:
        return "password"
    kind = (spec.type or "string").lower()
    if kind in ("bool", "boolean", "checkbox", "switch"):
        return "boolean"
    if kind in ("set", "select", "enum") or fieldtypes.allowed_options(spec.options):
        return "select"
    if kind in ("integer", "float", "number"):
        return "number"
    if kind in ("email", "url"):
        return kind
    if kind in ("text", "textarea"):
        return "textarea"
    return "text"


def _choices(spec: FieldSpec) -> list[tuple[str, str]]:
    if _widget(spec) == "boolean":
        return [("", "—"), ("true", _("yes")), ("false", _("no"))]
    if isinstance(spec.options, dict):
        pairs = [(str(key), str(label)) for key, label in spec.options.items()]
    else:
        pairs = [(value, value) for value in fieldtypes.allowed_options(spec.options)]
    return [("", "—"), *pairs]


# -- credentials ----------------------------------------------------------------------------


@blueprint.get("/credentials")
def index() -> Response:
    """The credentials the user may see, or one company's (``?company_id=``)."""
    principal = auth.current_principal()
    company_id = _company_filter()
    found = credviews.overview(
        base.db(),
        company_id=company_id,
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
        offset=_offset(),
    )

    def link(to: int) -> str:
        return url_for(".index", company_id=company_id, offset=to or None)

    return base.render(
        "web/credentials/index.html",
        page=found,
        link=link,
        company_id=company_id,
        companies=_visible_companies(),
        writable=_writable_companies(),
    )


def _form_page(
    company: Any,
    ctype: CredentialType | None,
    *,
    credential: Credential | None = None,
    types: list[CredentialType] | None = None,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, str] | None = None,
    next_url: str | None = None,
) -> Response:
    specs = credentials.fields_of(ctype) if ctype is not None else []
    stored = set(redaction.credential_values(credential)) if credential is not None else set()
    return base.render(
        "web/credentials/form.html",
        status=status,
        company=company,
        ctype=ctype,
        credential=credential,
        types=types or [],
        specs=specs,
        stored=stored,
        widget=_widget,
        choices=_choices,
        default_of=redaction.credential_field_default,
        problems=problems or {},
        sent=sent or {},
        next_url=next_url,
    )


def _sent_values(specs: list[FieldSpec]) -> tuple[dict[str, str | None], dict[str, str]]:
    """The values the form gives (a blank input gives nothing: a stored value stays; its
    "remove" box removes it), and what may be shown again after a refusal (no secret)."""
    values: dict[str, str | None] = {}
    shown: dict[str, str] = {}
    for spec in specs:
        name = VALUES + spec.keyword
        if forms.checkbox(CLEAR + spec.keyword):
            values[spec.keyword] = None
            continue
        value = request.form.get(name, "")
        if spec.secret:
            if value != "":
                values[spec.keyword] = value
            continue
        value = value.strip()
        if value:
            values[spec.keyword] = value
            shown[name] = value
    return values, shown


@blueprint.route("/companies/<int:company_id>/credentials/new", methods=["GET", "POST"])
def new(company_id: int) -> Response:
    """A new credential of the company: first its type, then its fields; after saving,
    back to ``next`` when it is a path of this site (the activation wizard's), else to it."""
    principal = auth.current_principal()
    company = loaders.company(base.db(), principal, company_id, access.WRITE)
    next_url = _local(request.values.get("next"))
    type_id = request.values.get("type_id", type=int)
    types = list(credentials.list_types(base.db(), company_id=company.id, limit=CHOICES).items)
    ctype = None
    if type_id is not None:
        ctype = loaders.credential_type(base.db(), principal, type_id)
        if ctype.company_id != company.id:
            raise NotFound("credential type", type_id)
    if request.method == "GET" or ctype is None:
        problems = None
        if request.method == "POST":
            problems = {"type_id": [_("Choose the type of the credential.")]}
        status = 422 if problems else 200
        return _form_page(
            company, ctype, types=types, status=status, problems=problems, next_url=next_url
        )
    specs = credentials.fields_of(ctype)
    values, shown = _sent_values(specs)
    name = forms.text("name")
    shown["name"] = name
    try:
        credential = credentials.create(
            base.db(),
            company=company.id,
            credential_type_id=ctype.id,
            name=name,
            values={k: v for k, v in values.items() if v is not None},
            actor=principal,
        )
    except ValidationError as exc:
        base.db().rollback()
        return _form_page(
            company,
            ctype,
            types=types,
            status=422,
            problems=forms.form_problems(exc),
            sent=shown,
            next_url=next_url,
        )
    except Conflict as exc:
        base.db().rollback()
        return _form_page(
            company,
            ctype,
            types=types,
            status=422,
            problems={"name": [exc.message]},
            sent=shown,
            next_url=next_url,
        )
    flash(_("Credential %(name)s created.", name=credential.name))
    if next_url:
        return redirect(next_url, code=303)  # type: ignore[return-value]
    return base.see(".detail", credential_id=credential.id)


def _load(credential_id: int, permission: str = access.READ) -> Credential:
    return loaders.credential(base.db(), auth.current_principal(), credential_id, permission)


@blueprint.get("/credentials/<int:credential_id>")
def detail(credential_id: int) -> Response:
    credential = _load(credential_id)
    ctype = credential.credential_type
    checks = credviews.last_checks(base.db(), [credential.id])
    return base.render(
        "web/credentials/detail.html",
        credential=credential,
        ctype=ctype,
        company=companies.get(base.db(), credential.company_id),
        specs=credentials.fields_of(ctype),
        stored=set(redaction.credential_values(credential)),
        default_of=redaction.credential_field_default,
        used_by=credentials.used_by(base.db(), credential.id),
        last_check=checks.get(credential.id),
        can_edit=_may_write(credential.company_id),
    )


@blueprint.route("/credentials/<int:credential_id>/edit", methods=["GET", "POST"])
def edit(credential_id: int) -> Response:
    """Rename or change values: a blank input keeps the stored value (a secret's is never
    shown), its "remove" box removes it."""
    credential = _load(credential_id, access.WRITE)
    company = companies.get(base.db(), credential.company_id)
    ctype = credential.credential_type
    next_url = _local(request.values.get("next"))
    if request.method == "GET":
        return _form_page(company, ctype, credential=credential, next_url=next_url)
    values, shown = _sent_values(credentials.fields_of(ctype))
    name = forms.text("name")
    shown["name"] = name
    try:
        credentials.update(
            base.db(), credential.id, actor=auth.current_principal(), name=name, values=values
        )
    except (ValidationError, Conflict) as exc:
        base.db().rollback()
        problems = (
            forms.form_problems(exc)
            if isinstance(exc, ValidationError)
            else {"name": [exc.message]}
        )
        again = _load(credential_id, access.WRITE)
        return _form_page(
            company,
            again.credential_type,
            credential=again,
            status=422,
            problems=problems,
            sent=shown,
            next_url=next_url,
        )
    flash(_("Credential %(name)s saved.", name=credential.name))
    if next_url:
        return redirect(next_url, code=303)  # type: ignore[return-value]
    return base.see(".detail", credential_id=credential.id)


@blueprint.route("/credentials/<int:credential_id>/delete", methods=["GET", "POST"])
def delete(credential_id: int) -> Response:
    """What goes with it (its values) and a confirmation; refused while run templates use
    it, which are listed to unbind it from."""
    credential = _load(credential_id, access.WRITE)
    status = 200
    problem = None
    if request.method == "POST":
        name, company_id = credential.name, credential.company_id
        try:
            credentials.delete(base.db(), credential.id, actor=auth.current_principal())
        except Conflict as exc:
            base.db().rollback()
            credential = _load(credential_id, access.WRITE)
            status, problem = 422, exc.message
        else:
            flash(_("Credential %(name)s deleted.", name=name))
            return base.see(".index", company_id=company_id)
    return base.render(
        "web/credentials/delete.html",
        status=status,
        credential=credential,
        used_by=credentials.used_by(base.db(), credential.id),
        problem=problem,
    )


@blueprint.post("/credentials/<int:credential_id>/check")
def check(credential_id: int) -> Response:
    """Check now whether the credential is usable (audited); its state and message, never
    a value. htmx gets the result's fragment, a plain form the page again."""
    principal = auth.current_principal()
    result = availability.check_credential(base.db(), credential_id, actor=principal)
    if htmx.is_partial():
        shown = credviews.LastCheck(
            result.state.value, result.message, result.checked_at, principal.name
        )
        return base.render("web/credentials/_check.html", result=shown, fresh=True)
    flash(_("Availability: %(state)s.", state=result.describe()))
    return base.see(".detail", credential_id=credential_id, _anchor="availability")


# -- credential types -----------------------------------------------------------------------


#: the prefix of a credential type's own field row (the core's problems name ``fields.N.x``)
FIELDS = "fields."
#: the parts of a field row, as the core's ``create_type`` takes them
FIELD_TEXTS = ("keyword", "type", "default", "description")
FIELD_FLAGS = ("required", "secret")
#: blank field rows the new type form offers (a button adds more)
BLANK_ROWS = 3
#: the most field rows a form is read for (as the API's limit)
MAX_ROWS = 200


def _field_rows() -> list[dict[str, Any]]:
    """The field rows as sent (``fields.N.keyword`` ...), in their order, each with its
    number ``index`` (the row's name on the page)."""
    numbers: set[int] = set()
    for key in request.form:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] + "." == FIELDS and parts[1].isdigit():
            numbers.add(int(parts[1]))
    rows = []
    for index in sorted(numbers)[:MAX_ROWS]:
        row: dict[str, Any] = {"index": index}
        for part in FIELD_TEXTS:
            row[part] = forms.text(f"{FIELDS}{index}.{part}")
        for part in FIELD_FLAGS:
            row[part] = forms.checkbox(f"{FIELDS}{index}.{part}")
        rows.append(row)
    return rows


def _is_blank(row: dict[str, Any]) -> bool:
    """Nothing filled in (the type's select always sends something)."""
    return not any(row[part] for part in ("keyword", "default", "description", *FIELD_FLAGS))


def _field_specs(rows: list[dict[str, Any]]) -> list[Mapping[str, object]]:
    """What the core takes of each filled row (a blank row is left out)."""
    return [
        {
            "keyword": row["keyword"],
            "type": row["type"] or "string",
            "default": row["default"] or None,
            "description": row["description"] or None,
            "required": row["required"],
            "secret": row["secret"],
        }
        for row in rows
        if not _is_blank(row)
    ]


def _row_problems(
    problems: dict[str, list[str]], rows: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """The core numbers the rows it was given; the page names them by their row number."""
    filled = [row["index"] for row in rows if not _is_blank(row)]
    placed: dict[str, list[str]] = {}
    for key, messages in problems.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] + "." == FIELDS and parts[1].isdigit():
            given = int(parts[1])
            if given < len(filled):
                key = f"{FIELDS}{filled[given]}.{parts[2]}"
        placed.setdefault(key, []).extend(messages)
    return placed


def _blank_row(index: int) -> dict[str, Any]:
    return {
        "index": index,
        "keyword": "",
        "type": "string",
        "default": "",
        "description": "",
        "required": False,
        "secret": False,
    }


def _types_page(
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> Response:
    principal = auth.current_principal()
    company_id = _company_filter()
    found = credviews.type_overview(
        base.db(),
        company_id=company_id,
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
        offset=_offset(),
    )

    def link(to: int) -> str:
        return url_for(".types", company_id=company_id, offset=to or None)

    writable = _writable_companies()
    chosen = dict(sent or {})
    chosen.setdefault("company_id", str(company_id or ""))
    chosen.setdefault("prototype_id", request.args.get("prototype_id", ""))
    chosen.setdefault("next", _local(request.args.get("next")) or "")
    prototypes = credentials.list_prototypes(base.db(), limit=CHOICES).items if writable else []
    rows = list(rows or [])
    while len(rows) < BLANK_ROWS:
        rows.append(_blank_row(rows[-1]["index"] + 1 if rows else 0))
    return base.render(
        "web/credentials/types.html",
        status=status,
        page=found,
        link=link,
        company_id=company_id,
        companies=_visible_companies(),
        writable=writable,
        prototypes=prototypes,
        company_choices=[(str(c.id), c.name) for c in writable],
        prototype_choices=[
            ("", _("none: fields of its own")),
            *((str(p.id), f"{p.name} ({p.code})") for p in prototypes),
        ],
        type_choices=[(kind, kind) for kind in fieldtypes.CHECKS],
        rows=rows,
        next_row=max(row["index"] for row in rows) + 1,
        problems=problems or {},
        sent=chosen,
    )


@blueprint.get("/credentials/types")
def types() -> Response:
    """The credential types of the companies the user may see, and a form for a new one."""
    return _types_page()


@blueprint.post("/credentials/types")
def create_type() -> Response:
    """A company's credential type made from a prototype, or with fields of its own, or
    both (write access to the company, as through the API)."""
    principal = auth.current_principal()
    company_id = request.form.get("company_id", type=int)
    prototype_id = request.form.get("prototype_id", type=int)
    name = forms.text("name")
    next_url = _local(request.form.get("next"))
    rows = _field_rows()
    sent = {
        "company_id": str(company_id or ""),
        "prototype_id": str(prototype_id or ""),
        "name": name,
        "next": next_url or "",
    }
    if company_id is None:
        return _types_page(422, {"company_id": [_("Choose the company.")]}, sent, rows)
    loaders.company(base.db(), principal, company_id, access.WRITE)
    try:
        ctype = credentials.create_type(
            base.db(),
            company=company_id,
            name=name,
            actor=principal,
            prototype_ref=prototype_id,
            fields=_field_specs(rows),
        )
    except ValidationError as exc:
        base.db().rollback()
        return _types_page(422, _row_problems(forms.form_problems(exc), rows), sent, rows)
    except Conflict as exc:
        base.db().rollback()
        return _types_page(422, {"name": [exc.message]}, sent, rows)
    flash(_("Credential type %(name)s created.", name=ctype.name))
    if next_url:
        separator = "&" if "?" in next_url else "?"
        return redirect(f"{next_url}{separator}type_id={ctype.id}", code=303)  # type: ignore[return-value]
    return base.see(".type_detail", type_id=ctype.id)


def _load_type(type_id: int, permission: str = access.READ) -> CredentialType:
    return loaders.credential_type(base.db(), auth.current_principal(), type_id, permission)


@blueprint.get("/credentials/types/<int:type_id>")
def type_detail(type_id: int) -> Response:
    ctype = _load_type(type_id)
    principal = auth.current_principal()
    found = credviews.overview(
        base.db(),
        credential_type_id=ctype.id,
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
        offset=_offset(),
    )

    def link(to: int) -> str:
        return url_for(".type_detail", type_id=type_id, offset=to or None)

    return base.render(
        "web/credentials/type_detail.html",
        ctype=ctype,
        company=companies.get(base.db(), ctype.company_id),
        specs=credentials.fields_of(ctype),
        own={f.keyword for f in ctype.fields},
        default_of=redaction.credential_field_default,
        settings=redaction.credential_type_settings(ctype),
        page=found,
        link=link,
        can_edit=_may_write(ctype.company_id),
    )


@blueprint.route("/credentials/types/<int:type_id>/delete", methods=["GET", "POST"])
def type_delete(type_id: int) -> Response:
    """What goes with it (its own fields and settings) and a confirmation; refused while
    credentials of the type exist."""
    ctype = _load_type(type_id, access.WRITE)
    status, problem = 200, None
    if request.method == "POST":
        name = ctype.name
        try:
            credentials.delete_type(base.db(), ctype.id, actor=auth.current_principal())
        except Conflict as exc:
            base.db().rollback()
            ctype = _load_type(type_id, access.WRITE)
            status, problem = 422, exc.message
        else:
            flash(_("Credential type %(name)s deleted.", name=name))
            return base.see(".types")
    used = credentials.list_credentials(base.db(), credential_type_id=ctype.id, limit=CHOICES)
    return base.render(
        "web/credentials/type_delete.html",
        status=status,
        ctype=ctype,
        used=used,
        problem=problem,
    )


# -- prototypes -----------------------------------------------------------------------------


@blueprint.get("/credentials/prototypes")
def prototypes() -> Response:
    """The prototypes (global kinds of credential): what every company's types are made of."""
    found = credviews.prototype_overview(base.db(), limit=PAGE_SIZE, offset=_offset())

    def link(to: int) -> str:
        return url_for(".prototypes", offset=to or None)

    return base.render(
        "web/credentials/prototypes.html",
        page=found,
        link=link,
        may_import=auth.current_principal().is_admin,
        may_make_types=bool(_writable_companies()),
    )


@blueprint.get("/credentials/prototypes/<int:prototype_id>")
def prototype_detail(prototype_id: int) -> Response:
    proto = credentials.prototype(base.db(), prototype_id)
    principal = auth.current_principal()
    made = credviews.type_overview(
        base.db(),
        prototype_id=proto.id,
        company_ids=access.visible_company_ids(principal),
        limit=PAGE_SIZE,
    )
    return base.render(
        "web/credentials/prototype_detail.html",
        proto=proto,
        specs=credentials.prototype_fields(proto),
        labels={f.keyword: f.name for f in proto.fields},
        default_of=redaction.credential_field_default,
        made=made,
        may_make_types=bool(_writable_companies()),
    )


@blueprint.route("/credentials/prototypes/import", methods=["GET", "POST"])
def import_prototype() -> Response:
    """Import a prototype document (upload or paste): created, or updated when its uuid
    (then code) is known; every problem listed with the place in the document it is about,
    and nothing written. Global administrators only, as through the API and the CLI."""
    principal = auth.current_principal()
    access.require_global_admin(principal, _("import credential prototypes"))
    if request.method == "GET":
        return base.render("web/credentials/import.html", problems=[], pasted="")
    upload = request.files.get("document")
    pasted = request.form.get("pasted", "")
    source = upload.read(DOCUMENT_LIMIT + 1) if upload and upload.filename else b""
    if not source:
        source = pasted.encode()
    if not source.strip():
        problems = [(None, _("Choose a file or paste the document."))]
        return base.render("web/credentials/import.html", 422, problems=problems, pasted=pasted)
    if len(source) > DOCUMENT_LIMIT:
        problems = [(None, _("The document is larger than 1 MiB."))]
        return base.render("web/credentials/import.html", 422, problems=problems, pasted="")
    try:
        result = manifests.import_credential_prototype(base.db(), source, actor=principal)
    except (ValidationError, Conflict) as exc:
        base.db().rollback()
        if isinstance(exc, ValidationError):
            listed = [(p.field, p.message) for p in exc.placed()]
            summary = exc.summary
        else:
            listed, summary = [], exc.message
        return base.render(
            "web/credentials/import.html",
            422,
            problems=listed,
            summary=summary,
            pasted=pasted,
        )
    if result.created:
        flash(_("Credential prototype imported."))
    else:
        flash(_("Credential prototype updated."))
    for warning in result.warnings:
        flash(warning, "warning")
    return base.see(".prototype_detail", prototype_id=result.prototype_id)


__all__ = ["blueprint"]
