"""What every page of the web UI shares, outside the blueprint: the security headers,
the error page, the safe redirect after sign-in, the template filters and the menu."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, render_template, request, url_for
from flask_babel import lazy_gettext
from markupsafe import Markup

from multiflexi.server import app as server_app

#: a form's field with the session's CSRF token (htmx sends the X-CSRF-Token header)
CSRF_FIELD = "csrf_token"
#: the theme a page starts in, remembered by the browser (light, dark or system)
THEME_COOKIE = "theme"
THEMES = ("system", "light", "dark")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def signed_in_user_id() -> int | None:
    principal = g.get("principal")
    return None if principal is None else principal.user_id


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (no open redirect)."""
    if target:
        parts = urlsplit(target)
        local = not parts.scheme and not parts.netloc and target.startswith("/")
        if local and not target.startswith("//") and "\\" not in target:
            return target
    return url_for("web.dashboard.index")


def page_error(status: int, title: str, detail: str | None = None) -> Response:
    html = render_template("web/error.html", status=status, title=title, detail=detail)
    return Response(html, status=status, mimetype="text/html")


def is_page_request() -> bool:
    """Whether the request is for a page (not the API, the ops endpoints or a script)."""
    if request.blueprint is not None:
        return request.blueprint == "web" or request.blueprint.startswith("web.")
    if request.path.startswith("/api/") or request.path in ("/healthz", "/readyz", "/metrics"):
        return False
    return request.accept_mimetypes.accept_html


def _zone() -> dt.tzinfo:
    return ZoneInfo(server_app.settings_of(current_app).timezone)


def when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> Markup | str:
    """A time in the installation's zone, marked up so the page can show it as "3 min ago"."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(_zone())
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.astimezone(dt.UTC).isoformat(timespec="seconds"),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        local.strftime(fmt),
    )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {whole} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} d {hours % 24} h"


FILTERS = {"when": when, "duration": duration}


def link_if(endpoint: str, **values: Any) -> str | None:
    """The address of ``endpoint`` when this app has that page, else None: a template
    shows plain text instead of a link to a page that does not exist (yet)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


#: functions every template may call
GLOBALS = {"link_if": link_if}

#: the main menu: (endpoint, label, test id); the layout shows the pages that exist
MENU: tuple[tuple[str, Any, str], ...] = (
    ("web.dashboard.index", lazy_gettext("Dashboard"), "menu-dashboard"),
    ("web.jobs.index", lazy_gettext("Jobs"), "menu-jobs"),
    ("web.runtemplates.index", lazy_gettext("Run templates"), "menu-runtemplates"),
    ("web.companies.index", lazy_gettext("Companies"), "menu-companies"),
    ("web.applications.index", lazy_gettext("Applications"), "menu-applications"),
    ("web.credentials.index", lazy_gettext("Credentials"), "menu-credentials"),
    ("web.users.index", lazy_gettext("Users"), "menu-users"),
    ("web.audit.index", lazy_gettext("Audit"), "menu-audit"),
)


#: endpoint -> whether the signed-in principal may open that page (an area registers
#: the rule of its own page here; a page not listed is for every signed-in user)
MENU_GUARDS: dict[str, Callable[[Any], bool]] = {}


def menu() -> list[tuple[str, Any, str]]:
    """The main menu's entries whose page exists in this app and that the signed-in
    user may open (no entry leads to a refusal)."""
    principal = g.get("principal")
    return [
        entry
        for entry in MENU
        if entry[0] in current_app.view_functions
        and (entry[0] not in MENU_GUARDS or MENU_GUARDS[entry[0]](principal))
    ]
