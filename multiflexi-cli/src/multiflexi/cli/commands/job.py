"""``job``: runs of run templates: list, inspect with output, cancel, tail, delete."""

from __future__ import annotations

from typing import Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, LazyChoice, company_option, pagination

COLUMNS = ["id", "runtemplate_id", "state", "exitcode", "schedule_type", "scheduled_at"]
#: the original's --status names -> our states
STATUS_ALIASES = {
    "successful": ["success"],
    "pending": ["scheduled", "queued", "waiting", "blocked"],
}
OUTPUT_PAGE = 10_000


def _state_names() -> list[str]:
    """The core's job states, then the original's names (loaded when --state is checked)."""
    from multiflexi.core import jobs

    return [*jobs.STATES, *STATUS_ALIASES]


def _states(values: tuple[tuple[str, ...], ...]) -> list[str] | None:
    states: list[str] = []
    for words in values:
        for word in words:
            states.extend(STATUS_ALIASES.get(word, [word]))
    return states or None


@click.group("job")
def group() -> None:
    """Jobs: list, get (with output), cancel, tail (-f follows), delete."""


@group.command("list")
@click.option(
    "--state",
    "--status",
    "state",
    multiple=True,
    type=LazyChoice(_state_names, separator=","),
    help="Only jobs in this state (repeatable or comma-separated); the original's pending "
    "(not started yet) and successful work too.",
)
@company_option(required=False)
@click.option("--runtemplate-id", type=ID, default=None, help="Only jobs of this run template.")
@pagination(default_limit=50)
@pass_app
def list_(
    app: App,
    state: tuple[tuple[str, ...], ...],
    company: str | None,
    runtemplate_id: int | None,
    limit: int,
    offset: int,
) -> None:
    """List jobs, newest first."""
    from multiflexi.core import companies, jobs

    company_id = companies.get(app.session, company).id if company else None
    page = jobs.list_jobs(
        app.session,
        state=_states(state),
        company_id=company_id,
        run_template_id=runtemplate_id,
        limit=limit,
        offset=offset,
    )
    app.emit([views.job(j) for j in page.items], columns=COLUMNS)


def _redacted_environment(app: App, job: Any) -> dict[str, str] | None:
    """What the executor recorded (already redacted), else the environment it would get."""
    if job.environment is not None:
        return dict(job.environment)
    from multiflexi.core import jobenv
    from multiflexi.core.errors import MultiFlexiError

    try:
        return jobenv.assemble(app.session, job.run_template, job=job).redacted()
    except MultiFlexiError as exc:
        app.message(f"warning: the environment cannot be shown: {exc.message}")
        return None


@group.command("get")
@click.option("--id", "object_id", type=ID, required=True, help="Job id.")
@pass_app
def get(app: App, object_id: int) -> None:
    """Show a job: state, exit code, command, environment (redacted) and its output."""
    from multiflexi.core import jobs

    job = jobs.get(app.session, object_id)
    data = views.job(job)
    lines = jobs.output(app.session, object_id, limit=OUTPUT_PAGE)
    while len(lines) % OUTPUT_PAGE == 0 and lines:
        more = jobs.output(app.session, object_id, after=lines[-1].seq, limit=OUTPUT_PAGE)
        if not more:
            break
        lines.extend(more)
    data |= {
        "command": job.command,
        "environment": _redacted_environment(app, job),
        "stdout": "\n".join(line.text for line in lines if line.stream == "stdout"),
        "stderr": "\n".join(line.text for line in lines if line.stream == "stderr"),
    }
    if app.fmt == "table":
        app.emit(data)
        return
    data["output"] = [views.output_line(line) for line in lines]
    app.emit(data)


@group.command("cancel")
@click.option("--id", "object_id", type=ID, required=True, help="Job id.")
@pass_app
def cancel(app: App, object_id: int) -> None:
    """Cancel a job that has not finished (a running one is stopped by its worker)."""
    from multiflexi.core import jobs

    job = jobs.cancel(app.session, object_id, actor=app.actor)
    app.emit({"job_id": job.id, "state": job.state, "cancel_requested": job.cancel_requested})


@group.command("tail")
@click.option("--id", "object_id", type=ID, required=True, help="Job id.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing until the job finishes.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With -f: give up after this many seconds (exit 124).",
)
@pass_app
def tail(app: App, object_id: int, follow: bool, timeout: float | None) -> None:
    """Print a job's output; with -f, follow it live and exit with the job's exit code."""
    from multiflexi.cli.follow import follow_job

    code = follow_job(app, object_id, timeout=timeout, until_finished=follow)
    raise SystemExit(code if follow else 0)


@group.command("delete")
@click.option("--id", "object_id", type=ID, required=True, help="Job id.")
@pass_app
def delete(app: App, object_id: int) -> None:
    """Delete a job that is not queued or running, with its output."""
    from multiflexi.core import housekeeping

    housekeeping.delete_job(app.session, object_id, actor=app.actor)
    app.emit({"job_id": object_id, "deleted": True})
