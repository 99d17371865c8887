"""Users and the signed-in user's own account: the user list (global administrators),
a user's page with its actions, the profile (names, e-mail, page language, password)
and the API tokens (made and shown once, listed, revoked).

Each view reads the form and makes the core call the API makes (``multiflexi.core``
users, tokens); the core's refusals are shown beside the fields they are about. Who may
do what is the API's rule: the user pages are for global administrators
(``access.require_global_admin``), a user's own account is reached by its owner
(``loaders.user`` / ``loaders.token``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext, refresh

from multiflexi.core import access, loaders, tokens, users
from multiflexi.core.errors import Conflict, ValidationError
from multiflexi.core.models import User
from multiflexi.server import auth
from multiflexi.server.web import base, forms
from multiflexi.server.web.i18n import LANGUAGES

blueprint = Blueprint("users", __name__)

#: users per page of the list
PAGE_SIZE = 50
#: the tokens a page lists (newest last); a user with more sees the first ones
TOKENS_SHOWN = 200
#: a new token's lifetime choices: form value -> days (None: until revoked)
EXPIRY_DAYS: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "never": None}
EXPIRY_LABELS = {
    "30": lazy_gettext("30 days"),
    "90": lazy_gettext("90 days"),
    "365": lazy_gettext("1 year"),
    "never": lazy_gettext("Never (until revoked)"),
}
#: the form's field of the repeated password
REPEAT = "password2"

base.MENU_GUARDS["web.users.index"] = lambda principal: bool(principal and principal.is_admin)


def _admin(doing: str) -> access.Principal:
    principal = auth.current_principal()
    access.require_global_admin(principal, doing)
    return principal


def _repeated(problems: dict[str, list[str]]) -> str:
    """The new password as typed twice; a difference is a problem of the second field."""
    password = request.form.get("password", "")
    if password != request.form.get(REPEAT, ""):
        problems.setdefault(REPEAT, []).append(_("The two passwords differ."))
    return password


# -- the list ------------------------------------------------------------------------------


@blueprint.get("/users")
def index() -> Response:
    """Every account (global administrators), searched by login, names or e-mail."""
    _admin(_("list users"))
    search = (request.args.get("q") or "").strip()
    found = users.list(base.db(), search=search or None, limit=PAGE_SIZE, offset=base.page_offset())
    held = users.held_back(base.db(), [u.login for u in found.items])
    return base.render(
        "web/users/index.html",
        **base.list_page(found, ".index", q=search or None),
        held=held,
        search=search,
    )


@blueprint.route("/users/new", methods=["GET", "POST"])
def new() -> Response:
    principal = _admin(_("create users"))
    if request.method == "GET":
        return base.render("web/users/new.html", problems={}, sent={})
    sent: dict[str, Any] = {k: forms.text(k) for k in ("login", "email", "first_name", "last_name")}
    sent["is_admin"] = forms.checkbox("is_admin")
    problems: dict[str, list[str]] = {}
    password = _repeated(problems)
    if problems:
        return base.render("web/users/new.html", status=422, problems=problems, sent=sent)
    try:
        user = users.create(
            base.db(),
            sent["login"],
            actor=principal,
            password=password,
            email=sent["email"],
            first_name=sent["first_name"],
            last_name=sent["last_name"],
            is_admin=sent["is_admin"],
        )
    except ValidationError as exc:
        problems = forms.problems_of(exc)
        return base.render("web/users/new.html", status=422, problems=problems, sent=sent)
    except Conflict as exc:
        problems = {"login": [exc.message]}
        return base.render("web/users/new.html", status=422, problems=problems, sent=sent)
    flash(_("User %(login)s created.", login=user.login))
    return base.see(".detail", user_id=user.id)


# -- one user ------------------------------------------------------------------------------


def _user(user_id: int, doing: str) -> tuple[access.Principal, User]:
    principal = _admin(doing)
    return principal, loaders.user(base.db(), principal, user_id)


def _user_page(
    user: User,
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    section: str | None = None,
) -> Response:
    db = base.db()
    return base.render(
        "web/users/detail.html",
        status=status,
        user=user,
        roles=users.company_roles(db, user.id),
        held=bool(users.held_back(db, [user.login])),
        token_page=tokens.list(db, user_id=user.id, limit=TOKENS_SHOWN),
        problems=problems or {},
        sent=sent or {},
        section=section,
        myself=user.id == base.signed_in_user_id(),
        now=dt.datetime.now(dt.UTC),
    )


@blueprint.get("/users/<int:user_id>")
def detail(user_id: int) -> Response:
    _principal, user = _user(user_id, _("see other users"))
    return _user_page(user)


@blueprint.post("/users/<int:user_id>/edit")
def edit(user_id: int) -> Response:
    principal, user = _user(user_id, _("change users"))
    sent: dict[str, Any] = {k: forms.text(k) for k in ("email", "first_name", "last_name")}
    sent["is_admin"] = forms.checkbox("is_admin")
    try:
        users.update(base.db(), user.id, actor=principal, **sent)
    except ValidationError as exc:
        return _user_page(user, 422, forms.problems_of(exc), sent, "details")
    except Conflict as exc:
        return _user_page(user, 409, {"is_admin": [exc.message]}, sent, "details")
    flash(_("Details of %(login)s saved.", login=user.login))
    return base.see(".detail", user_id=user.id)


@blueprint.post("/users/<int:user_id>/enabled")
def enable(user_id: int) -> Response:
    """Enable or disable the account (``enabled`` 1 or 0): a disabled user cannot sign in
    and their tokens stop working; the last enabled administrator cannot be disabled."""
    principal, user = _user(user_id, _("enable or disable users"))
    enabled = request.form.get("enabled") == "1"
    try:
        users.update(base.db(), user.id, actor=principal, enabled=enabled)
    except Conflict as exc:
        return _user_page(user, 409, {"enabled": [exc.message]})
    if enabled:
        flash(_("%(login)s is enabled.", login=user.login))
    else:
        flash(
            _("%(login)s is disabled: they cannot sign in, nor use their tokens.", login=user.login)
        )
    return base.see(".detail", user_id=user.id)


@blueprint.post("/users/<int:user_id>/password")
def password(user_id: int) -> Response:
    principal, user = _user(user_id, _("set other users' passwords"))
    problems: dict[str, list[str]] = {}
    new_password = _repeated(problems)
    if problems:
        return _user_page(user, 422, problems, section="password")
    try:
        changed = users.set_password(base.db(), user.id, new_password, actor=principal)
    except ValidationError as exc:
        return _user_page(user, 422, forms.problems_of(exc), section="password")
    auth.keep_session(changed)  # one's own: this browser stays signed in
    flash(
        _(
            "New password of %(login)s set. The sign-in throttles of the login are lifted,"
            " and browsers signed in with the old password are signed out.",
            login=user.login,
        )
    )
    return base.see(".detail", user_id=user.id)


@blueprint.post("/users/<int:user_id>/unlock")
def unlock(user_id: int) -> Response:
    principal, user = _user(user_id, _("unlock users"))
    users.unlock(base.db(), user.id, actor=principal)
    flash(_("The failed sign-ins of %(login)s are forgotten.", login=user.login))
    return base.see(".detail", user_id=user.id)


@blueprint.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
def delete(user_id: int) -> Response:
    """First what goes with the account (its tokens and company roles), then the deletion."""
    principal, user = _user(user_id, _("delete users"))
    if request.method == "POST":
        login = user.login
        try:
            users.delete(base.db(), user.id, actor=principal)
        except Conflict as exc:
            return _delete_page(user, 409, exc.message)
        flash(_("User %(login)s deleted.", login=login))
        return base.see(".index")
    return _delete_page(user)


def _delete_page(user: User, status: int = 200, error: str | None = None) -> Response:
    db = base.db()
    return base.render(
        "web/users/delete.html",
        status=status,
        user=user,
        roles=users.company_roles(db, user.id),
        token_count=tokens.list(db, user_id=user.id, limit=1).total,
        error=error,
    )


# -- the signed-in user's own account ----------------------------------------------------


def _me() -> tuple[access.Principal, User]:
    principal = auth.current_principal()
    return principal, loaders.user(base.db(), principal, principal.user_id or 0)


def _profile_page(
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    section: str | None = None,
) -> Response:
    _principal, user = _me()
    return base.render(
        "web/users/profile.html",
        status=status,
        user=user,
        roles=users.company_roles(base.db(), user.id),
        chosen=users.language_of(user) or "",
        languages=LANGUAGES,
        problems=problems or {},
        sent=sent or {},
        section=section,
    )


@blueprint.get("/profile")
def profile() -> Response:
    return _profile_page()


@blueprint.post("/profile")
def save_profile() -> Response:
    principal, user = _me()
    sent = {k: forms.text(k) for k in ("email", "first_name", "last_name")}
    try:
        users.update(
            base.db(),
            user.id,
            actor=principal,
            email=sent["email"],
            first_name=sent["first_name"],
            last_name=sent["last_name"],
        )
    except ValidationError as exc:
        return _profile_page(422, forms.problems_of(exc), sent, "details")
    flash(_("Your details are saved."))
    return base.see(".profile")


@blueprint.post("/profile/language")
def language() -> Response:
    """The pages' language: "" follows the browser; the next page is in the new one."""
    principal, user = _me()
    chosen = forms.text("language")
    try:
        users.update(base.db(), user.id, actor=principal, language=chosen)
    except ValidationError as exc:
        return _profile_page(422, forms.problems_of(exc), section="language")
    g.language = chosen or None
    refresh()  # this answer's message in the new language too
    flash(_("The pages' language is saved."))
    return base.see(".profile")


