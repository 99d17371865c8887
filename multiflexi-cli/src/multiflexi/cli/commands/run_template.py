"""``run-template``: an application configured for a company, with its schedule; launches."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import (
    BOOL,
    ID,
    LazyChoice,
    app_options,
    boolean_choice,
    check_time,
    company_option,
    pagination,
    parse_pairs,
    parse_time,
    resolve_app_id,
    runtemplate_id_option,
)

F = TypeVar("F", bound=Callable[..., Any])
COLUMNS = ["id", "name", "company_id", "app_name", "active", "interval", "cron", "next_schedule"]


def _retry_backoffs() -> tuple[str, ...]:
    from multiflexi.core import runtemplates

    return runtemplates.RETRY_BACKOFFS


def _executors() -> tuple[str, ...]:
    from multiflexi.core import runtemplates

    return runtemplates.EXECUTORS


def settings_options(func: F) -> F:
    """The run template settings, shared by create and update (all optional)."""
    options = [
        click.option("--note", default=None, help="Free text."),
        click.option("--allow-late", type=BOOL, default=None, help="May run after its deadline."),
        click.option("--deadline-offset", default=None, help="Deadline: +3h, +30m or 08:00."),
        click.option("--retry-min-gap", type=int, default=None, help="Seconds between retries."),
        click.option(
            "--retry-backoff",
            type=LazyChoice(_retry_backoffs, case_sensitive=True),
            default=None,
            help="How the gap between retries grows.",
        ),
        click.option("--max-attempts", type=int, default=None, help="Attempts per occurrence."),
        click.option("--max-concurrency", type=int, default=None, help="Jobs running at once."),
        click.option("--timeout", type=int, default=None, help="Seconds before a job is stopped."),
        click.option("--queue", default=None, help="RQ queue of its jobs."),
        click.option(
            "--executor",
            type=LazyChoice(_executors),
            default=None,
            help="Where its jobs run.",
        ),
        click.option("--timezone", default=None, help="IANA zone of the schedule."),
        click.option("--delay", type=int, default=None, help="Seconds added to each occurrence."),
        click.option("--cron", default=None, help="Cron expression (with --interval c)."),
        click.option(
            "--interval",
            "--interv",
            "interval_code",
            default=None,
            help="n (never), i, h, d, w, m, y, or c (cron); names like daily work too.",
        ),
        click.option(
            "--config",
            "config",
            multiple=True,
            callback=parse_pairs,
            metavar="KEY=VALUE",
            help="A configuration value (repeatable; an empty secret keeps the stored one).",
        ),
    ]
    for option in options:
        func = option(func)
    return func


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """The run template settings given as options (the core's EDITABLE names; name apart)."""
    from multiflexi.core.runtemplates import EDITABLE

    settings = {k: values[k] for k in EDITABLE if k != "name" and values.get(k) is not None}
    if "executor" in settings:
        settings["executor"] = settings["executor"].lower()
    if "allow_late" in settings:
        settings["allow_late"] = boolean_choice(settings["allow_late"])
    return settings


@click.group("run-template")
def group() -> None:
    """Run templates: configure, schedule, launch (schedule), preview, credentials, actions."""


@group.command("list")
@company_option(required=False)
@app_options
@click.option("--active", type=BOOL, default=None, help="Only active (or inactive) ones.")
@pagination()
@pass_app
def list_(
    app: App,
    company: str | None,
    app_id: int | None,
    app_uuid: str | None,
    active: str | None,
    limit: int,
    offset: int,
) -> None:
    """List run templates by id."""
    from multiflexi.core import companies, runtemplates

    company_id = companies.get(app.session, company).id if company else None
    application_id = resolve_app_id(app.session, app_id, app_uuid) if app_id or app_uuid else None
    page = runtemplates.list_run_templates(
        app.session,
        company_id=company_id,
        app_id=application_id,
        active=boolean_choice(active),
        limit=limit,
        offset=offset,
    )
    app.emit([views.run_template(rt) for rt in page.items], columns=COLUMNS)


@group.command("get")
@runtemplate_id_option()
@pass_app
def get(app: App, object_id: int) -> None:
    """Show a run template: settings, schedule, configuration (secrets as ***), credentials."""
    from multiflexi.core import runtemplates, schedules

    rt = runtemplates.get(app.session, object_id)
    data = views.run_template(rt, detail=True)
    data["schedule"] = schedules.describe(runtemplates.schedule_of(app.session, rt))
    app.emit(data)


@group.command("create")
@click.option("--name", default=None, help="Name (default: the application's).")
@company_option()
@app_options
@click.option(
    "--active",
    type=BOOL,
    default="true",
    show_default=True,
    help="Whether it may be launched and scheduled.",
)
@settings_options
@pass_app
def create(
    app: App,
    name: str | None,
    company: str,
    app_id: int | None,
    app_uuid: str | None,
    active: str,
    config: dict[str, str],
    **settings: Any,
) -> None:
    """Create a run template; prints {"runtemplate_id": N, ...}.

    The application is assigned to the company if it was not (the answer says so:
    "assigned_application": true, and a line on stderr). A second run template of
    the same name for the same company and application is refused.
    """
    from multiflexi.core import runtemplates

    application_id = resolve_app_id(app.session, app_id, app_uuid)
    rt = runtemplates.create(
        app.session,
        company=company,
        app_id=application_id,
        name=name,
        active=bool(boolean_choice(active)),
        values=config,
        actor=app.actor,
        **_given(settings),
    )
    if rt.assigned_application:
        app.message(f"Application {application_id} assigned to company {company}")
    app.emit(
        {"runtemplate_id": rt.id, "created": True, "assigned_application": rt.assigned_application}
    )


@group.command("update")
@runtemplate_id_option()
@click.option("--name", default=None, help="New name.")
@click.option("--active", type=BOOL, default=None, help="Activate or deactivate.")
@settings_options
@pass_app
def update(
    app: App,
    object_id: int,
    name: str | None,
    active: str | None,
    config: dict[str, str],
    **settings: Any,
) -> None:
    """Change settings, configuration values (--config) and the active flag.

    All of it or nothing: everything is checked first, and a refused part leaves
    the run template as it was.
    """
    from multiflexi.core import runtemplates

    changes = _given(settings)
    if name is not None:
        changes["name"] = name
    if not changes and not config and active is None:
        raise click.UsageError("nothing to change: give a setting, --config or --active")
    runtemplates.configure(
        app.session,
        object_id,
        actor=app.actor,
        changes=changes,
        values=config or None,
        active=None if active is None else bool(boolean_choice(active)),
    )
    app.emit({"runtemplate_id": object_id, "updated": True})


@group.command("delete")
@runtemplate_id_option()
@pass_app
def delete(app: App, object_id: int) -> None:
    """Delete a run template with its configuration, bindings and jobs."""
    from multiflexi.core import runtemplates

    runtemplates.delete(app.session, object_id, actor=app.actor)
    app.emit({"runtemplate_id": object_id, "deleted": True})


@group.command("schedule")
@runtemplate_id_option()
@click.option(
    "--env",
    "--config",
    "env",
    multiple=True,
    callback=parse_pairs,
    metavar="KEY=VALUE",
    help=(
        "One-time environment value for this job only (repeatable; stored encrypted). "
        "The value is visible in the process list (ps) while the command runs: give "
        "secrets with --env-file or --secret-stdin."
    ),
)
@click.option(
    "--env-file",
    "values_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help=(
        "One-time values from a file of KEY=value lines (as an env file; --env wins). "
        "After the command this is the launch's file; the settings file goes before the "
        "command or with -e."
    ),
)
@click.option(
    "--secret-stdin",
    "stdin_name",
    default=None,
    metavar="KEY",
    help="Read the one-time value of KEY from stdin (a secret: masked in the job's output).",
)
@click.option(
    "--secret",
    "secret_names",
    multiple=True,
    metavar="KEY",
    help="Treat this --env or --env-file value as a secret: masked in the job's output.",
)
@click.option(
    "--at",
    "--schedule-time",
    "at",
    default=None,
    callback=check_time,
    help="When: now (default), +30m, +2h, +1d, or an ISO time (MULTIFLEXI_TIMEZONE if no zone).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the job's output; exit with its exit code (75: a credential held it back).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --wait: give up after this many seconds (exit 124; the job keeps running).",
)
@pass_app
def schedule(
    app: App,
    object_id: int,
    env: dict[str, str],
    values_file: str | None,
    stdin_name: str | None,
    secret_names: tuple[str, ...],
    at: str | None,
    wait: bool,
    timeout: float | None,
) -> None:
    """Launch a run template now or at a time; prints {"job_id": N, ...}.

    One-time values (--env, --env-file, --secret-stdin) fill required fields the
    run template leaves empty; a launch still lacking some is refused, naming each.

    A job due now goes to the executors through Redis (REDIS_URL). When Redis
    cannot be reached the job is still recorded (queued) and the scheduler
    delivers it once Redis is reachable again: the answer is printed, a warning
    goes to stderr and the exit code is 0 (a script that retries on failure
    launches no duplicate); --wait keeps waiting, up to --timeout.
    A job for a later time (--at) needs no Redis now.
    """
    from multiflexi.core import jobs

    if timeout is not None and not wait:
        raise click.UsageError("--timeout only goes with --wait")
    overrides = _one_time_values(env, values_file, stdin_name)
    unknown = sorted(set(secret_names) - set(overrides))
    if unknown:
        raise click.UsageError(f"--secret {', '.join(unknown)}: no such --env or --env-file value")
    secret = set(secret_names) | ({stdin_name} if stdin_name else set())
    when = parse_time(at, app.settings.timezone) if at else None
    job = jobs.launch(
        app.session,
        object_id,
        actor=app.actor,
        overrides=overrides,
        secret_overrides=sorted(secret),
        at=when,
        schedule_type="adhoc-cli",
        redis=app.redis,
    )
    answer = {
        "job_id": job.id,
        "runtemplate_id": job.run_template_id,
        "scheduled": job.scheduled_at,
        "executor": job.executor,
        "state": job.state,
    }
    undelivered = job.undelivered
    if undelivered is not None:
        # the job exists and will run: a warning, not a failure (a retry would launch it twice)
        app.message(
            f"warning: job {job.id} is recorded ({job.state}); delivery is pending: "
            f"{undelivered}; the scheduler delivers it when Redis is reachable again"
        )
    if not wait:
        app.emit(answer)
        return
    from multiflexi.cli.follow import follow_job

    app.message(f"job {job.id} {job.state}; waiting for it to finish")
    code = follow_job(app, job.id, timeout=timeout, summary=answer, stop_when_held=True)
    raise SystemExit(code)


