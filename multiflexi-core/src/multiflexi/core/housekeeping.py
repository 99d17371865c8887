"""Housekeeping: deleting and pruning job history, job counters, stale schedules, manifests.

Each function is one audited business action in one transaction, for the
faces that offer it (the CLI's ``job delete``, ``prune``, ``queue fix``,
``run-template stale`` and ``application remove-json``). Only finished jobs
are pruned; a job that is still running (or queued) must be cancelled first,
so no worker ever loses the row it is working on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import apps, audit, jobcounts, jobs
from multiflexi.core.audit import Actor
from multiflexi.core.errors import FieldError, InvalidTransition, NotFound, ValidationError
from multiflexi.core.manifests import Source, parse_manifest
from multiflexi.core.models import Application, Job, JobOutputLine, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import rowcount, transaction

#: states in which a job may be deleted: nothing works on it and nothing will
DELETABLE_STATES = frozenset({*jobs.FINAL_STATES, "scheduled", "blocked"})
#: how many finished jobs ``prune`` keeps when not told otherwise (the original's default)
DEFAULT_KEEP = 1000
#: the original's watchdog tolerance for ``run-template stale``
DEFAULT_STALE_TOLERANCE = dt.timedelta(hours=6)

_COUNTERS = {
    "success": RunTemplate.success_count,
    "failed": RunTemplate.failure_count,
    "lost": RunTemplate.failure_count,
}


@dataclasses.dataclass(frozen=True)
class PruneResult:
    """What :func:`prune` removed (or, with ``dry_run``, would remove)."""

    jobs_deleted: int
    output_lines_deleted: int
    dry_run: bool


def _uncount(session: Session, job: Job) -> None:
    counter = _COUNTERS.get(job.state)
    if counter is None:
        return
    session.execute(
        sa.update(RunTemplate)
        .where(RunTemplate.id == job.run_template_id, counter > 0)
        .values({counter: counter - 1})
        .execution_options(synchronize_session=False)
    )


def delete_job(session: Session, job_id: int, *, actor: Actor) -> None:
    """Delete one job with its output and artifacts.

    A finished job also leaves its run template's success or failure count;
    a scheduled one releases the run template's schedule so the scheduler
    plans again. A queued, waiting or running job is refused: cancel it first.
    """
    job = jobs.get(session, job_id)
    if job.state not in DELETABLE_STATES:
        raise InvalidTransition(
            msg(
                "job {job_id} is {state}; cancel it before deleting it",
                job_id=job_id,
                state=job.state,
            )
        )
    with transaction(session):
        _uncount(session, job)
        if job.state in ("scheduled", "blocked"):
            jobs.release_schedule(session, job)
        audit.record(
            session,
            actor,
            "delete",
            "job",
            job.id,
            company_id=job.company_id,
            details={"run_template_id": job.run_template_id, "state": job.state},
        )
        session.execute(sa.delete(JobOutputLine).where(JobOutputLine.job_id == job.id))
        deleted = session.execute(
            sa.delete(Job).where(Job.id == job.id).execution_options(synchronize_session=False)
        )
        jobcounts.add(session, {job.company_id: -rowcount(deleted)})
    session.expunge(job)


def _prunable(keep: int | None, older_than: dt.datetime | None) -> sa.Select[int, int]:
    query = sa.select(Job.id, Job.company_id).where(Job.state.in_(sorted(jobs.FINAL_STATES)))
    if keep is not None:
        newest = (
            sa.select(Job.id)
            .where(Job.state.in_(sorted(jobs.FINAL_STATES)))
            .order_by(Job.id.desc())
            .limit(keep)
        )
        query = query.where(Job.id.not_in(newest.scalar_subquery()))
    if older_than is not None:
        query = query.where(sa.func.coalesce(Job.finished_at, Job.scheduled_at) < older_than)
    return query


def prune(
    session: Session,
    *,
    actor: Actor,
    keep: int | None = DEFAULT_KEEP,
    older_than: dt.datetime | None = None,
    output_only: bool = False,
    dry_run: bool = False,
) -> PruneResult:
    """Delete old finished jobs (or only their output lines).

    A finished job is pruned when it is not among the newest ``keep`` finished
    jobs and, with ``older_than``, finished before that time; both limits
    apply when both are given. Run template counters keep counting pruned jobs
    (they are history, not mistakes); the companies' job counters (the totals of
    job lists) lose them. Jobs that are not finished are never touched.
    """
    if keep is None and older_than is None:
        raise ValidationError(msg("nothing to prune"), ["give a number of jobs to keep or an age"])
    if keep is not None and keep < 0:
        raise ValidationError(msg("nothing pruned"), [("keep", msg("must be 0 or more"))])
    if older_than is not None and older_than.tzinfo is None:
        raise ValidationError(
            msg("nothing pruned"),
            [FieldError("older_than", msg("give a time with a time zone"), "older than")],
        )
    found = session.execute(_prunable(keep, older_than)).all()
    ids = [job_id for job_id, _company_id in found]
    lines = 0
    if ids:
        lines = (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(JobOutputLine)
                .where(JobOutputLine.job_id.in_(ids))
            )
            or 0
        )
    result = PruneResult(0 if output_only else len(ids), lines, dry_run)
    if dry_run or not ids:
        return result
    by_company: dict[int, list[int]] = {}
    for job_id, company_id in found:
        by_company.setdefault(company_id, []).append(job_id)
    removed: dict[int, int] = {}
    with transaction(session):
        for company_id, job_ids in sorted(by_company.items()):
            for start in range(0, len(job_ids), 500):
                chunk = job_ids[start : start + 500]
                session.execute(sa.delete(JobOutputLine).where(JobOutputLine.job_id.in_(chunk)))
                if output_only:
                    session.execute(
                        sa.update(Job)
                        .where(Job.id.in_(chunk))
                        .values(output_lines=0)
                        .execution_options(synchronize_session=False)
                    )
                else:
                    deleted = session.execute(
                        sa.delete(Job)
                        .where(Job.id.in_(chunk))
                        .execution_options(synchronize_session=False)
                    )
                    # what this transaction really deleted (a concurrent delete is not ours)
                    removed[company_id] = removed.get(company_id, 0) - rowcount(deleted)
        jobcounts.add(session, removed)
        audit.record(
            session,
            actor,
            "prune",
            "job",
            details={
                "jobs_deleted": result.jobs_deleted,
                "output_lines_deleted": lines,
                "keep": keep,
                "older_than": None if older_than is None else older_than.isoformat(),
                "output_only": output_only,
            },
        )
    session.expire_all()
    return result


def recount_jobs(session: Session, *, actor: Actor) -> dict[int, tuple[int | None, int]]:
    """Rebuild every company's job counter from its jobs; returns the corrections.

    The counters (table ``job_counts``, the totals of job lists) are kept exact
    by every change the core makes to jobs; this repairs them after changes made
    behind its back (a bulk load, a manual ``DELETE``, a restored backup). Returns
    company id -> (what the counter said, None when it had none; the real number),
    only for the companies whose counter was wrong. A repair is audited.
    """
    with transaction(session):
        corrections = jobcounts.recount(session)
        if corrections:
            audit.record(
                session,
                actor,
                "recount",
                "job_counts",
                details={
                    "corrections": {
                        str(company_id): {"was": was, "now": now}
                        for company_id, (was, now) in corrections.items()
                    }
                },
            )
    return corrections


def stale_run_templates(
    session: Session,
    *,
    tolerance: dt.timedelta = DEFAULT_STALE_TOLERANCE,
    now: dt.datetime | None = None,
) -> list[RunTemplate]:
    """Active, scheduled run templates whose next occurrence is overdue by more than ``tolerance``.

    The scheduler moves ``next_schedule`` on; one left far in the past means
    the schedule is stuck (the original's watchdog input).
    """
    if tolerance < dt.timedelta(0):
        raise ValidationError(msg("bad tolerance"), [("tolerance", msg("must not be negative"))])
    moment = now or jobs.now()
    return list(
        session.scalars(
            sa.select(RunTemplate)
            .where(
                RunTemplate.active.is_(True),
                RunTemplate.interval_code != "n",
                RunTemplate.next_schedule.is_not(None),
                RunTemplate.next_schedule < moment - tolerance,
            )
            .order_by(RunTemplate.id)
        )
    )


def remove_manifest(
    session: Session, source: Source, *, actor: Actor, force: bool = False
) -> tuple[int, int]:
    """Delete the application a manifest describes (matched by uuid, then name).

    Returns (application id, run templates removed). Refused, as
    :func:`multiflexi.core.apps.delete` refuses, while run templates use it
    unless ``force``.
    """
    manifest = parse_manifest(source).manifest
    app: Application | None = None
    if manifest.uuid:
        app = session.scalar(sa.select(Application).where(Application.uuid == manifest.uuid))
    if app is None:
        app = session.scalar(sa.select(Application).where(Application.name == manifest.name.text))
    if app is None:
        raise NotFound("application", manifest.uuid or manifest.name.text)
    app_id = app.id
    removed = apps.delete(session, app_id, actor=actor, force=force)
    return app_id, removed


__all__ = [
    "DEFAULT_KEEP",
    "DEFAULT_STALE_TOLERANCE",
    "DELETABLE_STATES",
    "PruneResult",
    "delete_job",
    "prune",
    "recount_jobs",
    "remove_manifest",
    "stale_run_templates",
]
