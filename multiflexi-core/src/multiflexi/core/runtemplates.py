"""Run templates: one application configured for one company, with its schedule."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, companies, fieldtypes, ids, jobcounts, jobenv, schedules, vault
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, MissingRequired, NotFound, ValidationError
from multiflexi.core.models import (
    Application,
    ApplicationField,
    Credential,
    RunTemplate,
    RunTemplateAction,
    RunTemplateCredential,
    RunTemplateValue,
)
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, apply_changes, known_none, paginate, rows, transaction
from multiflexi.database.tables import RETRY_BACKOFFS, utc_now

#: the executors a run template may name (the faces offer these; RETRY_BACKOFFS likewise)
EXECUTORS = ("native", "docker", "podman", "kubernetes")
#: settings a caller may give at creation or change with :func:`update`
EDITABLE = (
    "name",
    "note",
    "interval_code",
    "cron",
    "delay",
    "timezone",
    "executor",
    "queue",
    "timeout",
    "max_concurrency",
    "max_attempts",
    "retry_backoff",
    "retry_min_gap",
    "deadline_offset",
    "allow_late",
)
_SCHEDULE = ("interval_code", "cron", "delay", "timezone")
#: the interval code of a run template that only runs when launched: it may be active while
#: a required field has no stored value, since every launch can give it (the scheduler's
#: runs cannot, so a scheduled run template needs them all)
MANUAL = "n"


def get(session: Session, rt_id: int) -> RunTemplate:
    run_template = session.get(RunTemplate, rt_id)
    if run_template is None:
        raise NotFound("run template", rt_id)
    return run_template


def list_run_templates(
    session: Session,
    *,
    company_id: int | None = None,
    app_id: int | None = None,
    active: bool | None = None,
    company_ids: set[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[RunTemplate]:
    """Run templates by id; ``company_ids`` restricts to the companies a caller may see."""
    query = sa.select(RunTemplate)
    if company_id is not None:
        query = query.where(RunTemplate.company_id == company_id)
    if app_id is not None:
        query = query.where(RunTemplate.application_id == app_id)
    if active is not None:
        query = query.where(RunTemplate.active == active)
    if company_ids is not None:
        query = query.where(RunTemplate.company_id.in_(company_ids))
    return paginate(session, query, RunTemplate.id, limit, offset)


def schedule_of(session: Session, run_template: RunTemplate) -> schedules.Schedule:
    """The run template's schedule, in its zone or the configured default zone."""
    return schedules.Schedule.build(
        run_template.interval_code,
        run_template.cron,
        run_template.delay,
        run_template.timezone,
        default_timezone=_default_zone(session),
    )


def default_timezone(session: Session) -> str:
    """The zone of a run template that names none: MULTIFLEXI_TIMEZONE, else the system's."""
    return _default_zone(session)


def _default_zone(session: Session) -> str:
    settings = session.info.get("settings")
    return settings.timezone if settings is not None else schedules.system_timezone_name()


def _check_settings(session: Session, merged: Mapping[str, Any]) -> list[Any]:
    """Every problem with a run template's settings, each a ``(setting, message)`` pair."""
    errors: list[Any] = []
    name = merged.get("name")
    if name is not None and (not str(name).strip() or len(str(name)) > 255):
        errors.append(("name", msg("must be 1-255 characters")))
    code = merged.get("interval_code")
    if code is None or (isinstance(code, str) and not code.strip()):
        errors.append(
            (
                "interval_code",
                msg(
                    "must not be empty (one of {choices}, or a name such as daily)",
                    choices=", ".join(schedules.INTERVAL_NAMES),
                ),
            )
        )
    try:
        schedules.Schedule.build(
            code or "n",
            merged.get("cron"),
            merged.get("delay"),
            merged.get("timezone"),
            default_timezone=_default_zone(session),
        )
    except ValidationError as exc:
        errors.extend(exc.problems or [exc.summary])
    if merged.get("executor", "native") not in EXECUTORS:
        errors.append(("executor", msg("must be one of {choices}", choices=", ".join(EXECUTORS))))
    for key, low in (
        ("max_concurrency", 1),
        ("max_attempts", 1),
        ("retry_min_gap", 0),
        ("timeout", 1),
    ):
        value = merged.get(key)
        if value is None and key == "timeout":
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= ids.MAX_ID:
            # the database's INTEGER holds no more than the largest id
            errors.append(
                (
                    key,
                    msg(
                        "must be a whole number from {low} to {max_id}", low=low, max_id=ids.MAX_ID
                    ),
                )
            )
    if merged.get("retry_backoff", "none") not in RETRY_BACKOFFS:
        *others, last = RETRY_BACKOFFS
        errors.append(
            (
                "retry_backoff",
                msg("must be {choices} or {last}", choices=", ".join(others), last=last),
            )
        )
    queue = merged.get("queue") or ""
    if not queue or len(queue) > 64 or not all(c.isalnum() or c in "-_." for c in queue):
        errors.append(("queue", msg("must be 1-64 characters of letters, digits, '-', '_' or '.'")))
    return errors