def _one_time_values(
    env: dict[str, str], values_file: str | None, stdin_name: str | None
) -> dict[str, str]:
    """The launch's one-time values: the file's, then --env's, then the one read from stdin."""
    values: dict[str, str] = {}
    if values_file is not None:
        from multiflexi.database import read_env_file

        values.update(read_env_file(values_file))
    values.update(env)
    if stdin_name is not None:
        if stdin_name in values:
            raise click.UsageError(
                f"--secret-stdin {stdin_name}: also given by --env or --env-file"
            )
        values[stdin_name] = _read_secret(stdin_name)
    return values


def _read_secret(name: str) -> str:
    """One value from stdin: typed without echo at a terminal, else all of the input
    (without the one line end that ``echo`` adds; a multi-line value keeps its lines)."""
    stream = sys.stdin
    if stream.isatty():
        value: str = click.prompt(name, hide_input=True, err=True)
        return value
    value = stream.read().removesuffix("\n").removesuffix("\r")
    if not value:
        raise click.UsageError(f"--secret-stdin {name}: stdin gave no value")
    return value


@group.command("preview")
@runtemplate_id_option()
@click.option(
    "--count",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many occurrences.",
)
@pass_app
def preview(app: App, object_id: int, count: int) -> None:
    """The next occurrences of the run template's schedule (UTC)."""
    from multiflexi.core import runtemplates

    times = runtemplates.preview(app.session, object_id, count)
    app.emit([{"at": t} for t in times])


