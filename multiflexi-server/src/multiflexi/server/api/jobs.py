"""Jobs: list with filters, get, output (tail with an offset, or live as Server-Sent Events),
artifacts, cancel."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import quote

from flask import Flask, Response, current_app, json, request, send_file, stream_with_context
from pydantic import BaseModel, Field

from multiflexi.core import access, job_artifacts, jobs, loaders, output
from multiflexi.core.config import settings_of
from multiflexi.core.ids import MAX_ID
from multiflexi.core.models import Artifact, Job, JobOutputLine
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import DateTime, Id, ListQuery, Page, page
from multiflexi.server.openapi import operation
from multiflexi.server.request import Output, Query, caller, db

TAG = "jobs"
State = Literal[
    "scheduled",
    "queued",
    "waiting",
    "running",
    "success",
    "failed",
    "lost",
    "cancelled",
    "blocked",
    "missed",
]
#: how often the live stream says it is alive when no line comes
KEEPALIVE_SECONDS = 15.0
#: where an app keeps the slots of its live streams (see limit_streams)
STREAM_SLOTS = "multiflexi.stream_slots"
#: milliseconds a client waits before it asks again after a ``busy`` event
BUSY_RETRY_MS = 2000


class JobOut(Output):
    id: int
    run_template_id: int
    company_id: int
    application_id: int
    state: str
    schedule_type: str
    scheduled_at: dt.datetime
    queued_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    executor: str
    queue: str
    command: Any = Field(None, description="argument list, secrets masked")
    environment: Any = Field(None, description="name -> value, secrets shown as ***")
    exit_code: int | None
    exit_description: str | None
    severity: str | None
    worker: str | None
    attempt: int
    retry_of_id: int | None
    parent_job_id: int | None
    launched_by: str
    launched_by_user_id: int | None
    app_version: str | None
    block_reason: str | None = Field(
        description="why the credential availability gate held the job back (latest time)"
    )
    blocked_at: dt.datetime | None = Field(description="when the gate held it back (latest time)")
    cancel_requested: bool
    output_lines: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None


class JobPage(Page[JobOut]):
    pass


class JobQuery(ListQuery):
    limit: int = Field(50, ge=1, le=1000)
    state: list[State] | None = Field(None, description="one or more states (repeat the parameter)")
    company_id: Id | None = None
    run_template_id: Id | None = None
    since: DateTime | None = Field(None, description="scheduled at or after")
    until: DateTime | None = Field(None, description="scheduled before")


class OutputLine(Output):
    seq: int
    stream: str
    text: str
    created_at: dt.datetime | None


class OutputQuery(Query):
    after: int = Field(0, ge=0, le=MAX_ID, description="only lines after this sequence number")
    limit: int = Field(1000, ge=1, le=10_000)


class OutputOut(Output):
    job_id: int
    state: str
    items: list[OutputLine]
    next_after: int = Field(description="pass as 'after' to get the lines that follow")
    finished: bool = Field(description="the job is over: no further lines will come")


class StreamQuery(Query):
    after: int = Field(0, ge=0, le=MAX_ID, description="start after this line (or Last-Event-ID)")
    timeout: float = Field(60, gt=0, le=3600, description="seconds before the server ends it")


class ArtifactOut(Output):
    id: int
    job_id: int
    name: str
    type: str | None
    content_type: str
    size: int
    sha256: str | None
    note: str | None
    created_at: dt.datetime | None


class ArtifactPage(Page[ArtifactOut]):
    pass


def out(job: Job) -> JobOut:
    return JobOut.model_validate(job)


def reach(job_id: int, permission: str = access.READ) -> Job:
    return loaders.job(db(), caller(), job_id, permission)


def _line(line: JobOutputLine) -> OutputLine:
    return OutputLine.model_validate(line)


@operation(
    blueprint,
    "GET",
    "/jobs",
    summary="List jobs",
    tag=TAG,
    query=JobQuery,
    response=JobPage,
)
def list_jobs(query: JobQuery) -> dict[str, Any]:
    """Newest first; filter by state, company, run template and scheduled time."""
    result = jobs.list_jobs(
        db(),
        state=query.state,
        company_id=query.company_id,
        run_template_id=query.run_template_id,
        since=query.since,
        until=query.until,
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)


@operation(
    blueprint,
    "GET",
    "/jobs/<int:job_id>",
    summary="Get a job",
    tag=TAG,
    response=JobOut,
)
def get_job(job_id: int) -> JobOut:
    return out(reach(job_id))


@operation(
    blueprint,
    "POST",
    "/jobs/<int:job_id>/cancel",
    summary="Cancel a job",
    tag=TAG,
    response=JobOut,
)
def cancel_job(job_id: int) -> JobOut:
    """A job not yet running is cancelled at once; a running one is asked to stop.
    A finished job is a 409."""
    job = reach(job_id, access.WRITE)
    return out(jobs.cancel(db(), job.id, actor=caller()))


@operation(
    blueprint,
    "GET",
    "/jobs/<int:job_id>/output",
    summary="Read a job's output",
    tag=TAG,
    query=OutputQuery,
    response=OutputOut,
)
def job_output(job_id: int, query: OutputQuery) -> OutputOut:
    """Lines after ``after`` in order; call again with ``next_after`` to follow the job."""
    job = reach(job_id)
    lines = jobs.output(db(), job.id, after=query.after, limit=query.limit)
    return OutputOut(
        job_id=job.id,
        state=job.state,
        items=[_line(line) for line in lines],
        next_after=lines[-1].seq if lines else query.after,
        finished=job.state in jobs.FINAL_STATES and len(lines) < query.limit,
    )


class StreamEnd(Output):
    """Why the live stream stopped, and where a client resumes."""

    state: str = Field(description="the job's state when the stream stopped")
    next_after: int = Field(description="the last line sent: ask for lines after it")


#: the events of the live stream and the data each carries
STREAM_EVENTS: dict[str, type[BaseModel]] = {
    "line": OutputLine,
    "end": StreamEnd,
    "timeout": StreamEnd,
    "busy": StreamEnd,
}


def limit_streams(app: Flask, slots: int) -> None:
    """Serve at most ``slots`` live streams at once in this process.

    A stream holds one of the WSGI server's threads for as long as it is open; the
    server keeps the others for every other request. A client that comes when every
    slot is taken gets the lines stored so far and a ``busy`` event: it asks again
    later (the stream's ``retry`` field says when), so it still sees its job's lines,
    a little later, and the API keeps answering.
    """
    app.extensions[STREAM_SLOTS] = threading.BoundedSemaphore(slots)


def _event(event: str, data: Any, event_id: int | None = None, retry: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    head += f"retry: {retry}\n" if retry is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n"


def _stream(
    job_id: int, after: int, timeout: float, redis_url: str, *, live: bool = True
) -> Iterator[str]:
    """The core's follow loop, written as Server-Sent Events; not ``live``: the stored
    lines, then ``busy`` unless the job is over."""
    events = output.follow(
        db(),
        job_id,
        after=after,
        redis=redis_url,
        timeout=timeout,
        keepalive=KEEPALIVE_SECONDS,
        until_finished=live,
    )
    for event in events:
        if isinstance(event, output.Line):
            yield _event(
                "line", OutputLine.model_validate(event).model_dump(mode="json"), event.seq
            )
        elif isinstance(event, output.Quiet):
            yield ": keep-alive\n\n"
        else:
            kind = {"timeout": "timeout", "caught-up": "busy"}.get(event.reason, "end")
            yield _event(
                kind,
                StreamEnd(state=event.state, next_after=event.next_after).model_dump(),
                retry=BUSY_RETRY_MS if kind == "busy" else None,
            )


@operation(
    blueprint,
    "GET",
    "/jobs/<int:job_id>/output/stream",
    summary="Follow a job's output live (Server-Sent Events)",
    tag=TAG,
    query=StreamQuery,
    media_type="text/event-stream",
    events=STREAM_EVENTS,
)
def stream_output(job_id: int, query: StreamQuery) -> Response:
    """Each line is a ``line`` event whose id is its sequence number, so a client that
    reconnects with ``Last-Event-ID`` continues where it stopped. The stream ends with an
    ``end`` event when the job is over, or a ``timeout`` event after ``timeout`` seconds.
    When the server follows as many streams as it can, it sends the lines stored so far
    and a ``busy`` event: ask again after the stream's ``retry`` milliseconds."""
    job = reach(job_id)
    after = query.after
    last = request.headers.get("Last-Event-ID", "")
    if last.isascii() and last.isdigit() and len(last) <= 10:
        after = max(after, int(last))
    slots: threading.BoundedSemaphore | None = current_app.extensions.get(STREAM_SLOTS)
    live = slots is None or slots.acquire(blocking=False)
    lines = _stream(job.id, after, query.timeout, settings_of(db()).redis_url, live=live)
    response = Response(stream_with_context(lines), mimetype="text/event-stream")
    if live and slots is not None:
        response.call_on_close(slots.release)  # when the server is done with the response
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


def artifact_out(artifact: Artifact) -> ArtifactOut:
    return ArtifactOut.model_validate(artifact)


@operation(
    blueprint,
    "GET",
    "/jobs/<int:job_id>/artifacts",
    summary="List a job's artifacts",
    tag=TAG,
    query=ListQuery,
    response=ArtifactPage,
)
def list_artifacts(job_id: int, query: ListQuery) -> dict[str, Any]:
    job = reach(job_id)
    items = job_artifacts.list_for_job(db(), job.id)
    return {
        "items": [artifact_out(a) for a in items[query.offset : query.offset + query.limit]],
        "total": len(items),
        "limit": query.limit,
        "offset": query.offset,
    }


@operation(
    blueprint,
    "GET",
    "/jobs/<int:job_id>/artifacts/<int:artifact_id>",
    summary="Download an artifact",
    tag=TAG,
    media_type="application/octet-stream",
)
def download_artifact(job_id: int, artifact_id: int) -> Response:
    job = reach(job_id)
    artifact = job_artifacts.get(db(), job.id, artifact_id)
    data = job_artifacts.content(artifact)
    name = artifact.name.rsplit("/", 1)[-1] or f"artifact-{artifact.id}"
    if isinstance(data, bytes):
        response = Response(data, mimetype="application/octet-stream")
        response.headers["X-Artifact-Content-Type"] = artifact.content_type
    else:
        response = send_file(data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = attachment(name)
    return response


def attachment(name: str) -> str:
    """``Content-Disposition`` for any file name (RFC 6266): an ASCII fallback, and RFC 5987's.

    Control characters (a line break) become ``_`` in both; quotes and backslashes,
    and anything not ASCII, in the fallback.
    """
    name = "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in name)
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
