"""The Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session

from multiflexi.core import config
from multiflexi.core.config import Settings
from multiflexi.server import errors
from multiflexi.server.extensions import db, migrate

EXTENSION = "multiflexi"


def create_app(
    settings: Settings | None = None,
    *,
    env_file: str | os.PathLike[str] | None = None,
    config_overrides: dict[str, Any] | None = None,
) -> Flask:
    """The MultiFlexi server: REST API, web UI, health and metrics.

    Settings come from the environment and env file (ARCHITECTURE.md section 4)
    unless given. The schema is not checked here (``flask db upgrade`` must be
    able to run on an empty database); ``multiflexi-server serve`` checks it.
    """
    settings = settings or config.load_settings(env_file=env_file)
    app = Flask("multiflexi.server", static_folder=None)  # the web UI serves /static
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        JSON_SORT_KEYS=False,
        SECRET_KEY=config.session_key(settings),
        # the session cookie of the web UI (and of POST /api/v1/auth/login): never read by
        # scripts, not sent by other sites' forms; Secure when the request came over HTTPS
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.session_interface = _SessionCookies()
    from multiflexi.server import limits

    limits.install(app, settings.environ)
    app.config.update(config_overrides or {})
    app.extensions[EXTENSION] = settings
    db.init_app(app)
    migrate.init_app(app, db)
    with app.app_context():
        config.configure_engine(db.engine)

    @app.before_request
    def _bind_settings() -> None:
        db.session.info["settings"] = settings

    errors.register(app)
    _register_blueprints(app)
    return app


class _SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, marked Secure on every HTTPS request."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def _engine_options(url: str) -> dict[str, Any]:
    return {} if url.startswith("sqlite") else {"pool_pre_ping": True}


def _register_blueprints(app: Flask) -> None:
    from multiflexi.server import api, compat, ops, web

    app.register_blueprint(api.blueprint, url_prefix=api.PREFIX)
    app.register_blueprint(compat.blueprint, url_prefix=compat.PREFIX)
    app.register_blueprint(ops.blueprint)
    app.register_blueprint(web.blueprint, url_prefix=web.PREFIX or None)


def settings_of(app: Flask) -> Settings:
    return app.extensions[EXTENSION]


def session() -> Session:
    """The request's database session; it carries the settings the core needs."""
    return db.session()
