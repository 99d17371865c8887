"""Following a job's output until it finishes (``schedule --wait``, ``job tail -f``).

The CLI reads the output lines the executor stores (``multiflexi.core.jobs.output``),
polling the database: no Redis subscription is needed, and what it prints is
exactly what ``job get`` shows later (secrets already masked by the executor).
"""

from __future__ import annotations

import time
from typing import Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App

POLL_SECONDS = 0.5
EXIT_TIMEOUT = 124


def exit_code_of(state: str, exit_code: int | None) -> int:
    """The exit code the CLI reports for a finished job: its own when it has one."""
    if state == "success":
        return exit_code or 0
    if exit_code:
        return exit_code
    return 1


def ending(job: Any) -> str:
    """The line that says how a finished job ended, and why when the record says
    (a command that was not found, a timeout: more than its exit code tells)."""
    text = f"job {job.id} {job.state} (exit code {job.exit_code})"
    if job.exit_description:
        text += f": {job.exit_description}"
    return text


def _print_line(stream: str, text: str) -> None:
    click.echo(text, err=stream == "stderr")


def follow_job(
    app: App,
    job_id: int,
    *,
    timeout: float | None = None,
    summary: dict[str, Any] | None = None,
    after: int = 0,
    until_finished: bool = True,
    stop_when_held: bool = False,
) -> int:
    """Print (table) or collect (json, yaml) output lines until the job is final.

    Returns the job's exit code, or 124 when ``timeout`` seconds passed first, or 75
    when the credential gate holds the job back: it is ``blocked``, or, with
    ``stop_when_held`` (a job this command launched), it was held at all (it may be
    ``scheduled`` again for a later attempt). In JSON and YAML the result is one
    object at the end: ``summary`` with the job's ``state``, ``exitcode``,
    ``block_reason`` and its ``output`` lines.
    """
    from multiflexi.core import jobs

    session = app.session
    streaming = app.fmt == "table"
    deadline = None if timeout is None else time.monotonic() + timeout
    collected: list[dict[str, Any]] = []
    last = after
    while True:
        session.rollback()  # end the read transaction: see what the executor wrote since
        job = jobs.get(session, job_id)
        finished = job.state in jobs.FINAL_STATES
        lines = jobs.output(session, job_id, after=last, limit=1000)
        for line in lines:
            last = line.seq
            if streaming:
                _print_line(line.stream, line.text)
            else:
                collected.append(views.output_line(line))
        if (
            not finished
            and until_finished
            and deadline is not None
            and time.monotonic() >= deadline
        ):
            result = dict(summary or {"job_id": job_id})
            result |= {
                "state": job.state,
                "exitcode": None,
                "exit_description": None,
                "timed_out": True,
                "block_reason": job.block_reason,
                "output": collected,
            }
            if not streaming:
                app.emit(result)
            app.error(
                "timeout",
                f"job {job_id} did not finish within {timeout:g} s (it is {job.state}; "
                "it keeps running)",
                code=EXIT_TIMEOUT,
            )
            return EXIT_TIMEOUT
        if lines:
            continue
        if finished or not until_finished:
            break
        if job.state == "blocked" or (stop_when_held and job.blocked_at is not None):
            return _held(app, job, summary, collected, streaming)
        time.sleep(POLL_SECONDS)
    code = exit_code_of(job.state, job.exit_code) if finished else 0
    if streaming:
        if finished:
            app.message(ending(job))
    else:
        result = dict(summary or {"job_id": job_id})
        result |= {
            "state": job.state,
            "exitcode": job.exit_code,
            "exit_description": job.exit_description if finished else None,
            "timed_out": False,
            "block_reason": job.block_reason,
            "output": collected,
        }
        app.emit(result)
    return code


def _held(
    app: App,
    job: Any,
    summary: dict[str, Any] | None,
    collected: list[dict[str, Any]],
    streaming: bool,
) -> int:
    """The credential gate held the job back: say why (stderr) and answer 75."""
    if not streaming:
        result = dict(summary or {"job_id": job.id})
        result |= {
            "state": job.state,
            "exitcode": None,
            "exit_description": None,
            "timed_out": False,
            "block_reason": job.block_reason,
            "output": collected,
        }
        app.emit(result)
    from multiflexi.core import availability

    note = availability.held_note(job.id, job.block_reason, job.state)
    app.error("blocked", note, code=availability.HELD_EXIT)
    return availability.HELD_EXIT