def _check_deadline_offset(changes: Mapping[str, Any]) -> list[Any]:
    """The problem with a deadline offset being set (a stored one is not checked again)."""
    if "deadline_offset" not in changes or changes["deadline_offset"] is None:
        return []
    offset = changes["deadline_offset"]
    if not isinstance(offset, str):
        return [("deadline_offset", f"use {schedules.DEADLINE_OFFSET_FORMS}")]
    try:
        schedules.normalised_deadline_offset(offset)
    except ValueError as exc:
        return [("deadline_offset", str(exc))]
    return []


def _normalised(changes: Mapping[str, Any], current_code: str | None = None) -> dict[str, Any]:
    """Interval names become codes ("daily" -> "d"); leaving 'c' drops the cron expression."""
    result = dict(changes)
    code = result.get("interval_code")
    if isinstance(code, str):
        # an unknown code is reported by _check_settings with the other problems
        with contextlib.suppress(ValidationError):
            result["interval_code"] = code = schedules.interval_code(code)
    if code not in (None, "c") and "cron" not in result and current_code == "c":
        result["cron"] = None
    if result.get("cron") == "":
        result["cron"] = None
    offset = result.get("deadline_offset")
    if isinstance(offset, str):
        # a bad one is reported by _check_deadline_offset with the other problems
        with contextlib.suppress(ValueError):
            result["deadline_offset"] = schedules.normalised_deadline_offset(offset)
    return result


def _defaults() -> dict[str, Any]:
    return {
        "interval_code": "n",
        "cron": None,
        "delay": 0,
        "timezone": None,
        "executor": "native",
        "queue": "default",
        "timeout": None,
        "max_concurrency": 1,
        "max_attempts": 1,
        "retry_backoff": "none",
        "retry_min_gap": 0,
        "deadline_offset": None,
        "allow_late": False,
        "note": None,
    }


def create(
    session: Session,
    *,
    company: int | str,
    app_id: int,
    actor: Actor,
    name: str | None = None,
    active: bool = True,
    values: Mapping[str, str | None] | None = None,
    **settings: Any,
) -> RunTemplate:
    """A new run template; the application is assigned to the company if it was not
    (then the run template's ``assigned_application`` is True, for the faces to say so).

    Unknown settings, a bad schedule or a value of the wrong type are refused
    and nothing is created; so is a second run template of the same name for the
    same company and application (:class:`Conflict` naming the existing one). Without
    a ``name`` it is the application's, numbered when that one is taken ("Name 2").
    """
    unknown = sorted(set(settings) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            msg("run template not created"),
            [(k, msg("not a run template setting")) for k in unknown],
        )
    owner = companies.get(session, company)
    app = session.get(Application, app_id)
    if app is None:
        raise NotFound("application", app_id)
    merged = {
        **_defaults(),
        **_normalised(settings),
        "name": name or _default_name(session, owner.id, app),
    }
    errors = _check_settings(session, merged) + _check_deadline_offset(settings)
    if errors:
        raise ValidationError(msg("run template not created"), errors)
    checked = _checked_values(app, values or {}, "run template not created")
    if name:
        _refuse_duplicate_name(session, name, owner.id, app, owner.slug)
    with transaction(session):
        assigned = companies.ensure_assigned(session, owner, app)
        run_template = RunTemplate(
            company_id=owner.id, application_id=app.id, active=active, **merged
        )
        session.add(run_template)
        session.flush()
        run_template.assigned_application = assigned
        _store_values(session, run_template, app, checked)
        if active and run_template.interval_code != MANUAL:
            _require_complete(session, run_template, "run template not created")
        audit.record(
            session,
            actor,
            "create",
            "run_template",
            run_template.id,
            company_id=owner.id,
            details={
                "name": run_template.name,
                "application_id": app.id,
                "values": sorted(checked),
                "assigned_application": assigned,
            },
        )
    return run_template


