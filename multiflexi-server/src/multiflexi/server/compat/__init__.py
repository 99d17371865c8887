"""The original MultiFlexi's API paths and shapes, for existing clients.

Mounted at ``/api/VitexSoftware/MultiFlexi/1.0.0``. It answers the original's
most used read paths with the ``.json`` suffix (other suffixes are not served)
and ``POST job/`` to launch, in the original's shapes: applications, run
templates and jobs as objects keyed by id, companies as an array. The same
authentication and tenant isolation as ``/api/v1`` apply; only ``ping.json``
is open, as it was.
"""

from __future__ import annotations

from flask import Blueprint

from multiflexi.server import auth, openapi

PREFIX = "/api/VitexSoftware/MultiFlexi/1.0.0"
blueprint = Blueprint("compat", __name__)
openapi.mount(blueprint, PREFIX)
auth.guard(blueprint)

from multiflexi.server.compat import views  # noqa: E402

__all__ = ["PREFIX", "blueprint", "views"]
