"""The REST API under /api/v1: one module per resource.

Every view is declared with :func:`multiflexi.server.openapi.operation`, which
also feeds the OpenAPI 3.1 document served at ``/api/v1/openapi.json`` (and
browsable at ``/api/v1/docs``). Every operation requires authentication
(:mod:`multiflexi.server.auth`) unless it is declared ``public``.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint

from multiflexi.server import auth, openapi

PREFIX = "/api/v1"
blueprint = Blueprint("api", __name__)
openapi.mount(blueprint, PREFIX)
auth.guard(blueprint)

# the resource modules register their operations on the blueprint when imported
from multiflexi.server.api import (  # noqa: E402
    actions,
    applications,
    audit,
    companies,
    credential_prototypes,
    credential_types,
    credentials,
    jobs,
    run_templates,
    session,
    status,
    tasks,
    tokens,
    users,
)


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1, generated from the registered operations."""
    from multiflexi.server import __version__

    return openapi.openapi_document(
        title="MultiFlexi API",
        version=__version__,
        description=(
            "Manage MultiFlexi: applications, companies, run templates, credentials and jobs. "
            "Authenticate with an API token (Authorization: Bearer ...), HTTP Basic, or the "
            f"session cookie of POST {PREFIX}/auth/login. Errors are RFC 9457 problem documents. "
            "Lists answer {items, total, limit, offset} in a stable order."
        ),
        blueprints=[blueprint.name],
        security_schemes={
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": f"An API token (mfx_...), made with POST {PREFIX}/tokens.",
            },
            "basic": {"type": "http", "scheme": "basic"},
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": f"The web UI's session cookie, set by POST {PREFIX}/auth/login.",
            },
        },
    )


__all__ = [
    "PREFIX",
    "actions",
    "applications",
    "audit",
    "blueprint",
    "companies",
    "credential_prototypes",
    "credential_types",
    "credentials",
    "document",
    "jobs",
    "run_templates",
    "session",
    "status",
    "tasks",
    "tokens",
    "users",
]
