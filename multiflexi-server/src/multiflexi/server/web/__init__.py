"""The web UI: server-rendered pages at ``/``, beside the API at ``/api/v1``.

One parent blueprint holds what every page shares: sign-in (the session cookie of
:mod:`multiflexi.server.auth`), the CSRF check of every changing request, the
security headers (a Content-Security-Policy without inline scripts), error pages,
the layout's context (the signed-in user, the menu, the component versions) and
the template filters. Each area is a module with its own nested blueprint.

A view parses the request, makes the core call the API makes, and renders the
result: no rule lives here (``multiflexi.core`` holds them all).
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, g, redirect, request, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import default_exceptions

from multiflexi.core import errors as core_errors
from multiflexi.core import status as core_status
from multiflexi.core import users as core_users
from multiflexi.core.users import LoginThrottled
from multiflexi.server import auth
from multiflexi.server import errors as server_errors
from multiflexi.server.web import (
    activate,
    applications,
    audit,
    base,
    companies,
    credentials,
    dashboard,
    i18n,
    jobs,
    runtemplates,
    search,
    signin,
    users,
)
from multiflexi.server.web.base import CSRF_FIELD, THEME_COOKIE, THEMES, page_error

#: where the pages live (the API keeps /api)
PREFIX = ""

blueprint = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
for area in (
    signin,
    dashboard,
    jobs,
    runtemplates,
    search,
    credentials,
    applications,
    activate,
    companies,
    users,
    audit,
):
    blueprint.register_blueprint(area.blueprint)

#: endpoints a visitor reaches without signing in
PUBLIC_ENDPOINTS = frozenset({"web.static", "web.signin.login", "web.signin.setup"})


@blueprint.before_request
def _sign_in_and_csrf() -> ResponseReturnValue | None:
    if request.endpoint == "web.static":
        return None
    if request.method not in auth.SAFE_METHODS:
        sent = request.form.get(CSRF_FIELD) or request.headers.get(auth.CSRF_HEADER)
        if not auth.csrf_ok(sent):
            return page_error(
                400,
                _("Form expired"),
                _(
                    "The form was sent without this session's security token (it may have "
                    "expired when you signed in again). Reload the page and send it again."
                ),
            )
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    try:
        user = auth.session_user()
    except auth.Unauthorized:
        here = request.full_path if request.query_string else request.path
        return redirect(url_for("web.signin.login", next=here))
    g.principal = auth.principal_of(user, source="web")
    g.language = core_users.language_of(user)
    return None


@blueprint.after_app_request
def _security_headers(response: Any) -> Any:
    if not request.path.startswith("/api/") or response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", base.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
    page = (request.blueprint or "").startswith("web") and request.endpoint != "web.static"
    if page:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(found: server_errors.Problem) -> Any:
    if not base.is_page_request():
        return None
    detail = found.detail
    standard = default_exceptions.get(found.status)
    if standard is not None and detail is not None and detail == standard.description:
        # werkzeug's own English explanation: the page says it in its language
        detail = base.error_detail(found.status, detail)
    return page_error(found.status, base.error_title(found.status, found.title), detail)


@blueprint.errorhandler(core_errors.MultiFlexiError)
def _core_error(exc: core_errors.MultiFlexiError) -> ResponseReturnValue:
    if isinstance(exc, LoginThrottled):  # only reached outside the sign-in form
        return page_error(429, _("Too many failed sign-ins"), i18n.localized(exc.message))
    found = server_errors.core_problem(exc)
    # the core's message in the page's language (the API's problem document keeps English)
    detail = i18n.localized(found.detail) if found.detail is not None else None
    return page_error(found.status, base.error_title(found.status, found.title), detail)


@blueprint.record_once
def _install(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    app.extensions[server_errors.PAGE_RENDERER] = _error_page
    i18n.install(app)
    app.jinja_env.filters.update(base.FILTERS)
    app.jinja_env.globals.update(base.GLOBALS)
    # globals reach imported macros too (context variables do not)
    app.jinja_env.globals.update(csrf_token=auth.csrf_token, csrf_field=CSRF_FIELD)


#: the installed components' versions, shown in every page's footer (read once)
_VERSIONS = core_status.installed_versions()


@blueprint.app_context_processor
def _layout() -> dict[str, Any]:
    if not base.is_page_request():
        return {}
    theme = request.cookies.get(THEME_COOKIE, "system")
    return {
        "principal": g.get("principal"),
        "theme": theme if theme in THEMES else "system",
        "versions": _VERSIONS,
        "menu": base.menu(),
        "language": i18n.current_language(),
        "languages": i18n.LANGUAGES,
    }


__all__ = ["PREFIX", "PUBLIC_ENDPOINTS", "blueprint"]
