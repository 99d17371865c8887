"""Operations endpoints: /healthz (alive), /readyz (can serve), /metrics (Prometheus).

Registering this blueprint also installs the HTTP request metrics on the app
(:func:`multiflexi.server.metrics.install`).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, request
from flask.blueprints import BlueprintSetupState

from multiflexi.core import config, queue
from multiflexi.core.errors import ConfigurationError, SchemaMismatch
from multiflexi.server import errors, metrics
from multiflexi.server.app import session, settings_of
from multiflexi.server.errors import problem

blueprint = Blueprint("ops", __name__)


@blueprint.record_once
def _install_metrics(state: BlueprintSetupState) -> None:
    metrics.install(cast(Flask, state.app))


@blueprint.get("/healthz")
def healthz() -> dict[str, Any]:
    """The process is alive and answers; nothing else is checked."""
    return {"status": "ok"}


@blueprint.get("/readyz")
def readyz() -> Response | dict[str, Any]:
    """Ready to serve: the database answers and accepts writes, its schema is at head,
    Redis answers.

    503 with a problem document naming each failed check otherwise.
    """
    settings = settings_of(current_app)
    checks: dict[str, str] = {}
    problems: list[str] = []
    try:
        config.require_schema(settings)
    except ConfigurationError as exc:
        checks["database"], checks["schema"] = "failed", "unknown"
        problems.append(f"database: {exc.message}")
    except SchemaMismatch as exc:
        checks["database"], checks["schema"] = "ok", "failed"
        problems.append(f"schema: {exc.message}")
    else:
        checks["database"] = checks["schema"] = "ok"
    if checks["database"] == "ok":
        # the server's own connections: do they still reach a file (or server) that takes writes?
        refusal = config.write_refusal(session())
        if refusal is not None and "no such table" not in refusal:
            read_only = errors.says_read_only(refusal)
            checks["database"] = "read-only" if read_only else "failed"
            problems.insert(0, f"database: {'read-only: ' if read_only else ''}{refusal}")
    try:
        queue.ping(queue.connect(settings.redis_url))
    except queue.QueueUnavailable as exc:
        checks["redis"] = "failed"
        problems.append(f"redis: {exc.message}")
    else:
        checks["redis"] = "ok"
    if problems:
        return problem(503, "Not ready", "; ".join(problems), checks=checks)
    return {"status": "ready", "checks": checks}


#: the setting whose value, when set, is the bearer token /metrics asks of every scraper
METRICS_TOKEN_VARIABLE = "MULTIFLEXI_METRICS_TOKEN"  # noqa: S105 - a name, not a token


def _metrics_refusal(token: str | None) -> Response | None:
    """Who may read /metrics: with a token set, whoever sends it; else loopback clients only."""
    if token:
        sent = request.headers.get("Authorization", "")
        scheme, _, given = sent.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        refusal = problem(401, "Unauthorized", "send the metrics token as a bearer token")
        refusal.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refusal
    try:
        loopback = ipaddress.ip_address((request.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return problem(
        403,
        "Forbidden",
        f"metrics answer loopback clients only; set {METRICS_TOKEN_VARIABLE} to scrape "
        "from elsewhere with that bearer token",
    )


@blueprint.get("/metrics")
def prometheus() -> Response:
    """Prometheus text format: HTTP requests, jobs by state, job durations, queue depths.

    Not public: loopback clients only, or, with ``MULTIFLEXI_METRICS_TOKEN`` set, any
    client that sends that token (``Authorization: Bearer ...``) and no other.
    """
    settings = settings_of(current_app)
    refusal = _metrics_refusal(settings.environ.get(METRICS_TOKEN_VARIABLE))
    if refusal is not None:
        return refusal
    body = metrics.render(current_app, session(), queue.connect(settings.redis_url))
    return Response(body, mimetype=None, content_type=metrics.CONTENT_TYPE)
