"""Run templates: CRUD, configuration values, credentials, activation, schedule preview, launch."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from flask import Response, json, url_for
from pydantic import Field

from multiflexi.core import access, jobs, loaders, lookups, redaction, runtemplates, schedules
from multiflexi.core.errors import ValidationError
from multiflexi.core.ids import MAX_ID
from multiflexi.core.models import RunTemplate
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import (
    ONLY_NAMED,
    DateTime,
    Id,
    ListQuery,
    Page,
    Text,
    VariableName,
    VariableValue,
    created,
    one_page,
    page,
)
from multiflexi.server.api.credentials import CredentialPage
from multiflexi.server.api.credentials import out as credential_out
from multiflexi.server.api.jobs import JobOut
from multiflexi.server.api.jobs import out as job_out
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, Query, caller, db

TAG = "run-templates"


class RunTemplateOut(Output):
    id: int
    company_id: int
    application_id: int
    name: str
    note: str | None
    active: bool
    interval_code: str
    interval: str = Field(description="the interval's name (daily, hourly, cron, ...)")
    cron: str | None
    delay: int
    timezone: str | None
    executor: str
    queue: str
    timeout: int | None
    max_concurrency: int
    max_attempts: int
    retry_backoff: str
    retry_min_gap: int
    deadline_offset: str | None
    allow_late: bool
    next_schedule: dt.datetime | None
    last_schedule: dt.datetime | None
    success_count: int
    failure_count: int
    values: dict[str, str] = Field(description="configuration; secret values shown as ***")
    credential_ids: list[int]
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    assigned_application: bool = Field(
        False,
        description="in the answer of its creation: true when creating it assigned the "
        "application to the company (it was not assigned)",
    )


class RunTemplatePage(Page[RunTemplateOut]):
    pass


class RunTemplateQuery(ListQuery):
    company_id: Id | None = None
    application_id: Id | None = None
    active: bool | None = None
    name: Text | None = Field(
        None, max_length=255, description="exactly this name (with company_id: 0 or 1 items)"
    )


class Settings(Input):
    note: Text | None = Field(None, max_length=10_000)
    interval_code: Text | None = Field(
        None, max_length=16, description="n i h d w m y c, or a name such as daily"
    )
    cron: Text | None = Field(None, max_length=255)
    delay: int | None = Field(None, ge=0, le=MAX_ID)
    timezone: Text | None = Field(None, max_length=64)
    executor: Text | None = Field(None, max_length=32)
    queue: Text | None = Field(None, max_length=64)
    timeout: int | None = Field(None, ge=1, le=MAX_ID)
    max_concurrency: int | None = Field(None, ge=1, le=10_000)
    max_attempts: int | None = Field(None, ge=1, le=1000)
    retry_backoff: Text | None = Field(None, max_length=16)
    retry_min_gap: int | None = Field(None, ge=0, le=MAX_ID)
    deadline_offset: Text | None = Field(None, max_length=32)
    allow_late: bool | None = None


class NewRunTemplate(Settings):
    company_id: Id
    application_id: Id
    name: Text | None = Field(None, min_length=1, max_length=255)
    active: bool = True
    values: dict[Text, Text | None] = Field(default_factory=dict)


class RunTemplateChanges(Settings):
    name: Text | None = Field(None, min_length=1, max_length=255)


class ValueOut(Output):
    name: str
    value: str = Field(description="*** for a secret value")
    secret: bool
    type: str


class ValuePage(Page[ValueOut]):
    pass


class ValuesIn(Input):
    values: dict[Text, Text | None] = Field(
        description="name -> value; null removes it, an empty secret keeps the stored one"
    )


class PreviewQuery(Query):
    count: int = Field(10, ge=1, le=1000)
    after: DateTime | None = Field(None, description="start after this time (default now)")


class PreviewOut(Output):
    run_template_id: int
    schedule: str = Field(description="the schedule in words")
    occurrences: list[dt.datetime]


class LaunchIn(Input):
    overrides: Annotated[dict[VariableName, VariableValue], ONLY_NAMED] = Field(
        default_factory=dict, description="one-time environment values for this job only"
    )
    secret_overrides: list[VariableName] = Field(
        default_factory=list, description="names among the overrides that are secret"
    )
    at: DateTime | None = Field(None, description="run at this time instead of now")


def _settings(body: Settings) -> dict[str, Any]:
    """The run-template settings the caller gave (not ids, values, name or activity)."""
    given = body.model_dump(exclude_unset=True)
    return {k: v for k, v in given.items() if k in runtemplates.EDITABLE and k != "name"}


def out(rt: RunTemplate) -> RunTemplateOut:
    return RunTemplateOut(
        id=rt.id,
        company_id=rt.company_id,
        application_id=rt.application_id,
        name=rt.name,
        note=rt.note,
        active=rt.active,
        interval_code=rt.interval_code,
        interval=_interval_name(rt.interval_code),
        cron=rt.cron,
        delay=rt.delay,
        timezone=rt.timezone,
        executor=rt.executor,
        queue=rt.queue,
        timeout=rt.timeout,
        max_concurrency=rt.max_concurrency,
        max_attempts=rt.max_attempts,
        retry_backoff=rt.retry_backoff,
        retry_min_gap=rt.retry_min_gap,
        deadline_offset=rt.deadline_offset,
        allow_late=rt.allow_late,
        next_schedule=rt.next_schedule,
        last_schedule=rt.last_schedule,
        success_count=rt.success_count,
        failure_count=rt.failure_count,
        values=redaction.run_template_values(rt),
        credential_ids=sorted(b.credential_id for b in rt.credential_bindings),
        created_at=rt.created_at,
        updated_at=rt.updated_at,
        assigned_application=rt.assigned_application,
    )


def _interval_name(code: str) -> str:
    try:
        return schedules.interval_name(code)
    except ValidationError:  # a code the schedule module does not know is shown as is
        return code


def reach(rt_id: int, permission: str = access.READ) -> RunTemplate:
    return loaders.run_template(db(), caller(), rt_id, permission)


@operation(
    blueprint,
    "GET",
    "/run-templates",
    summary="List run templates",
    tag=TAG,
    query=RunTemplateQuery,
    response=RunTemplatePage,
)
def list_run_templates(query: RunTemplateQuery) -> dict[str, Any]:
    """By id; ``company_id`` with ``name`` finds a run template by its natural key."""
    if query.name is not None:
        named = lookups.run_templates_named(
            db(),
            query.name,
            company_id=query.company_id,
            company_ids=access.visible_company_ids(caller()),
        )
        matching = [
            rt
            for rt in named
            if query.application_id in (None, rt.application_id)
            and query.active in (None, rt.active)
        ]
        return one_page([out(rt) for rt in matching], query)
    result = runtemplates.list_run_templates(
        db(),
        company_id=query.company_id,
        app_id=query.application_id,
        active=query.active,
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return page(result, out)


@operation(
    blueprint,
    "POST",
    "/run-templates",
    summary="Create a run template",
    tag=TAG,
    body=NewRunTemplate,
    response=RunTemplateOut,
    status=201,
)
def create_run_template(body: NewRunTemplate) -> Response:
    """The application is assigned to the company if it was not (``assigned_application``
    says so). An active run template needs every required field; a second one of the same
    name for the same company and application is refused (409). Needs write access to
    the company."""
    access.require_write(caller(), body.company_id)
    rt = runtemplates.create(
        db(),
        company=body.company_id,
        app_id=body.application_id,
        actor=caller(),
        name=body.name,
        active=body.active,
        values=body.values,
        **_settings(body),
    )
    return created(out(rt), "api.run_templates_get_run_template", run_template_id=rt.id)


@operation(
    blueprint,
    "GET",
    "/run-templates/<int:run_template_id>",
    summary="Get a run template",
    tag=TAG,
    response=RunTemplateOut,
)
def get_run_template(run_template_id: int) -> RunTemplateOut:
    return out(reach(run_template_id))


@operation(
    blueprint,
    "PATCH",
    "/run-templates/<int:run_template_id>",
    summary="Change a run template's settings",
    tag=TAG,
    body=RunTemplateChanges,
    response=RunTemplateOut,
)
def update_run_template(run_template_id: int, body: RunTemplateChanges) -> RunTemplateOut:
    """Only the given members change; configuration values have their own endpoint."""
    rt = reach(run_template_id, access.WRITE)
    changes = _settings(body)
    if body.name is not None:
        changes["name"] = body.name
    return out(runtemplates.update(db(), rt.id, changes, actor=caller()))


@operation(
    blueprint,
    "DELETE",
    "/run-templates/<int:run_template_id>",
    summary="Delete a run template",
    tag=TAG,
)
def delete_run_template(run_template_id: int) -> None:
    """With its values, credential bindings and jobs."""
    rt = reach(run_template_id, access.WRITE)
    runtemplates.delete(db(), rt.id, actor=caller())


@operation(
    blueprint,
    "GET",
    "/run-templates/<int:run_template_id>/values",
    summary="List a run template's configuration values",
    tag=TAG,
    query=ListQuery,
    response=ValuePage,
)
def list_values(run_template_id: int, query: ListQuery) -> dict[str, Any]:
    rt = reach(run_template_id)
    items = [
        ValueOut(
            name=v.name,
            value=redaction.run_template_value(v),
            secret=redaction.run_template_value_is_secret(v),
            type=v.value_type,
        )
        for v in rt.values
    ]
    return one_page(items, query)


@operation(
    blueprint,
    "PATCH",
    "/run-templates/<int:run_template_id>/values",
    summary="Set configuration values",
    tag=TAG,
    body=ValuesIn,
    response=RunTemplateOut,
)
def set_values(run_template_id: int, body: ValuesIn) -> RunTemplateOut:
    """Each value is checked against its application field; an active run template must
    keep every required field."""
    rt = reach(run_template_id, access.WRITE)
    return out(runtemplates.set_values(db(), rt.id, body.values, actor=caller()))


@operation(
    blueprint,
    "GET",
    "/run-templates/<int:run_template_id>/credentials",
    summary="List the credentials bound to a run template",
    tag=TAG,
    query=ListQuery,
    response=CredentialPage,
)
def list_bound(run_template_id: int, query: ListQuery) -> dict[str, Any]:
    rt = reach(run_template_id)
    bound = runtemplates.credentials(db(), rt.id)
    return one_page([credential_out(c) for c in bound], query)


@operation(
    blueprint,
    "PUT",
    "/run-templates/<int:run_template_id>/credentials/<int:credential_id>",
    summary="Bind a credential",
    tag=TAG,
    response=RunTemplateOut,
)
def bind(run_template_id: int, credential_id: int) -> RunTemplateOut:
    """It replaces a credential bound for the same requirement; binding again changes nothing."""
    rt = reach(run_template_id, access.WRITE)
    return out(runtemplates.bind_credential(db(), rt.id, credential_id, actor=caller()))


@operation(
    blueprint,
    "DELETE",
    "/run-templates/<int:run_template_id>/credentials/<int:credential_id>",
    summary="Unbind a credential",
    tag=TAG,
    response=RunTemplateOut,
)
def unbind(run_template_id: int, credential_id: int) -> RunTemplateOut:
    rt = reach(run_template_id, access.WRITE)
    return out(runtemplates.unbind_credential(db(), rt.id, credential_id, actor=caller()))


@operation(
    blueprint,
    "POST",
    "/run-templates/<int:run_template_id>/activate",
    summary="Activate a run template",
    tag=TAG,
    response=RunTemplateOut,
)
def activate(run_template_id: int) -> RunTemplateOut:
    """Every required field must be filled (422 names the missing ones)."""
    rt = reach(run_template_id, access.WRITE)
    return out(runtemplates.set_active(db(), rt.id, True, actor=caller()))


@operation(
    blueprint,
    "POST",
    "/run-templates/<int:run_template_id>/deactivate",
    summary="Deactivate a run template",
    tag=TAG,
    response=RunTemplateOut,
)
def deactivate(run_template_id: int) -> RunTemplateOut:
    rt = reach(run_template_id, access.WRITE)
    return out(runtemplates.set_active(db(), rt.id, False, actor=caller()))


@operation(
    blueprint,
    "GET",
    "/run-templates/<int:run_template_id>/schedule",
    summary="Preview the next occurrences",
    tag=TAG,
    query=PreviewQuery,
    response=PreviewOut,
)
def preview(run_template_id: int, query: PreviewQuery) -> PreviewOut:
    rt = reach(run_template_id)
    session = db()
    occurrences = runtemplates.preview(session, rt.id, query.count, query.after)
    description = schedules.describe(runtemplates.schedule_of(session, rt))
    return PreviewOut(run_template_id=rt.id, schedule=description, occurrences=occurrences)


@operation(
    blueprint,
    "POST",
    "/run-templates/<int:run_template_id>/launch",
    summary="Launch a run template",
    tag=TAG,
    body=LaunchIn,
    response=JobOut,
    status=202,
)
def launch(run_template_id: int, body: LaunchIn) -> Response:
    """Now (queued at once) or ``at`` a later time (scheduled). Answers 202 with the job;
    the run template must be active (409) and completely configured, counting the
    ``overrides``, which fill required fields it leaves empty (422 names each missing one
    in ``missing``)."""
    rt = reach(run_template_id, access.WRITE)
    job = jobs.launch(
        db(),
        rt.id,
        actor=caller(),
        overrides=body.overrides,
        secret_overrides=body.secret_overrides,
        at=body.at,
        schedule_type="adhoc-api",
    )
    response = Response(
        json.dumps(job_out(job).model_dump(mode="json")), status=202, mimetype="application/json"
    )
    response.headers["Location"] = url_for("api.jobs_get_job", job_id=job.id)
    return response
