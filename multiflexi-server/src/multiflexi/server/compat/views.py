"""The original API's read paths, ``POST job/``, and its error member ``error``."""

from __future__ import annotations

import datetime as dt
import platform
import resource
import shlex
import sys
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, json, request
from pydantic import Field

from multiflexi.core import (
    access,
    apps,
    companies,
    credentials,
    jobs,
    loaders,
    redaction,
    runtemplates,
    status,
)
from multiflexi.core.config import settings_of
from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.ids import MAX_ID
from multiflexi.core.models import Application, Company, Job, RunTemplate
from multiflexi.server import errors
from multiflexi.server.compat import blueprint
from multiflexi.server.openapi import operation
from multiflexi.server.request import Query, caller, db

TAG = "compat"
#: the original's date format (its columns were DATETIME in the server's zone)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class CompatQuery(Query):
    limit: int = Field(20, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=MAX_ID)


@blueprint.errorhandler(MultiFlexiError)
def _core_error(exc: MultiFlexiError) -> Response:
    """The main API's problem document, plus the original's ``error`` member; its
    ``detail`` is the whole message, as this layer has always said it (no ``fields``)."""
    found = errors.core_problem(exc)
    extra = {name: value for name, value in found.extra.items() if name != "fields"}
    return errors.problem(found.status, found.title, exc.message, **extra, error=exc.message)


def _when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = ZoneInfo(settings_of(db()).timezone)
    return value.astimezone(zone).strftime(DATE_FORMAT)


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False), status=status_code, mimetype="application/json"
    )


def app_shape(app: Application) -> dict[str, Any]:
    environment = {
        f.name: {
            "type": f.type,
            "description": f.description or "",
            "defval": redaction.application_field_default(f),
            "required": f.required,
        }
        for f in app.fields
    }
    exit_codes: dict[str, dict[str, Any]] = {}
    for code in app.exit_codes:
        entry = exit_codes.setdefault(
            str(code.exit_code), {"severity": code.severity, "retry": code.retry, "description": {}}
        )
        entry["description"][code.lang] = code.description
    return {
        "id": app.id,
        "enabled": bool(app.enabled),
        "image": app.image,
        "name": app.name,
        "description": app.description,
        "executable": app.executable,
        "DatCreate": _when(app.created_at),
        "DatUpdate": _when(app.updated_at),
        "setup": app.setup,
        "cmdparams": app.cmdparams,
        "deploy": app.deploy,
        "homepage": app.homepage,
        "requirements": ",".join(app.requirements or []),
        "ociimage": app.ociimage,
        "version": app.version,
        "code": app.code,
        "uuid": app.uuid,
        "topics": ",".join(app.tags or []),
        "resultfile": None,
        "artifacts": [a.pattern for a in app.artifacts],
        "deffile": app.source_file,
        "helmchart": None,
        "environment": environment,
        "exitCodes": exit_codes,
        "tags": ",".join(app.tags or []),
    }


def company_shape(company: Company) -> dict[str, Any]:
    return {
        "id": company.id,
        "enabled": bool(company.enabled),
        "settings": company.settings,
        "logo": company.logo,
        "name": company.name,
        "code": company.slug,
        "ic": company.ic,
        "DatCreate": _when(company.created_at),
        "DatUpdate": _when(company.updated_at),
        "customer": None,
        "email": company.email,
    }


def run_template_shape(rt: RunTemplate) -> dict[str, Any]:
    return {
        "id": rt.id,
        "app_id": rt.application_id,
        "company_id": rt.company_id,
        "interv": rt.interval_code,
        "prepared": None,
        "success": None,
        "fail": None,
        "name": rt.name,
        "delay": rt.delay,
        "executor": rt.executor,
        "active": bool(rt.active),
        "cron": rt.cron,
        "last_schedule": _when(rt.last_schedule),
        "next_schedule": _when(rt.next_schedule),
        "note": rt.note,
        "DatCreate": _when(rt.created_at),
        "DatSave": _when(rt.updated_at),
        "successfull_jobs_count": rt.success_count,
        "failed_jobs_count": rt.failure_count,
    }


def _streams(job: Job) -> tuple[str, str]:
    out: list[str] = []
    err: list[str] = []
    after = 0
    while True:
        lines = jobs.output(db(), job.id, after=after, limit=10_000)
        for line in lines:
            (err if line.stream == "stderr" else out).append(line.text)
        if len(lines) < 10_000:
            break
        after = lines[-1].seq
    return "\n".join(out), "\n".join(err)


def job_shape(job: Job) -> dict[str, Any]:
    stdout, stderr = _streams(job)
    command = job.command
    if isinstance(command, list):
        command = shlex.join(str(word) for word in command)
    return {
        "id": job.id,
        "app_id": job.application_id,
        "begin": _when(job.started_at),
        "end": _when(job.finished_at),
        "company_id": job.company_id,
        "exitcode": job.exit_code,
        "stdout": stdout,
        "stderr": stderr,
        "launched_by": job.launched_by_user_id,
        "env": job.environment or {},
        "command": command,
        "schedule": _when(job.scheduled_at),
        "executor": job.executor,
        "runtemplate_id": job.run_template_id,
        "task_id": job.task_id,
        "app_version": job.app_version,
    }


def _keyed(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(item["id"]): item for item in items}


@operation(
    blueprint,
    "GET",
    "/ping.json",
    summary="Liveness (open)",
    tag=TAG,
    public=True,
    response=dict[str, Any],
)
def ping() -> dict[str, Any]:
    return {"ping": [{"ping": "pong"}]}