@group.command("assign-credential")
@runtemplate_id_option()
@click.option("--credential-id", type=ID, required=True, help="Credential id.")
@pass_app
def assign_credential(app: App, object_id: int, credential_id: int) -> None:
    """Bind a company credential (it replaces one of the same kind)."""
    from multiflexi.core import credentials, runtemplates

    runtemplates.bind_credential(app.session, object_id, credential_id, actor=app.actor)
    credential = credentials.get(app.session, credential_id)
    app.emit(
        {
            "status": "ok",
            "runtemplate_id": object_id,
            "credential_id": credential_id,
            "prototype": credential.credential_type.prototype_code,
        }
    )


@group.command("unassign-credential")
@runtemplate_id_option()
@click.option("--credential-id", type=ID, required=True, help="Credential id.")
@pass_app
def unassign_credential(app: App, object_id: int, credential_id: int) -> None:
    """Unbind a credential (exit 3 when it was not bound)."""
    from multiflexi.core import runtemplates

    runtemplates.unbind_credential(app.session, object_id, credential_id, actor=app.actor)
    app.emit({"status": "ok", "runtemplate_id": object_id, "credential_id": credential_id})


@group.command("list-credentials")
@runtemplate_id_option()
@pass_app
def list_credentials(app: App, object_id: int) -> None:
    """The credentials bound to a run template (values redacted)."""
    from multiflexi.core import runtemplates

    found = runtemplates.credentials(app.session, object_id)
    app.emit(
        [views.credential(c) for c in found],
        columns=["id", "name", "prototype", "credential_type_id"],
    )