def _default_name(
    session: Session, company_id: int, app: Application, base: str | None = None
) -> str:
    """The application's name (or ``base``), numbered ("Name 2", ...) when the company has
    a run template of it by that name already: names stay distinct without being asked."""
    taken = set(
        session.scalars(
            sa.select(RunTemplate.name).where(
                RunTemplate.company_id == company_id, RunTemplate.application_id == app.id
            )
        )
    )
    stem = base or app.name
    candidate, number = stem, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem} {number}"
    return candidate


def _refuse_duplicate_name(
    session: Session,
    name: str,
    company_id: int,
    app: Application,
    company_label: str,
    rt_id: int | None = None,
) -> None:
    """A company's run templates of one application have different names: the name is
    how people and the Ansible module find one."""
    query = sa.select(RunTemplate.id).where(
        RunTemplate.company_id == company_id,
        RunTemplate.application_id == app.id,
        RunTemplate.name == name,
    )
    if rt_id is not None:
        query = query.where(RunTemplate.id != rt_id)
    existing = session.scalar(query.order_by(RunTemplate.id).limit(1))
    if existing is not None:
        raise Conflict(
            msg(
                "run template {name!r} of application {name2} already exists in company "
                "{company_label} (id {existing}); choose another name or change that one",
                name=name,
                name2=app.name,
                company_label=company_label,
                existing=existing,
            )
        )


def configure(
    session: Session,
    rt_id: int,
    *,
    actor: Actor,
    changes: Mapping[str, Any] | None = None,
    values: Mapping[str, str | None] | None = None,
    active: bool | None = None,
) -> RunTemplate:
    """Change settings, configuration values and the active flag together: all or nothing.

    Everything is checked before anything is written; a refused part (a bad
    schedule, a value of the wrong type, activation with a required field
    missing) leaves the run template exactly as it was.
    """
    changes = dict(changes or {})
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            msg("run template not changed"),
            [(k, msg("not a run template setting")) for k in unknown],
        )
    run_template = get(session, rt_id)
    changes = _normalised(changes, run_template.interval_code)
    errors = _check_settings(
        session, {key: getattr(run_template, key) for key in EDITABLE} | changes
    ) + _check_deadline_offset(changes)
    if errors:
        raise ValidationError(msg("run template not changed"), errors)
    checked = _checked_values(run_template.application, values or {}, "run template not changed")
    if "name" in changes and changes["name"] != run_template.name:
        _refuse_duplicate_name(
            session,
            changes["name"],
            run_template.company_id,
            run_template.application,
            run_template.company.slug,
            run_template.id,
        )
    with transaction(session):
        changed = apply_changes(run_template, changes)
        if active is not None and run_template.active != active:
            run_template.active = active
            changed["active"] = active
        if set(changed) & {*_SCHEDULE, "active"}:
            # a new schedule (or a pause) starts afresh: the scheduler plans from the new rule
            run_template.next_schedule = None
        _store_values(session, run_template, run_template.application, checked)
        if (
            run_template.active
            and run_template.interval_code != MANUAL
            and (checked or changed.get("active") or "interval_code" in changed)
        ):
            _require_complete(session, run_template, "run template not changed")
        if changed or checked:
            action = "update"
            if set(changed) == {"active"} and not checked:
                action = "activate" if active else "deactivate"
            audit.record(
                session,
                actor,
                action,
                "run_template",
                run_template.id,
                company_id=run_template.company_id,
                details={"changed": sorted(changed), "values": sorted(checked)},
            )
    return run_template


def update(
    session: Session, rt_id: int, changes: Mapping[str, Any], *, actor: Actor
) -> RunTemplate:
    """Change settings (configuration values: :func:`set_values`; both: :func:`configure`)."""
    return configure(session, rt_id, actor=actor, changes=changes)