@operation(
    blueprint,
    "GET",
    "/apps.json",
    summary="Applications keyed by id",
    tag=TAG,
    query=CompatQuery,
    response=dict[str, Any],
)
def list_apps(query: CompatQuery) -> Response:
    result = apps.list_applications(db(), limit=query.limit, offset=query.offset)
    return _json(_keyed([app_shape(a) for a in result.items]))


@operation(
    blueprint,
    "GET",
    "/app/<int:app_id>.json",
    summary="One application",
    tag=TAG,
    response=dict[str, Any],
)
def get_app(app_id: int) -> Response:
    return _json(app_shape(apps.get(db(), app_id)))


@operation(
    blueprint,
    "GET",
    "/companies.json",
    summary="Companies (array)",
    tag=TAG,
    query=CompatQuery,
    response=list[dict[str, Any]],
)
def list_companies(query: CompatQuery) -> Response:
    visible = access.visible_company_ids(caller())
    result = companies.list_companies(db(), ids=visible, limit=query.limit, offset=query.offset)
    return _json([company_shape(c) for c in result.items])


@operation(
    blueprint,
    "GET",
    "/company/<int:company_id>.json",
    summary="One company",
    tag=TAG,
    response=dict[str, Any],
)
def get_company(company_id: int) -> Response:
    company = loaders.company(db(), caller(), company_id)
    return _json(company_shape(company))


@operation(
    blueprint,
    "GET",
    "/runtemplates.json",
    summary="Run templates keyed by id",
    tag=TAG,
    query=CompatQuery,
    response=dict[str, Any],
)
def list_run_templates(query: CompatQuery) -> Response:
    result = runtemplates.list_run_templates(
        db(),
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return _json(_keyed([run_template_shape(rt) for rt in result.items]))


@operation(
    blueprint,
    "GET",
    "/runtemplate/<int:run_template_id>.json",
    summary="One run template",
    tag=TAG,
    response=dict[str, Any],
)
def get_run_template(run_template_id: int) -> Response:
    rt = loaders.run_template(db(), caller(), run_template_id)
    return _json(run_template_shape(rt))


@operation(
    blueprint,
    "GET",
    "/jobs.json",
    summary="Jobs keyed by id, newest first",
    tag=TAG,
    query=CompatQuery,
    response=dict[str, Any],
)
def list_jobs(query: CompatQuery) -> Response:
    result = jobs.list_jobs(
        db(),
        company_ids=access.visible_company_ids(caller()),
        limit=query.limit,
        offset=query.offset,
    )
    return _json(_keyed([job_shape(j) for j in result.items]))


@operation(
    blueprint,
    "GET",
    "/job/<int:job_id>.json",
    summary="One job with its output",
    tag=TAG,
    response=dict[str, Any],
)
def get_job(job_id: int) -> Response:
    job = loaders.job(db(), caller(), job_id)
    return _json(job_shape(job))


@operation(
    blueprint,
    "GET",
    "/status.json",
    summary="Counts and daemon state",
    tag=TAG,
    response=dict[str, Any],
)
def get_status() -> Response:
    """Administrators only (the original left it open)."""
    access.require_global_admin(caller(), "read the installation status")
    session = db()
    summary = status.status(session)
    from multiflexi.server import __version__

    data = {
        "version": __version__,
        "php": f"Python {sys.version.split()[0]}",
        "os": platform.system(),
        "memory": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "companies": companies.list_companies(session, limit=1).total,
        "apps": apps.list_applications(session, limit=1).total,
        "runtemplates": runtemplates.list_run_templates(session, limit=1).total,
        "topics": 0,
        "credentials": credentials.list_credentials(session, limit=1).total,
        "credential_types": credentials.list_types(session, limit=1).total,
        "database": session.get_bind().dialect.name,
        "daemon": "running" if summary.workers else "stopped",
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
    }
    return _json({"status": data})


def _bad(detail: str) -> Response:
    return errors.problem(400, "Bad request", detail, error=detail)


def _scheduled(value: Any) -> dt.datetime | Response | None:
    if value in (None, "", "now"):
        return None
    if not isinstance(value, str):
        return _bad("scheduled: give 'now' or 'YYYY-MM-DD HH:MM:SS'")
    try:
        wall = dt.datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        return _bad("scheduled: give 'now' or 'YYYY-MM-DD HH:MM:SS'")
    return wall.replace(tzinfo=ZoneInfo(settings_of(db()).timezone))


@operation(
    blueprint,
    "POST",
    "/job/",
    summary="Launch a run template (original shape)",
    tag=TAG,
    response=dict[str, Any],
    status=201,
)
def launch() -> Response:
    """JSON ``{"runtemplate_id", "scheduled": "now" | "Y-m-d H:i:s", "env": {...}}``; answers
    201 ``{"job_id", "runtemplate_id", "scheduled", "executor", "schedule_type"}``. The
    ``executor`` member is accepted and ignored: the run template's executor runs the job."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _bad("send a JSON object with runtemplate_id")
    rt_id = payload.get("runtemplate_id")
    if isinstance(rt_id, str) and rt_id.isascii() and rt_id.isdigit():
        rt_id = int(rt_id)
    if not isinstance(rt_id, int) or isinstance(rt_id, bool) or not 0 < rt_id <= MAX_ID:
        return _bad("runtemplate_id is required")
    env = payload.get("env") or {}
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        return _bad("env: give an object of text values")
    at = _scheduled(payload.get("scheduled"))
    if isinstance(at, Response):
        return at
    rt = loaders.run_template(db(), caller(), rt_id, access.WRITE)
    job = jobs.launch(db(), rt.id, actor=caller(), overrides=env, at=at, schedule_type="adhoc-api")
    return _json(
        {
            "job_id": job.id,
            "runtemplate_id": rt.id,
            "scheduled": _when(job.scheduled_at),
            "executor": job.executor,
            "schedule_type": job.schedule_type,
        },
        201,
    )