@group.command("stale")
@click.option(
    "--tolerance-hours",
    type=click.FloatRange(min=0),
    default=6,
    show_default=True,
    help="How overdue the next occurrence may be.",
)
@pass_app
def stale(app: App, tolerance_hours: float) -> None:
    """Active scheduled run templates whose next occurrence is overdue (stuck schedules)."""
    from multiflexi.core import housekeeping

    found = housekeeping.stale_run_templates(
        app.session, tolerance=dt.timedelta(hours=tolerance_hours)
    )
    app.emit(
        {
            "count": len(found),
            "stale": [
                {
                    "id": rt.id,
                    "name": rt.name,
                    "company_id": rt.company_id,
                    "next_schedule": rt.next_schedule,
                    "last_schedule": rt.last_schedule,
                }
                for rt in found
            ],
        }
    )


# -- actions after success and failure ---------------------------------------------------

#: the lists a --mode names (the original's "fail" is the failure list)
ACTION_MODES = ("success", "failure", "fail")
ACTION_COLUMNS = ["mode", "position", "action", "enabled", "options"]


def _action_rows(lists: dict[str, Any]) -> list[dict[str, Any]]:
    """Each action of the lists as one row (secret options already shown as ***)."""
    return [
        {
            "mode": mode,
            "position": a.position,
            "action": a.action,
            "enabled": a.enabled,
            "options": a.options,
            "known": a.known,
        }
        for mode, items in lists.items()
        for a in items
    ]


def _mode_option(required: bool) -> Callable[[F], F]:
    return click.option(
        "--mode",
        type=click.Choice(ACTION_MODES),
        required=required,
        default=None,
        help="The list: success (after a success) or failure (after anything else).",
    )


def _action_option(func: F) -> F:
    return click.option(
        "--action",
        "action",
        required=True,
        metavar="KIND",
        help="The kind of action: webhook, chain, reschedule, deactivate, or a plug-in.",
    )(func)


