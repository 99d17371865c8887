"""Following a job's output until it finishes (``schedule --wait``, ``job tail -f``).

The CLI follows with the core's loop (``multiflexi.core.output.follow``), polling the
database: no Redis subscription is needed, and what it prints is exactly what
``job get`` shows later (secrets already masked by the executor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App

if TYPE_CHECKING:
    from multiflexi.core.output import End

EXIT_TIMEOUT = 124


def exit_code_of(state: str, exit_code: int | None) -> int:
    """The exit code the CLI reports for a finished job: its own when it has one."""
    if state == "success":
        return exit_code or 0
    if exit_code:
        return exit_code
    return 1


def ending(end: End) -> str:
    """The line that says how a finished job ended, and why when the record says
    (a command that was not found, a timeout: more than its exit code tells)."""
    text = f"job {end.job_id} {end.state} (exit code {end.exit_code})"
    if end.exit_description:
        text += f": {end.exit_description}"
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
    from multiflexi.core import output

    streaming = app.fmt == "table"
    collected: list[dict[str, Any]] = []
    end: output.End | None = None
    for event in output.follow(
        app.session,
        job_id,
        after=after,
        timeout=timeout,
        until_finished=until_finished,
        stop_when_blocked=True,
        stop_when_held=stop_when_held,
    ):
        if isinstance(event, output.Line):
            if streaming:
                _print_line(event.stream, event.text)
            else:
                collected.append(views.output_line(event))
        elif isinstance(event, output.End):
            end = event
    assert end is not None  # following always ends with an End
    if end.reason == "timeout":
        result = dict(summary or {"job_id": job_id})
        result |= {
            "state": end.state,
            "exitcode": None,
            "exit_description": None,
            "timed_out": True,
            "block_reason": end.block_reason,
            "output": collected,
        }
        if not streaming:
            app.emit(result)
        app.error(
            "timeout",
            f"job {job_id} did not finish within {timeout:g} s (it is {end.state}; "
            "it keeps running)",
            code=EXIT_TIMEOUT,
        )
        return EXIT_TIMEOUT
    if end.reason == "held":
        return _held(app, end, summary, collected, streaming)
    finished = end.finished
    code = exit_code_of(end.state, end.exit_code) if finished else 0
    if streaming:
        if finished:
            app.message(ending(end))
    else:
        result = dict(summary or {"job_id": job_id})
        result |= {
            "state": end.state,
            "exitcode": end.exit_code,
            "exit_description": end.exit_description if finished else None,
            "timed_out": False,
            "block_reason": end.block_reason,
            "output": collected,
        }
        app.emit(result)
    return code


def _held(
    app: App,
    end: End,
    summary: dict[str, Any] | None,
    collected: list[dict[str, Any]],
    streaming: bool,
) -> int:
    """The credential gate held the job back: say why (stderr) and answer 75."""
    if not streaming:
        result = dict(summary or {"job_id": end.job_id})
        result |= {
            "state": end.state,
            "exitcode": None,
            "exit_description": None,
            "timed_out": False,
            "block_reason": end.block_reason,
            "output": collected,
        }
        app.emit(result)
    from multiflexi.core import availability

    note = availability.held_note(end.job_id, end.block_reason, end.state)
    app.error("blocked", note, code=availability.HELD_EXIT)
    return availability.HELD_EXIT
