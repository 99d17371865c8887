"""SLA tasks: the scheduled windows of run templates held to a deadline (list, get, summary)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field

from multiflexi.core import access, lifecycle, tasks
from multiflexi.core.models import Task
from multiflexi.core.tasks import HISTORY_DAYS
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import DateTime, Id, ListQuery, Page, page
from multiflexi.server.api.jobs import JobOut
from multiflexi.server.api.jobs import out as job_out
from multiflexi.server.openapi import operation
from multiflexi.server.request import Output, Query, caller, db

TAG = "tasks"
State = Literal["open", "fulfilled", "fulfilled_late", "failed", "missed"]


class TaskOut(Output):
    id: int
    run_template_id: int
    window_start: dt.datetime
    window_end: dt.datetime
    deadline: dt.datetime
    state: str = Field(description="open, fulfilled, fulfilled_late, failed or missed")
    attempts: int = Field(description="jobs of the window that ended")
    fulfilled_by_job_id: int | None
    fulfilled_at: dt.datetime | None
    created_at: dt.datetime | None


class TaskDetail(TaskOut):
    jobs: list[JobOut] = Field(description="the window's jobs (attempts), oldest first")


class TaskPage(Page[TaskOut]):
    pass


class TaskFilter(Query):
    company_id: Id | None = None
    run_template_id: Id | None = None
    since: DateTime | None = Field(None, description="window starting at or after")
    until: DateTime | None = Field(None, description="window starting before")


class TaskQuery(TaskFilter, ListQuery):
    limit: int = Field(50, ge=1, le=1000)
    state: State | None = None


class Day(Output):
    day: str
    total: int
    open: int
    fulfilled: int
    fulfilled_late: int
    failed: int
    missed: int
    fulfilment: float | None = Field(description="share of the day's ended tasks fulfilled")


class Summary(Output):
    counts: dict[str, int] = Field(description="tasks per state")
    days: list[Day] = Field(description=f"fulfilment per UTC day over {HISTORY_DAYS} days")


def out(task: Task) -> TaskOut:
    return TaskOut.model_validate(task)


@operation(
    blueprint,
    "GET",
    "/tasks",
    summary="List SLA tasks",
    tag=TAG,
    query=TaskQuery,
    response=TaskPage,
)
def list_tasks(query: TaskQuery) -> dict[str, Any]:
    """Latest window first; filter by company, run template, state and window start."""
    result = tasks.list_tasks(
        db(),
        company_id=query.company_id,
        company_ids=access.visible_company_ids(caller()),
        run_template_id=query.run_template_id,
        state=query.state,
        since=query.since,
        until=query.until,
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)


@operation(
    blueprint,
    "GET",
    "/tasks/summary",
    summary="SLA task counts and fulfilment",
    tag=TAG,
    query=TaskFilter,
    response=Summary,
)
def task_summary(query: TaskFilter) -> Summary:
    """Tasks per state (over the filter), and fulfilment per day over the last 14 days."""
    visible = access.visible_company_ids(caller())
    scope: dict[str, Any] = {
        "company_id": query.company_id,
        "company_ids": visible,
        "run_template_id": query.run_template_id,
    }
    counts = tasks.counts(db(), since=query.since, until=query.until, **scope)
    days = tasks.daily(db(), lifecycle.now(), **scope)
    return Summary.model_validate({"counts": counts, "days": days})


@operation(
    blueprint,
    "GET",
    "/tasks/<int:task_id>",
    summary="Get an SLA task",
    tag=TAG,
    response=TaskDetail,
)
def get_task(task_id: int) -> TaskDetail:
    """The task with its jobs; a task of a company the caller cannot see is a 404."""
    session = db()
    task = tasks.get(session, task_id, company_ids=access.visible_company_ids(caller()))
    data = out(task).model_dump()
    data["jobs"] = [job_out(job) for job in tasks.jobs_of(session, task.id)]
    return TaskDetail.model_validate(data)