@group.command("actions")
@runtemplate_id_option()
@_mode_option(required=False)
@pass_app
def list_actions(app: App, object_id: int, mode: str | None) -> None:
    """The actions after success and after failure, in order (secret options as ***)."""
    from multiflexi.core import actions

    lists = actions.list_actions(app.session, app.actor, object_id, mode)
    app.emit(_action_rows(lists), columns=ACTION_COLUMNS)


@group.command("set-action")
@runtemplate_id_option()
@_mode_option(required=True)
@_action_option
@click.option(
    "--option",
    "options",
    multiple=True,
    callback=parse_pairs,
    metavar="NAME=VALUE",
    help=(
        "An option of the action (repeatable), e.g. url=https://... or delay=600. A secret "
        "one is visible in the process list while the command runs: give it with --secret-stdin."
    ),
)
@click.option(
    "--secret-stdin",
    "stdin_name",
    default=None,
    metavar="NAME",
    help="Read the value of option NAME from stdin (a webhook's url).",
)
@click.option(
    "--enabled",
    type=BOOL,
    default=None,
    help="Enable or disable it (default: a new one is enabled, an existing one stays).",
)
@pass_app
def set_action(
    app: App,
    object_id: int,
    mode: str,
    action: str,
    options: dict[str, str],
    stdin_name: str | None,
    enabled: str | None,
) -> None:
    """Add an action at the end of a list, or give the one of that kind new options.

    A secret option (a webhook's url) not given keeps its stored value. Prints the list.
    """
    from multiflexi.core import actions

    values: dict[str, Any] = dict(options)
    if stdin_name is not None:
        if stdin_name in values:
            raise click.UsageError(f"--secret-stdin {stdin_name}: also given by --option")
        values[stdin_name] = _read_secret(stdin_name)
    lists = actions.put_action(
        app.session,
        object_id,
        mode,
        action,
        values,
        enabled=boolean_choice(enabled),
        actor=app.actor,
    )
    app.emit(
        _action_rows({actions.mode_of(mode): lists[actions.mode_of(mode)]}), columns=ACTION_COLUMNS
    )


@group.command("remove-action")
@runtemplate_id_option()
@_mode_option(required=True)
@_action_option
@pass_app
def remove_action(app: App, object_id: int, mode: str, action: str) -> None:
    """Take an action out of a list (exit 3 when it is not in it). Prints the list."""
    from multiflexi.core import actions

    lists = actions.remove_action(app.session, object_id, mode, action, actor=app.actor)
    app.emit(
        _action_rows({actions.mode_of(mode): lists[actions.mode_of(mode)]}), columns=ACTION_COLUMNS
    )


@group.command("move-action")
@runtemplate_id_option()
@_mode_option(required=True)
@_action_option
@click.option(
    "--by",
    "step",
    type=int,
    required=True,
    help="Places to move: -1 earlier, 1 later (it stops at either end).",
)
@pass_app
def move_action(app: App, object_id: int, mode: str, action: str, step: int) -> None:
    """Move an action within its list. Prints the list."""
    from multiflexi.core import actions

    lists = actions.move_action(app.session, object_id, mode, action, step, actor=app.actor)
    app.emit(
        _action_rows({actions.mode_of(mode): lists[actions.mode_of(mode)]}), columns=ACTION_COLUMNS
    )


@group.command("action-kinds")
@pass_app
def action_kinds(app: App) -> None:
    """The kinds of actions: the built-in ones with their options, and installed plug-ins."""
    from multiflexi.core import actions

    app.emit(
        [
            {
                "name": k.name,
                "label": k.label,
                "builtin": k.builtin,
                "options": [
                    {
                        "name": o.name,
                        "type": o.type,
                        "required": o.required,
                        "default": o.default,
                        "secret": o.secret,
                        "help": o.help,
                    }
                    for o in k.options
                ],
                "help": k.help,
            }
            for k in actions.kinds()
        ],
        columns=["name", "label", "builtin", "help"],
    )