def delete(session: Session, rt_id: int, *, actor: Actor) -> None:
    """Delete a run template with its values, bindings, actions and jobs."""
    run_template = get(session, rt_id)
    with transaction(session):
        audit.record(
            session,
            actor,
            "delete",
            "run_template",
            run_template.id,
            company_id=run_template.company_id,
            details={"name": run_template.name},
        )
        jobcounts.delete_jobs_of(session, [run_template])
        session.delete(run_template)


def clone(session: Session, rt_id: int, *, actor: Actor, name: str | None = None) -> RunTemplate:
    """A copy of a run template: its settings, configuration values (secret ones stay
    sealed), bound credentials and actions, in the same company. The copy starts
    inactive (it runs only once someone activates it). Without a ``name`` it is the
    original's with " (copy)", numbered when taken; a taken ``name`` is a
    :class:`Conflict`."""
    source = get(session, rt_id)
    app = source.application
    if name is not None and (not name.strip() or len(name) > 255):
        raise ValidationError(
            msg("run template not cloned"), [("name", msg("must be 1-255 characters"))]
        )
    if name:
        _refuse_duplicate_name(session, name, source.company_id, app, source.company.slug)
    else:
        name = _default_name(session, source.company_id, app, f"{source.name} (copy)")
    with transaction(session):
        copy = RunTemplate(
            company_id=source.company_id,
            application_id=source.application_id,
            active=False,
            name=name,
            **{key: getattr(source, key) for key in EDITABLE if key != "name"},
        )
        session.add(copy)
        session.flush()
        for value in source.values:
            copy.values.append(
                RunTemplateValue(
                    run_template_id=copy.id,
                    name=value.name,
                    value=value.value,
                    value_type=value.value_type,
                    key_id=value.key_id,
                )
            )
        for binding in source.credential_bindings:
            copy.credential_bindings.append(
                RunTemplateCredential(run_template_id=copy.id, credential_id=binding.credential_id)
            )
        for action in source.actions:
            copy.actions.append(
                RunTemplateAction(
                    run_template_id=copy.id,
                    mode=action.mode,
                    action=action.action,
                    enabled=action.enabled,
                    options=action.options,
                    secrets=action.secrets,
                    secrets_key_id=action.secrets_key_id,
                    position=action.position,
                )
            )
        session.flush()
        audit.record(
            session,
            actor,
            "clone",
            "run_template",
            copy.id,
            company_id=copy.company_id,
            details={"name": copy.name, "clone_of": source.id},
        )
    return copy


# -- configuration values ----------------------------------------------------


def _checked_values(
    app: Application, values: Mapping[str, str | None], summary: str
) -> dict[str, str | None]:
    # (field, message, how its line names it): each about one of the values
    errors: list[tuple[str, str, str]] = []
    checked: dict[str, str | None] = {}
    for name, value in values.items():
        field = app.field(name)
        if field is None:
            errors.append(
                (f"values.{name}", msg("application {name} has no such field", name=app.name), name)
            )
            continue
        if value is None:
            checked[name] = None
            continue
        try:
            checked[name] = fieldtypes.check(field.type, value, field.options)
        except ValueError as exc:
            errors.append((f"values.{name}", str(exc), name))
    if errors:
        raise ValidationError(summary, errors)
    return checked


def _store_values(
    session: Session,
    run_template: RunTemplate,
    app: Application,
    checked: Mapping[str, str | None],
) -> None:
    existing = {v.name: v for v in run_template.values}
    for name, value in checked.items():
        field = app.field(name)
        assert field is not None
        secret = fieldtypes.is_secret_field(name, field.type, field.secret)
        row = existing.get(name)
        if value is None:
            if row is not None:
                run_template.values.remove(row)
            continue
        if secret and value == "" and row is not None:
            continue  # a blank secret keeps the stored one (as in the original)
        if row is None:
            row = RunTemplateValue(run_template_id=run_template.id, name=name)
            run_template.values.append(row)
        row.value_type = field.type
        if secret and value != "":
            row.value, row.key_id = vault.seal(session, value, jobenv.VALUE_CONTEXT)
        else:
            row.value, row.key_id = value, None
    session.flush()


def set_values(
    session: Session,
    rt_id: int,
    values: Mapping[str, str | None],
    *,
    actor: Actor,
) -> RunTemplate:
    """Set configuration values (``None`` removes one); each is checked against its field.

    A secret field given as an empty string keeps its stored value. An active
    run template must still have every required field afterwards.
    """
    return configure(session, rt_id, actor=actor, values=values)


