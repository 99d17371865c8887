"""The audit log: who changed what, when, filtered by who, what, company and time.

Who may read it is the API's rule (``access.require_audit_reader``): global
administrators the whole log, a company's admins the rows of their companies (one
company at a time, as the API asks). Rows come from ``core.auditview.browse``, which
reads them with ``core.audit.entries`` (the API's call) and shows details through
``core.redaction``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, request
from flask_babel import gettext as _

from multiflexi.core import access, auditview, companies
from multiflexi.core.errors import PermissionDenied
from multiflexi.server import auth
from multiflexi.server.web import base

blueprint = Blueprint("audit", __name__)

#: entries per page
PAGE_SIZE = 50
#: the most companies the company filter offers
COMPANIES_SHOWN = 1000
#: a filter's text is at most this long (the columns' width)
TEXT_MAX = {"actor": 255, "entity_type": 64, "action": 32}
#: the days a time filter accepts (beyond them a time has no UTC value to compare)
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)
#: entity type -> (endpoint of its page, name of the endpoint's id argument)
PAGES = {
    "company": ("web.companies.detail", "company_id"),
    "application": ("web.applications.detail", "app_id"),
    "run_template": ("web.runtemplates.detail", "rt_id"),
    "job": ("web.jobs.detail", "job_id"),
    "credential": ("web.credentials.detail", "credential_id"),
    "credential_type": ("web.credentials.type_detail", "type_id"),
    "user": ("web.users.detail", "user_id"),
}

base.MENU_GUARDS["web.audit.index"] = lambda principal: bool(
    principal and access.reads_audit(principal)
)


def _day(name: str, problems: dict[str, list[str]]) -> dt.date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        problems.setdefault(name, []).append(_("Give a date as YYYY-MM-DD."))
        return None
    return day


def _start(day: dt.date | None) -> dt.datetime | None:
    """The first moment of ``day`` in the installation's zone."""
    return None if day is None else dt.datetime.combine(day, dt.time(), tzinfo=base.zone())


def link_of(entity_type: str, entity_id: str | None, principal: access.Principal) -> str | None:
    """The page of an entry's object, when this app has one and it may be the reader's
    (a user's page only for global administrators). The page itself still checks."""
    page = PAGES.get(entity_type)
    if page is None or entity_id is None or not entity_id.isdigit():
        return None
    if entity_type == "user" and not principal.is_admin:
        return None
    endpoint, argument = page
    return base.link_if(endpoint, **{argument: int(entity_id)})


@blueprint.get("/audit")
def index() -> Response:
    principal = auth.current_principal()
    allowed = access.audit_company_ids(principal)
    if allowed is not None and not allowed:
        raise PermissionDenied("only administrators read the audit log")
    problems: dict[str, list[str]] = {}
    shown = {k: (request.args.get(k) or "").strip()[:size] for k, size in TEXT_MAX.items()}
    company_id = request.args.get("company_id", type=int)
    if allowed is not None and company_id is None:
        company_id = min(allowed)  # a company admin reads one company's rows at a time
    access.require_audit_reader(principal, company_id)
    since, until = _day("from", problems), _day("to", problems)
    db = base.db()
    found = auditview.browse(
        db,
        actor=shown["actor"] or None,
        entity_type=shown["entity_type"] or None,
        action=shown["action"] or None,
        company_id=company_id,
        since=_start(since),
        until=_start(until + dt.timedelta(days=1)) if until else None,
        limit=PAGE_SIZE,
        offset=base.page_offset(),
    )
    listed = companies.list_companies(db, ids=allowed, limit=COMPANIES_SHOWN).items
    choices = [("", _("All companies"))] if allowed is None else []
    choices += [(str(c.id), c.name) for c in listed]
    query: dict[str, Any] = {k: v for k, v in shown.items() if v}
    query.update(
        {
            "company_id": request.args.get("company_id", type=int),
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
        }
    )
    return base.render(
        "web/audit/index.html",
        status=422 if problems else 200,
        **base.list_page(found, ".index", **query),
        link_of=lambda e: link_of(e.entity_type, e.entity_id, principal),
        shown=shown,
        since=since,
        until=until,
        company_id=company_id,
        choices=choices,
        problems=problems,
    )


__all__ = ["PAGES", "blueprint", "link_of"]
