"""What state the installation is in: versions, schema, jobs, queues, workers.

One function for the API's ``GET /api/v1/status``, the CLI's ``status`` and the
metrics: it never raises because Redis is down; it says so instead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from importlib import metadata
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import multiflexi.database as database
from multiflexi.core import queue
from multiflexi.core.config import settings_of
from multiflexi.core.models import Job

if TYPE_CHECKING:
    from redis import Redis

COMPONENTS = (
    "multiflexi-database",
    "multiflexi-core",
    "multiflexi-executor",
    "multiflexi-server",
    "multiflexi-cli",
    "multiflexi-all",
)


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    name: str
    queues: list[str]
    state: str
    last_heartbeat: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class Status:
    versions: dict[str, str | None]
    schema_state: str
    schema_revision: str | None
    schema_head: str
    jobs: dict[str, int]
    queues: dict[str, int] | None
    workers: list[WorkerInfo] | None
    redis_error: str | None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if self.workers is not None:
            data["workers"] = [
                {
                    **dataclasses.asdict(w),
                    "last_heartbeat": w.last_heartbeat.isoformat() if w.last_heartbeat else None,
                }
                for w in self.workers
            ]
        return data


def installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in COMPONENTS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def job_counts(session: Session) -> dict[str, int]:
    rows = session.execute(sa.select(Job.state, sa.func.count()).group_by(Job.state)).all()
    return {state: number for state, number in rows}


def workers(redis: Redis) -> list[WorkerInfo]:
    """The RQ workers registered in Redis, with their last heartbeats (by name)."""
    from rq import Worker

    result = []
    for worker in Worker.all(connection=redis):
        beat = worker.last_heartbeat
        result.append(
            WorkerInfo(
                name=worker.name,
                queues=worker.queue_names(),
                state=str(worker.get_state()),
                last_heartbeat=beat.replace(tzinfo=dt.UTC)
                if beat and beat.tzinfo is None
                else beat,
            )
        )
    return sorted(result, key=lambda w: w.name)


def status(session: Session, *, redis: Redis | None = None) -> Status:
    """The whole picture; Redis problems are reported in ``redis_error``, not raised."""
    settings = settings_of(session)
    schema = database.check(settings.database_url)
    client = redis if redis is not None else queue.connect(settings.redis_url)
    queues: dict[str, int] | None = None
    registered: list[WorkerInfo] | None = None
    redis_error: str | None = None
    try:
        queue.ping(client)
        queues = queue.depths(client)
        registered = workers(client)
    except queue.QueueUnavailable as exc:
        redis_error = exc.message
    return Status(
        versions=installed_versions(),
        schema_state=schema.state,
        schema_revision=schema.current,
        schema_head=schema.head,
        jobs=job_counts(session),
        queues=queues,
        workers=registered,
        redis_error=redis_error,
    )


__all__ = [
    "COMPONENTS",
    "Status",
    "WorkerInfo",
    "installed_versions",
    "job_counts",
    "status",
]