_ACTIONS: sa.Table = RunTemplateAction.__table__
_ENABLED_ACTION_ROWS = (
    sa.select(_ACTIONS.c.action, _ACTIONS.c.options, _ACTIONS.c.secrets)
    .where(
        _ACTIONS.c.run_template_id == sa.bindparam("run_template_id"),
        _ACTIONS.c.enabled.is_(True),
        _ACTIONS.c.mode.in_(sa.bindparam("modes", expanding=True)),
    )
    .order_by(_ACTIONS.c.mode, _ACTIONS.c.position, _ACTIONS.c.id)
)


#: the action modes that run after a success, and after anything else
SUCCESS_MODES = ("success",)
FAILURE_MODES = ("failure", "fail")


def enabled_actions(
    session: Session, run_template_id: int, modes: Sequence[str]
) -> Sequence[sa.Row]:
    """The run template's enabled actions of the given modes, in order: (action, options,
    secrets); :func:`multiflexi.core.actions.resolved_options` opens the sealed ones."""
    if known_none(session, "actions", run_template_id):
        return ()
    return rows(
        session, _ENABLED_ACTION_ROWS, {"run_template_id": run_template_id, "modes": list(modes)}
    )


def _require_complete(
    session: Session,
    run_template: RunTemplate,
    summary: str,
    supplied: Iterable[str] = (),
    group: str = "values",
) -> None:
    """Refuse a run template a required field is missing from; each problem is about the
    field ``group.NAME``: a configuration value, or a launch's one-time value (``overrides``).
    """
    missing = jobenv.missing_required(session, run_template, supplied)
    if missing:
        raise MissingRequired(summary, missing, group)


# -- activation and schedule -------------------------------------------------


def set_active(session: Session, rt_id: int, active: bool, *, actor: Actor) -> RunTemplate:
    """Activate or deactivate a run template.

    A scheduled one (interval other than ``n``) is activated only with every required
    field filled; a manual one may lack them, and each launch must give the missing ones.
    """
    return configure(session, rt_id, actor=actor, active=active)


def preview(
    session: Session, rt_id: int, count: int = 10, after: dt.datetime | None = None
) -> list[dt.datetime]:
    """The next ``count`` occurrences (UTC) of the run template's schedule."""
    run_template = get(session, rt_id)
    start = after or utc_now()
    return schedules.preview(schedule_of(session, run_template), start, max(0, min(count, 1000)))


# -- credentials -------------------------------------------------------------


def credentials(session: Session, rt_id: int) -> list[Credential]:
    run_template = get(session, rt_id)
    return [binding.credential for binding in run_template.credential_bindings]


def bind_credential(
    session: Session, rt_id: int, credential_id: int, *, actor: Actor
) -> RunTemplate:
    """Bind a company credential; it replaces one bound for the same requirement.

    As in the original there is one credential per requirement code: binding
    a second credential of the same prototype unbinds the first.
    """
    run_template = get(session, rt_id)
    credential = session.get(Credential, credential_id)
    if credential is None or credential.company_id != run_template.company_id:
        raise NotFound("credential", credential_id)
    code = credential.credential_type.prototype_code
    with transaction(session):
        for binding in list(run_template.credential_bindings):
            if binding.credential_id == credential.id:
                return run_template
            other = binding.credential.credential_type.prototype_code
            if code is not None and other == code:
                run_template.credential_bindings.remove(binding)
        run_template.credential_bindings.append(
            RunTemplateCredential(run_template_id=run_template.id, credential_id=credential.id)
        )
        session.flush()
        audit.record(
            session,
            actor,
            "bind",
            "run_template_credential",
            credential.id,
            company_id=run_template.company_id,
            details={"run_template_id": run_template.id, "requirement": code},
        )
    return run_template


def unbind_credential(
    session: Session, rt_id: int, credential_id: int, *, actor: Actor
) -> RunTemplate:
    run_template = get(session, rt_id)
    binding = next(
        (b for b in run_template.credential_bindings if b.credential_id == credential_id), None
    )
    if binding is None:
        raise NotFound(msg("credential bound to run template {rt_id}", rt_id=rt_id), credential_id)
    with transaction(session):
        run_template.credential_bindings.remove(binding)
        audit.record(
            session,
            actor,
            "unbind",
            "run_template_credential",
            credential_id,
            company_id=run_template.company_id,
            details={"run_template_id": run_template.id},
        )
    return run_template


