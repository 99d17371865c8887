"""Logging in and out for the web UI (a session cookie), and the OpenAPI document."""

from __future__ import annotations

from importlib import resources
from typing import Any

from flask import Response
from pydantic import Field

from multiflexi.core import access, users
from multiflexi.core.users import AuthenticationFailed, LoginThrottled
from multiflexi.server import auth
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import Text
from multiflexi.server.api.users import MeOut
from multiflexi.server.api.users import out as user_out
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, db

TAG = "auth"


class LoginIn(Input):
    login: Text = Field(min_length=1, max_length=128)
    password: Text = Field(min_length=1, max_length=1024)


class LoginOut(Output):
    user: MeOut
    csrf_token: str = Field(
        description="send it as X-CSRF-Token with every changing request of this session"
    )


@operation(
    blueprint,
    "POST",
    "/auth/login",
    summary="Log in (session cookie for the web UI)",
    tag=TAG,
    body=LoginIn,
    response=LoginOut,
    public=True,
)
def login(body: LoginIn) -> LoginOut | Response:
    """Wrong login or password and a disabled account all answer the same 401. After
    too many failed logins of one login from one address, that address is answered 429
    with Retry-After for that login (other addresses are not affected)."""
    session = db()
    try:
        user = users.authenticate(session, body.login, body.password, address=auth.client_address())
    except AuthenticationFailed:
        return auth.unauthorized("wrong login or password")
    except LoginThrottled as refusal:
        return auth.throttled(refusal)
    csrf = auth.start_session(user)
    principal = access.principal_for(session, user, source="web")
    roles = {str(k): v for k, v in sorted(principal.roles.items())}
    return LoginOut(user=MeOut(**user_out(user).model_dump(), roles=roles), csrf_token=csrf)


@operation(
    blueprint,
    "POST",
    "/auth/logout",
    summary="Log out (end the session)",
    tag=TAG,
    public=True,
)
def logout() -> None:
    auth.end_session()


@operation(
    blueprint,
    "GET",
    "/openapi.json",
    summary="This API's OpenAPI 3.1 document",
    tag="meta",
    public=True,
    response=dict[str, Any],
)
def openapi() -> dict[str, Any]:
    from multiflexi.server.api import document

    return document()


@operation(
    blueprint,
    "GET",
    "/docs",
    summary="Browse the API (HTML page)",
    tag="meta",
    public=True,
    media_type="text/html",
)
def docs() -> Response:
    """A self-contained page (no CDN) that renders the OpenAPI document."""
    page = resources.files("multiflexi.server.api").joinpath("docs.html").read_text("utf-8")
    return Response(page, mimetype="text/html")