@blueprint.post("/profile/password")
def own_password() -> Response:
    """A new password, proven by the current one (a wrong one counts as a failed sign-in)."""
    principal, user = _me()
    problems: dict[str, list[str]] = {}
    new_password = _repeated(problems)
    if problems:
        return _profile_page(422, problems, section="password")
    try:
        changed = users.change_own_password(
            base.db(),
            user.id,
            request.form.get("current_password", ""),
            new_password,
            actor=principal,
            address=auth.client_address(),
        )
    except ValidationError as exc:
        return _profile_page(422, forms.problems_of(exc), section="password")
    except users.LoginThrottled as refusal:
        problems = {"current_password": [refusal.message]}
        response = _profile_page(429, problems, section="password")
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    auth.keep_session(changed)
    flash(_("Your password is changed. Other browsers signed in as you are signed out."))
    return base.see(".profile")


# -- API tokens ----------------------------------------------------------------------------


def _tokens_page(
    status: int = 200,
    problems: dict[str, list[str]] | None = None,
    sent: dict[str, Any] | None = None,
    created: tuple[Any, str] | None = None,
) -> Response:
    _principal, user = _me()
    response = base.render(
        "web/users/tokens.html",
        status=status,
        user=user,
        token_page=tokens.list(base.db(), user_id=user.id, limit=TOKENS_SHOWN),
        expiry_choices=list(EXPIRY_LABELS.items()),
        problems=problems or {},
        sent=sent or {"expires": "90"},
        created=created,
        now=dt.datetime.now(dt.UTC),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/profile/tokens", endpoint="tokens")
def tokens_index() -> Response:
    return _tokens_page()


@blueprint.post("/profile/tokens")
def tokens_create() -> Response:
    """The token is shown in this answer only (not stored, not in the session, not in a
    flash message): the answer is not cached, and the page's script replaces the POST in
    the browser's history by the list, so reloading it shows the list without it."""
    principal, user = _me()
    sent = {"name": forms.text("name"), "expires": forms.text("expires")}
    if sent["expires"] not in EXPIRY_DAYS:
        return _tokens_page(422, {"expires": [_("Choose one of the offered lifetimes.")]}, sent)
    days = EXPIRY_DAYS[sent["expires"]]
    try:
        token, plaintext = tokens.create(
            base.db(),
            user.id,
            sent["name"],
            actor=principal,
            expires_in=None if days is None else dt.timedelta(days=days),
        )
    except ValidationError as exc:
        return _tokens_page(422, forms.problems_of(exc), sent)
    return _tokens_page(201, created=(token, plaintext))


@blueprint.route("/tokens/<int:token_id>/revoke", methods=["GET", "POST"])
def revoke_token(token_id: int) -> Response:
    """Revoke one of one's own tokens (any token for a global administrator), after a
    confirmation; back to where the revocation was asked from."""
    principal = auth.current_principal()
    token = loaders.token(base.db(), principal, token_id)
    mine = token.user_id == principal.user_id
    back = url_for(".tokens") if mine else url_for(".detail", user_id=token.user_id) + "#tokens"
    if request.method == "POST":
        tokens.revoke(base.db(), token.id, actor=principal)
        flash(_("Token %(name)s revoked: it no longer works.", name=token.name))
        return redirect(back, code=303)  # type: ignore[return-value]
    owner = users.get(base.db(), token.user_id)
    return base.render("web/users/revoke.html", token=token, owner=owner, mine=mine, back=back)


__all__ = ["blueprint"]