def ensure_launchable(
    session: Session, run_template: RunTemplate, supplied: Iterable[str] = ()
) -> None:
    """Refuse a launch of an inactive or incompletely configured run template.

    ``supplied``: the names of the launch's one-time values (see :func:`missing_required`);
    a run the launch does not give values to (a chained job, the scheduler's) gives none.
    The refusal of a missing field is :class:`~multiflexi.core.errors.MissingRequired`,
    naming every field still missing.
    """
    _ensure_launchable(
        session, run_template.id, run_template.active, lambda: run_template, supplied=supplied
    )


def _ensure_launchable(
    session: Session,
    rt_id: int,
    active: bool,
    run_template: Callable[[], RunTemplate],
    has_required: bool = True,
    supplied: Iterable[str] = (),
) -> None:
    """The launch rules, for :func:`ensure_launchable` and :func:`launchable` alike.

    ``run_template`` gives the mapped run template, asked for only when the
    application has required fields (``has_required``: False when it is known to
    have none, and there is nothing to look for).
    """
    if not active:
        raise Conflict(msg("run template {rt_id} is not active; activate it first", rt_id=rt_id))
    if has_required:
        _require_complete(
            session, run_template(), f"run template {rt_id} cannot run", supplied, "overrides"
        )


_RUN_TEMPLATES: sa.Table = RunTemplate.__table__
_APPLICATIONS: sa.Table = Application.__table__
_FIELDS: sa.Table = ApplicationField.__table__
#: what a launch needs of a run template and its application, in one statement (read for
#: every launch: a plain row instead of a mapped object costs a fraction)
_LAUNCH_ROW = (
    sa.select(
        _RUN_TEMPLATES.c.id,
        _RUN_TEMPLATES.c.active,
        _RUN_TEMPLATES.c.company_id,
        _RUN_TEMPLATES.c.application_id,
        _RUN_TEMPLATES.c.executor,
        _RUN_TEMPLATES.c.queue,
        _APPLICATIONS.c.version.label("app_version"),
        sa.exists()
        .where(
            _FIELDS.c.application_id == _RUN_TEMPLATES.c.application_id,
            _FIELDS.c.required.is_(True),
        )
        .label("has_required"),
    )
    .select_from(
        _RUN_TEMPLATES.outerjoin(
            _APPLICATIONS, _APPLICATIONS.c.id == _RUN_TEMPLATES.c.application_id
        )
    )
    .where(_RUN_TEMPLATES.c.id == sa.bindparam("rt_id"))
)


def launchable(session: Session, rt_id: int, supplied: Iterable[str] = ()) -> sa.Row[Any]:
    """:func:`get` and :func:`ensure_launchable` in one, for a launch by id.

    Returns a plain row of what a job is made of (``id``, ``company_id``,
    ``application_id``, ``executor``, ``queue``, and the application's version as
    ``app_version``), read in one statement when the application has no required
    fields; with required fields, the mapped run template is loaded to look for
    their values, as :func:`ensure_launchable` does (``supplied``: the launch's one-time
    values' names, which fill required fields). Raises what those two raise.
    """
    found = rows(session, _LAUNCH_ROW, {"rt_id": rt_id})
    if not found:
        raise NotFound("run template", rt_id)
    row = found[0]
    _ensure_launchable(
        session,
        rt_id,
        bool(row.active),
        lambda: get(session, rt_id),
        bool(row.has_required),
        supplied,
    )
    return row


__all__ = [
    "EDITABLE",
    "EXECUTORS",
    "FAILURE_MODES",
    "MANUAL",
    "RETRY_BACKOFFS",
    "SUCCESS_MODES",
    "bind_credential",
    "clone",
    "configure",
    "create",
    "credentials",
    "default_timezone",
    "delete",
    "enabled_actions",
    "ensure_launchable",
    "get",
    "launchable",
    "list_run_templates",
    "preview",
    "schedule_of",
    "set_active",
    "set_values",
    "unbind_credential",
    "update",
]
