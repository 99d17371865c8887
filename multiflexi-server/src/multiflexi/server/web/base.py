"""What every page of the web UI shares, outside the blueprint: the security headers,
the error page, the safe redirect after sign-in, the template filters and the menu."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import Response, current_app, g, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_gettext, ngettext
from flask_babel import gettext as _
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


#: the titles the error pages show, by HTTP status, in the page's language (the API's
#: problem documents keep their English titles)
ERROR_TITLES: dict[int, Any] = {
    400: lazy_gettext("Bad request"),
    401: lazy_gettext("Sign-in needed"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("Method not allowed"),
    409: lazy_gettext("Conflict"),
    413: lazy_gettext("Request too large"),
    422: lazy_gettext("Invalid input"),
    429: lazy_gettext("Too many requests"),
    500: lazy_gettext("Internal error"),
    503: lazy_gettext("Service unavailable"),
}


def error_title(status: int, fallback: str) -> str:
    """The title of an error page of ``status``, translated; ``fallback`` for a status
    without one of its own."""
    title = ERROR_TITLES.get(status)
    return str(title) if title is not None else fallback


#: what the error pages say of a request no view answered (werkzeug's texts, translated)
ERROR_DETAILS: dict[int, Any] = {
    404: lazy_gettext("There is no such page. Check the address, or go back to the dashboard."),
    405: lazy_gettext("This page does not accept that kind of request."),
}


def error_detail(status: int, fallback: str) -> str:
    detail = ERROR_DETAILS.get(status)
    return str(detail) if detail is not None else fallback


def db() -> Any:
    """The request's database session (the one the API's views use)."""
    return server_app.session()


def render(template: str, status: int = 200, **context: Any) -> Response:
    """A page: ``template`` rendered with ``context``, as HTML with ``status``."""
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def see(endpoint: str, **values: Any) -> Response:
    """The answer to a POST that worked: 303 to the page of ``endpoint`` (a GET)."""
    return redirect(url_for(endpoint, **values), code=303)  # type: ignore[return-value]


def page_offset() -> int:
    """Where a list page starts: ``?offset=`` (0 when missing, negative or not a number)."""
    return max(0, request.args.get("offset", 0, type=int) or 0)


def page_link(endpoint: str, **filters: Any) -> Callable[[int], str]:
    """The ``link(offset)`` of the pagination macro: ``endpoint`` with the same ``filters``
    (a blank one left out of the URL, as is the first page's offset)."""

    def link(to: int) -> str:
        return url_for(endpoint, **filters, offset=to or None)

    return link


def list_page(found: Any, endpoint: str, **filters: Any) -> dict[str, Any]:
    """What a list template's ``list_table``/``pagination`` takes: ``page`` (the core's
    Page) and ``link``, the address of another page of it with the same ``filters``."""
    return {"page": found, "link": page_link(endpoint, **filters)}


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


def zone() -> ZoneInfo:
    """The installation's time zone (the one the pages show times in)."""
    return ZoneInfo(server_app.settings_of(current_app).timezone)


#: a day and month in words, as the page's language writes them ("Dec 7", "7. 12.")
DAY_MONTH = "%d %b"
WEEKDAY = "%a"


def local_strftime(local: dt.datetime, fmt: str) -> str:
    """``local.strftime(fmt)`` with its words in the page's language.

    Dates and times stay numeric and ISO-like (2026-12-07 14:05 reads the same in
    every language); the parts in words come from Babel: ``%a`` is the abbreviated
    weekday ("Mon", "po") and ``%d %b`` the day and month ("Dec 7", "7. 12.")."""
    locale = get_locale() or "en"
    if DAY_MONTH in fmt:
        words = format_skeleton("MMMd", local, locale=locale)
        fmt = fmt.replace(DAY_MONTH, words.replace("%", "%%"))
    if WEEKDAY in fmt:
        words = format_skeleton("E", local, locale=locale)
        fmt = fmt.replace(WEEKDAY, words.replace("%", "%%"))
    return local.strftime(fmt)


def when(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> Markup | str:
    """A time in the installation's zone, marked up so the page can show it as "3 min ago"."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(zone())
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        value.astimezone(dt.UTC).isoformat(timespec="seconds"),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        local_strftime(local, fmt),
    )


def duration(seconds: float | None) -> str:
    """A length of time in the units of the page's language (s, min, h, d)."""
    if seconds is None:
        return "—"
    whole = int(seconds)
    if whole < 60:
        return _("%(s)d s", s=whole)
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return _("%(min)d min %(s)d s", min=minutes, s=whole)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)d h %(min)d min", h=hours, min=minutes)
    return _("%(d)d d %(h)d h", d=hours // 24, h=hours % 24)


#: the names of the job states as the pages show them (``data-state`` keeps the value)
STATE_LABELS: dict[str, Any] = {
    "scheduled": lazy_gettext("scheduled"),
    "queued": lazy_gettext("queued"),
    "waiting": lazy_gettext("waiting"),
    "running": lazy_gettext("running"),
    "success": lazy_gettext("success"),
    "failed": lazy_gettext("failed"),
    "blocked": lazy_gettext("blocked"),
    "lost": lazy_gettext("lost"),
    "cancelled": lazy_gettext("cancelled"),
    "missed": lazy_gettext("missed"),
    # a credential's availability (the run template's credentials)
    "available": lazy_gettext("available"),
    "degraded": lazy_gettext("degraded"),
    "unavailable": lazy_gettext("unavailable"),
    "misconfigured": lazy_gettext("misconfigured"),
    "unknown": lazy_gettext("unknown"),
}
#: the names of what launched a job (the job list's trigger filter and column)
TRIGGER_LABELS: dict[str, Any] = {
    "scheduler": lazy_gettext("scheduler"),
    "manual": lazy_gettext("manual"),
    "api": lazy_gettext("API"),
    "cli": lazy_gettext("CLI"),
    "action": lazy_gettext("action"),
    "retry": lazy_gettext("retry"),
}


def state_label(state: str) -> str:
    """A job state's (or availability's) name in the page's language."""
    label = STATE_LABELS.get(state)
    return str(label) if label is not None else state


def trigger_label(trigger: str) -> str:
    label = TRIGGER_LABELS.get(trigger)
    return str(label) if label is not None else trigger


FILTERS = {
    "when": when,
    "duration": duration,
    "state_label": state_label,
    "trigger_label": trigger_label,
}


def link_if(endpoint: str, **values: Any) -> str | None:
    """The address of ``endpoint`` when this app has that page, else None: a template
    shows plain text instead of a link to a page that does not exist (yet)."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


#: a number of each plural category of Intl.PluralRules (the script picks the form of the
#: category of its number: English has one/other, Czech one/few/many/other)
PLURAL_SAMPLES = (("zero", 0), ("one", 1), ("two", 2), ("few", 3), ("many", 5), ("other", 5))
#: what a script puts in place of the number of a text with plural forms
NUMBER = "{n}"


def plural_forms(text: Callable[[int], str]) -> dict[str, str]:
    """The forms of a counted text, by plural category, with :data:`NUMBER` for the number."""
    return {category: str(text(n)) for category, n in PLURAL_SAMPLES}


def script_texts() -> dict[str, Any]:
    """The texts the pages' scripts show, in the page's language (the layout writes them
    into ``<body data-i18n>``; ``static/web/js/i18n.js`` reads them)."""
    n = NUMBER
    themes = {"system": _("system"), "light": _("light"), "dark": _("dark")}
    return {
        "theme": {key: _("Theme: %(theme)s", theme=name) for key, name in themes.items()},
        "ago": {
            "s": plural_forms(lambda k: ngettext("%(count)s s ago", "%(count)s s ago", k, count=n)),
            "min": plural_forms(
                lambda k: ngettext("%(count)s min ago", "%(count)s min ago", k, count=n)
            ),
            "h": plural_forms(lambda k: ngettext("%(count)s h ago", "%(count)s h ago", k, count=n)),
            "day": plural_forms(
                lambda k: ngettext("%(count)s day ago", "%(count)s days ago", k, count=n)
            ),
        },
        "in": {
            "s": plural_forms(lambda k: ngettext("in %(count)s s", "in %(count)s s", k, count=n)),
            "min": plural_forms(
                lambda k: ngettext("in %(count)s min", "in %(count)s min", k, count=n)
            ),
            "h": plural_forms(lambda k: ngettext("in %(count)s h", "in %(count)s h", k, count=n)),
            "day": plural_forms(
                lambda k: ngettext("in %(count)s day", "in %(count)s days", k, count=n)
            ),
        },
        "lines": plural_forms(lambda k: ngettext("%(count)s line", "%(count)s lines", k, count=n)),
        "output": {
            "following": _("Following"),
            "follow": _("Follow"),
            "live": _("live"),
            "ended": _("ended: %(state)s", state="{state}"),
            "busy": _("live (server busy: refreshed every few seconds)"),
            "unavailable": _("live output unavailable: reload the page"),
            "reconnecting": _("reconnecting…"),
        },
        "states": {state: str(label) for state, label in STATE_LABELS.items()},
    }


#: functions every template may call
GLOBALS = {"link_if": link_if, "script_texts": script_texts}

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
