"""``prune``: delete old finished jobs, or only their output."""

from __future__ import annotations

import datetime as dt

import click

from multiflexi.cli.context import App, pass_app


@click.command("prune")
@click.option("--jobs", "prune_jobs", is_flag=True, help="Delete old finished jobs.")
@click.option("--output", "prune_output", is_flag=True, help="Delete only their output lines.")
@click.option(
    "--keep",
    type=click.IntRange(min=0),
    default=None,
    help="Keep the newest N finished jobs (default 1000 when no --older-than-days).",
)
@click.option(
    "--older-than-days",
    type=click.IntRange(min=0),
    default=None,
    help="Only jobs that finished more than this many days ago.",
)
@click.option("--dry-run", is_flag=True, help="Only count what would go.")
@pass_app
def command(
    app: App,
    prune_jobs: bool,
    prune_output: bool,
    keep: int | None,
    older_than_days: int | None,
    dry_run: bool,
) -> None:
    """Delete finished jobs beyond the newest --keep and/or older than --older-than-days.

    Jobs that have not finished are never touched. The audit log is not pruned.
    """
    from multiflexi.core import housekeeping

    if prune_jobs == prune_output:
        raise click.UsageError("give exactly one of --jobs or --output")
    if keep is None and older_than_days is None:
        keep = housekeeping.DEFAULT_KEEP
    cutoff = (
        None
        if older_than_days is None
        else dt.datetime.now(dt.UTC) - dt.timedelta(days=older_than_days)
    )
    result = housekeeping.prune(
        app.session,
        actor=app.actor,
        keep=keep,
        older_than=cutoff,
        output_only=prune_output,
        dry_run=dry_run,
    )
    app.emit(
        {
            "jobs_deleted": result.jobs_deleted,
            "output_lines_deleted": result.output_lines_deleted,
            "dry_run": result.dry_run,
        }
    )
