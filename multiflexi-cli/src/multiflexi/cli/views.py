"""The JSON shape of every object the CLI prints: stable keys, documented in the README.

Pure formatting of the core's objects; no secret value is ever read here
(what a stored secret shows as is :mod:`multiflexi.core.redaction`'s answer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiflexi.core import models
    from multiflexi.core.availability import Availability
    from multiflexi.core.companies import Assignment
    from multiflexi.core.output import Line


def application(app: models.Application, *, detail: bool = False) -> dict[str, Any]:
    from multiflexi.core import redaction

    data: dict[str, Any] = {
        "id": app.id,
        "uuid": app.uuid,
        "name": app.name,
        "title": app.title,
        "version": app.version,
        "executable": app.executable,
        "enabled": app.enabled,
        "tags": list(app.tags or []),
        "requirements": list(app.requirements or []),
    }
    if detail:
        data |= {
            "description": app.description,
            "cmdparams": app.cmdparams,
            "homepage": app.homepage,
            "ociimage": app.ociimage,
            "timeout": app.timeout,
            "source_file": app.source_file,
            "created_at": app.created_at,
            "updated_at": app.updated_at,
            "fields": [
                {
                    "name": f.name,
                    "type": f.type,
                    "description": f.description,
                    "default": redaction.application_field_default(f),
                    "required": f.required,
                    "secret": f.is_secret,
                }
                for f in app.fields
            ],
            "exit_codes": [
                {
                    "code": e.exit_code,
                    "lang": e.lang,
                    "description": e.description,
                    "severity": e.severity,
                }
                for e in app.exit_codes
            ],
        }
    return data


def company(item: models.Company) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "slug": item.slug,
        "ic": item.ic,
        "email": item.email,
        "enabled": item.enabled,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def assignment(item: Assignment) -> dict[str, Any]:
    return {
        "company_id": item.company.id,
        "company_name": item.company.name,
        "company_slug": item.company.slug,
        "app_id": item.application.id,
        "app_name": item.application.name,
        "app_uuid": item.application.uuid,
        "assigned_at": item.assigned_at,
    }


def company_variable(variable: models.CompanyVariable) -> dict[str, Any]:
    from multiflexi.core import redaction

    return {
        "name": variable.name,
        "value": redaction.company_variable(variable),
        "secret": variable.secret,
    }


def run_template(rt: models.RunTemplate, *, detail: bool = False) -> dict[str, Any]:
    from multiflexi.core import redaction, schedules

    data: dict[str, Any] = {
        "id": rt.id,
        "name": rt.name,
        "company_id": rt.company_id,
        "app_id": rt.application_id,
        "app_uuid": rt.application.uuid,
        "app_name": rt.application.name,
        "active": rt.active,
        "interval": rt.interval_code,
        "interval_name": schedules.INTERVAL_NAMES.get(rt.interval_code),
        "cron": rt.cron,
        "delay": rt.delay,
        "timezone": rt.timezone,
        "executor": rt.executor,
        "queue": rt.queue,
        "next_schedule": rt.next_schedule,
        "last_schedule": rt.last_schedule,
        "success_count": rt.success_count,
        "failure_count": rt.failure_count,
    }
    if detail:
        data |= {
            "note": rt.note,
            "timeout": rt.timeout,
            "max_concurrency": rt.max_concurrency,
            "max_attempts": rt.max_attempts,
            "retry_backoff": rt.retry_backoff,
            "retry_min_gap": rt.retry_min_gap,
            "deadline_offset": rt.deadline_offset,
            "allow_late": rt.allow_late,
            "created_at": rt.created_at,
            "updated_at": rt.updated_at,
            "config": dict(sorted(redaction.run_template_values(rt).items())),
            "credentials": [b.credential_id for b in rt.credential_bindings],
        }
    return data


def job(item: models.Job) -> dict[str, Any]:
    return {
        "id": item.id,
        "runtemplate_id": item.run_template_id,
        "company_id": item.company_id,
        "app_id": item.application_id,
        "state": item.state,
        "exitcode": item.exit_code,
        "exit_description": item.exit_description,
        "schedule_type": item.schedule_type,
        "scheduled_at": item.scheduled_at,
        "queued_at": item.queued_at,
        "started_at": item.started_at,
        "finished_at": item.finished_at,
        "executor": item.executor,
        "queue": item.queue,
        "worker": item.worker,
        "attempt": item.attempt,
        "launched_by": item.launched_by,
        "cancel_requested": item.cancel_requested,
        "block_reason": item.block_reason,
        "blocked_at": item.blocked_at,
    }


def task(item: models.Task) -> dict[str, Any]:
    """An SLA task (the original's naming: ``runtemplate_id``)."""
    return {
        "id": item.id,
        "runtemplate_id": item.run_template_id,
        "state": item.state,
        "attempts": item.attempts,
        "window_start": item.window_start.isoformat(),
        "window_end": item.window_end.isoformat(),
        "deadline": item.deadline.isoformat(),
        "fulfilled_by_job_id": item.fulfilled_by_job_id,
        "fulfilled_at": item.fulfilled_at.isoformat() if item.fulfilled_at else None,
    }


def output_line(line: models.JobOutputLine | Line) -> dict[str, Any]:
    return {"seq": line.seq, "stream": line.stream, "text": line.text, "at": line.created_at}


def credential(item: models.Credential) -> dict[str, Any]:
    from multiflexi.core import redaction

    return {
        "id": item.id,
        "name": item.name,
        "company_id": item.company_id,
        "credential_type_id": item.credential_type_id,
        "prototype": item.credential_type.prototype_code,
        "values": redaction.credential_values(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def credential_type(item: models.CredentialType) -> dict[str, Any]:
    from multiflexi.core import credentials

    return {
        "id": item.id,
        "name": item.name,
        "company_id": item.company_id,
        "prototype_id": item.prototype_id,
        "prototype_code": item.prototype_code,
        "version": item.version,
        "fields": [
            {"keyword": f.keyword, "type": f.type, "required": f.required, "secret": f.secret}
            for f in credentials.fields_of(item)
        ],
    }


def prototype(item: models.CredentialPrototype, *, detail: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item.id,
        "uuid": item.uuid,
        "code": item.code,
        "name": item.name,
        "version": item.version,
    }
    if detail:
        data |= {
            "description": item.description,
            "url": item.url,
            "homepage": item.homepage,
            "tags": list(item.tags or []),
            "fields": [
                {
                    "keyword": f.keyword,
                    "type": f.type,
                    "required": f.required,
                    "secret": f.secret,
                    "description": f.description,
                }
                for f in item.fields
            ],
        }
    return data


def user(item: models.User) -> dict[str, Any]:
    return {
        "id": item.id,
        "login": item.login,
        "email": item.email,
        "first_name": item.first_name,
        "last_name": item.last_name,
        "enabled": item.enabled,
        "is_admin": item.is_admin,
        "has_password": item.password_hash is not None,
        "locked_until": item.locked_until,
        "last_login_at": item.last_login_at,
        "created_at": item.created_at,
    }


def token(item: models.ApiToken) -> dict[str, Any]:
    return {
        "id": item.id,
        "user_id": item.user_id,
        "name": item.name,
        "prefix": item.prefix,
        "created_at": item.created_at,
        "expires_at": item.expires_at,
        "last_used_at": item.last_used_at,
        "revoked_at": item.revoked_at,
    }


def audit_entry(entry: models.AuditEntry) -> dict[str, Any]:
    from multiflexi.core import redaction

    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "company_id": entry.company_id,
        "source": entry.source,
        "details": redaction.audit_details(entry),
    }


def availability(credential_id: int, result: Availability) -> dict[str, Any]:
    """A credential check's answer (state, message, when; never a value)."""
    return {"credential_id": credential_id, **result.as_dict()}
