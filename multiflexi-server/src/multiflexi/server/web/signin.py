"""Signing in and out, and the first administrator of a new installation."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from multiflexi.core import users
from multiflexi.core.errors import Conflict, ValidationError
from multiflexi.core.users import AuthenticationFailed, LoginThrottled
from multiflexi.server import app as server_app
from multiflexi.server import auth
from multiflexi.server.web import forms
from multiflexi.server.web.base import safe_next

blueprint = Blueprint("signin", __name__)


def _login_page(status: int = 200, **context: object) -> Response:
    html = render_template(
        "web/signin/login.html",
        first_run=not users.any_exist(server_app.session()),
        next=request.values.get("next", ""),
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Wrong login, wrong password and a disabled account all read the same; after too
    many failures from one address the form says how long to wait (the API's rule)."""
    if request.method == "GET":
        return _login_page()
    login_name = forms.text("login")
    password = request.form.get("password", "")
    try:
        user = users.authenticate(
            server_app.session(), login_name, password, address=auth.client_address()
        )
    except AuthenticationFailed:
        return _login_page(401, error=_("Wrong login or password."), login=login_name)
    except LoginThrottled as refusal:
        response = _login_page(429, error=refusal.message, login=login_name)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    auth.start_session(user)
    return redirect(safe_next(request.form.get("next")), code=303)  # type: ignore[return-value]


@blueprint.post("/logout")
def logout() -> Response:
    auth.end_session()
    return redirect(url_for("web.signin.login"), code=303)  # type: ignore[return-value]


@blueprint.route("/setup", methods=["GET", "POST"])
def setup() -> Response:
    """While no account exists, anyone who reaches the page creates the first
    administrator (as the original's "create first administrator" button)."""
    db = server_app.session()
    if users.any_exist(db):
        return redirect(url_for("web.signin.login"))  # type: ignore[return-value]
    if request.method == "GET":
        return Response(render_template("web/signin/setup.html", values={}), mimetype="text/html")
    values = {name: forms.text(name) for name in ("login", "email", "first_name", "last_name")}
    password = request.form.get("password", "")
    problems: dict[str, list[str]] = {}
    if password != request.form.get("password_again", ""):
        problems["password_again"] = [_("the two passwords differ")]
    else:
        try:
            user = users.create_first_admin(
                db,
                values["login"],
                password,
                email=values["email"],
                first_name=values["first_name"],
                last_name=values["last_name"],
            )
        except ValidationError as exc:
            problems = forms.problems_of(exc)
        except Conflict:
            return redirect(url_for("web.signin.login"))  # type: ignore[return-value]
        else:
            auth.start_session(user)
            return redirect(url_for("web.dashboard.index"), code=303)  # type: ignore[return-value]
    html = render_template("web/signin/setup.html", values=values, problems=problems)
    return Response(html, status=422, mimetype="text/html")
