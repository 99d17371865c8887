"""``GET /api/v1/status``: versions, schema, job counts, queue depths, live workers."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from multiflexi.core import access, status
from multiflexi.server.api import blueprint
from multiflexi.server.openapi import operation
from multiflexi.server.request import Output, caller, db

TAG = "status"


class WorkerOut(Output):
    name: str
    queues: list[str]
    state: str
    last_heartbeat: dt.datetime | None


class StatusOut(Output):
    versions: dict[str, str | None]
    schema_state: str
    schema_revision: str | None
    schema_head: str
    jobs: dict[str, int] = Field(description="job counts by state")
    queues: dict[str, int] | None = Field(description="queue depths; null when Redis is down")
    workers: list[WorkerOut] | None = Field(description="live workers; null when Redis is down")
    redis_error: str | None


@operation(
    blueprint,
    "GET",
    "/status",
    summary="The state of the installation",
    tag=TAG,
    response=StatusOut,
)
def get_status() -> StatusOut:
    """Global administrators only (it counts every company's jobs). A Redis that cannot be
    reached is reported in ``redis_error``, not as an error."""
    access.require_global_admin(caller(), "read the installation status")
    return StatusOut.model_validate(status.status(db()), from_attributes=True)
