"""What a person browsing jobs reads, for every face that shows jobs to people (the web
UI first): the filtered job list with the names its rows show, one job with everything
its page shows, the whole output as text, and running a job again.

Access is decided here through :mod:`multiflexi.core.loaders` and
:mod:`multiflexi.core.access` for the actor given: a job of a company the actor has no
role in is NotFound, and :attr:`JobDetail.can_change` tells a face whether to offer the
actions (which refuse a reader anyway).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import access, job_artifacts, jobenv, jobs, lifecycle, loaders, scheduling
from multiflexi.core.audit import Actor
from multiflexi.core.errors import FieldError, ValidationError
from multiflexi.core.models import Application, Artifact, Company, Job, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page
from multiflexi.database.tables import utc_now as now

if TYPE_CHECKING:
    from redis import Redis

#: what launched a job, by the schedule types the jobs table records for it
TRIGGERS: Mapping[str, frozenset[str]] = {
    "scheduler": scheduling.SCHEDULER_TYPES,
    "manual": frozenset({"adhoc", "adhoc-web"}),
    "api": frozenset({"adhoc-api"}),
    "cli": frozenset({"adhoc-cli"}),
    "action": frozenset({"chained", "reschedule"}),
    "retry": frozenset({"retry"}),
}
#: how many run templates the job list offers to choose from (by name); more are
#: still reached by id (the ``run_template`` filter of a link)
CHOICES_LIMIT = 1000
#: lines read per query when writing the whole output
OUTPUT_BATCH = 5000


def trigger_of(schedule_type: str) -> str:
    """The trigger a recorded schedule type belongs to (the type itself if none)."""
    for trigger, types in TRIGGERS.items():
        if schedule_type in types:
            return trigger
    return schedule_type


@dataclasses.dataclass(frozen=True)
class JobFilter:
    """The job list's filters; an empty one lists every job the actor may see."""

    states: tuple[str, ...] = ()
    company_id: int | None = None
    application_id: int | None = None
    run_template_id: int | None = None
    launched_by: str | None = None
    trigger: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class JobRow:
    """A job as one row of the list: the job and the names of what it belongs to."""

    job: Job
    run_template: str
    application: str
    company: str

    @property
    def trigger(self) -> str:
        return trigger_of(self.job.schedule_type)

    @property
    def duration(self) -> float | None:
        return _duration(self.job)


@dataclasses.dataclass(frozen=True)
class Choices:
    """What the list's filter form offers: (id, name) pairs the actor may see."""

    companies: list[tuple[int, str]]
    applications: list[tuple[int, str]]
    run_templates: list[tuple[int, str]]
    states: tuple[str, ...] = jobs.STATES
    triggers: tuple[str, ...] = tuple(TRIGGERS)


@dataclasses.dataclass(frozen=True)
class JobList:
    page: Page[JobRow]
    choices: Choices


def _duration(job: Job) -> float | None:
    if job.started_at is None:
        return None
    end = job.finished_at or now()
    return max(0.0, (end - job.started_at).total_seconds())


def _check(session: Session, actor: Actor, filters: JobFilter) -> None:
    """Refuse a filter value that names nothing the actor may see (each beside its field)."""
    problems: list[FieldError] = []
    unknown = sorted(set(filters.states) - set(jobs.STATES))
    problems += [FieldError("state", msg("unknown state {s!r}", s=s)) for s in unknown]
    if filters.trigger is not None and filters.trigger not in TRIGGERS:
        problems.append(
            FieldError(
                "trigger",
                msg(
                    "unknown trigger {trigger!r} (one of {choices})",
                    trigger=filters.trigger,
                    choices=", ".join(TRIGGERS),
                ),
            )
        )
    for name, value in (("since", filters.since), ("until", filters.until)):
        if value is not None and value.tzinfo is None:
            problems.append(FieldError(name, msg("give a time with a time zone")))
    if (
        filters.since is not None
        and filters.until is not None
        and filters.since.tzinfo is not None
        and filters.until.tzinfo is not None
        and filters.until <= filters.since
    ):
        problems.append(FieldError("until", msg("must be later than the start of the range")))
    if filters.company_id is not None and not _visible_company(session, actor, filters.company_id):
        problems.append(
            FieldError("company", msg("no company {company_id}", company_id=filters.company_id))
        )
    if (
        filters.application_id is not None
        and session.get(Application, filters.application_id) is None
    ):
        problems.append(
            FieldError(
                "application",
                msg("no application {application_id}", application_id=filters.application_id),
            )
        )
    if filters.run_template_id is not None:
        rt = session.get(RunTemplate, filters.run_template_id)
        if rt is None or not access.can_read(actor, rt.company_id):
            problems.append(
                FieldError(
                    "run_template",
                    msg(
                        "no run template {run_template_id}", run_template_id=filters.run_template_id
                    ),
                )
            )
    if problems:
        raise ValidationError(msg("bad filter"), problems)


def _visible_company(session: Session, actor: Actor, company_id: int) -> bool:
    return session.get(Company, company_id) is not None and access.can_read(actor, company_id)


def _names(session: Session, job_ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
    """Job id -> (run template, application, company) names, in one query."""
    if not job_ids:
        return {}
    rows = session.execute(
        sa.select(Job.id, RunTemplate.name, Application.name, Company.name)
        .join(RunTemplate, RunTemplate.id == Job.run_template_id)
        .join(Application, Application.id == Job.application_id)
        .join(Company, Company.id == Job.company_id)
        .where(Job.id.in_(job_ids))
    )
    return {job_id: (rt, app, company) for job_id, rt, app, company in rows}


def choices(session: Session, actor: Actor) -> Choices:
    """The companies, applications and run templates the filter form offers."""
    visible = access.visible_company_ids(actor)
    company_query = sa.select(Company.id, Company.name).order_by(Company.name, Company.id)
    rt_query = (
        sa.select(RunTemplate.id, RunTemplate.name, Company.name)
        .join(Company, Company.id == RunTemplate.company_id)
        .order_by(RunTemplate.name, RunTemplate.id)
        .limit(CHOICES_LIMIT)
    )
    if visible is not None:
        company_query = company_query.where(Company.id.in_(visible))
        rt_query = rt_query.where(RunTemplate.company_id.in_(visible))
    apps = session.execute(
        sa.select(Application.id, Application.name).order_by(Application.name, Application.id)
    )
    return Choices(
        companies=[(row.id, row.name) for row in session.execute(company_query)],
        applications=[(row.id, row.name) for row in apps],
        run_templates=[(i, f"{rt} ({company})") for i, rt, company in session.execute(rt_query)],
    )


def search(
    session: Session, actor: Actor, filters: JobFilter, *, limit: int = 50, offset: int = 0
) -> Page[JobRow]:
    """One page of the jobs the actor may see that match ``filters``, newest first.

    A filter value that names nothing the actor may see (an unknown state or trigger, a
    company of another tenant, an empty time range) is a ValidationError naming the field.
    """
    _check(session, actor, filters)
    found = jobs.list_jobs(
        session,
        state=filters.states or None,
        company_id=filters.company_id,
        run_template_id=filters.run_template_id,
        application_id=filters.application_id,
        launched_by=filters.launched_by,
        schedule_types=None if filters.trigger is None else TRIGGERS[filters.trigger],
        since=filters.since,
        until=filters.until,
        company_ids=access.visible_company_ids(actor),
        limit=limit,
        offset=offset,
    )
    names = _names(session, [job.id for job in found.items])
    rows = [JobRow(job, *names.get(job.id, ("?", "?", "?"))) for job in found.items]
    return Page(rows, found.total, found.limit, found.offset)


def job_list(
    session: Session, actor: Actor, filters: JobFilter, *, limit: int = 50, offset: int = 0
) -> JobList:
    """:func:`search` and the form's :func:`choices`: what the job list page shows."""
    return JobList(
        search(session, actor, filters, limit=limit, offset=offset), choices(session, actor)
    )


# -- one job -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class JobDetail:
    """A job with everything its page shows. ``command`` and ``environment`` are as the
    executor stored them: secrets masked (``***``)."""

    job: Job
    run_template: str
    application: str
    company: str
    exit_meaning: str | None
    severity: str | None
    previous_id: int | None
    next_id: int | None
    artifacts: list[Artifact]
    one_time_values: list[tuple[str, bool]]
    can_change: bool

    @property
    def trigger(self) -> str:
        return trigger_of(self.job.schedule_type)

    @property
    def duration(self) -> float | None:
        return _duration(self.job)

    @property
    def finished(self) -> bool:
        return self.job.state in jobs.FINAL_STATES

    @property
    def can_cancel(self) -> bool:
        return self.can_change and not self.finished

    @property
    def can_relaunch(self) -> bool:
        return self.can_change


def neighbours(session: Session, job: Job) -> tuple[int | None, int | None]:
    """The previous and the next job of the same run template (by id)."""
    same = Job.run_template_id == job.run_template_id
    before = session.scalar(sa.select(sa.func.max(Job.id)).where(same, Job.id < job.id))
    after = session.scalar(sa.select(sa.func.min(Job.id)).where(same, Job.id > job.id))
    return before, after


def detail(session: Session, actor: Actor, job_id: int) -> JobDetail:
    """One job the actor may read, with names, neighbours, artifacts and exit meaning."""
    job = loaders.job(session, actor, job_id)
    rt, app, company = _names(session, [job.id]).get(job.id, ("?", "?", "?"))
    meaning, severity = job.exit_description, job.severity
    if job.exit_code is not None and meaning is None:
        meaning, found_severity = lifecycle.describe(session, job.application_id, job.exit_code)
        severity = severity or found_severity
    values, secret = jobenv.overrides_of(session, job)
    previous_id, next_id = neighbours(session, job)
    return JobDetail(
        job=job,
        run_template=rt,
        application=app,
        company=company,
        exit_meaning=meaning,
        severity=severity,
        previous_id=previous_id,
        next_id=next_id,
        artifacts=job_artifacts.list_for_job(session, job.id),
        one_time_values=[(name, name in secret) for name in sorted(values)],
        can_change=access.can_write(actor, job.company_id),
    )


def output_text(session: Session, actor: Actor, job_id: int) -> Iterator[str]:
    """The job's whole stored output as text, one line at a time (each ends with a newline).

    stderr and other streams than stdout are marked at the start of their lines. The
    job is loaded (and access checked) before the first line is read; lines are read in
    batches, so a long output never sits in memory whole.
    """
    job = loaders.job(session, actor, job_id)

    def lines() -> Iterator[str]:
        after = 0
        while True:
            batch = jobs.output(session, job.id, after=after, limit=OUTPUT_BATCH)
            for line in batch:
                mark = "" if line.stream == "stdout" else f"[{line.stream}] "
                yield f"{mark}{line.text}\n"
            if len(batch) < OUTPUT_BATCH:
                return
            after = batch[-1].seq

    return lines()


def relaunch(
    session: Session,
    actor: Actor,
    job_id: int,
    *,
    schedule_type: str = "adhoc",
    redis: Redis | None = None,
) -> Job:
    """Run a job's run template again now, with the job's one-time values (sealed again
    for the new job, secret ones still secret). The actor needs write access; the run
    template's launch rules apply (active, completely configured)."""
    job = loaders.job(session, actor, job_id, access.WRITE)
    values, secret = jobenv.overrides_of(session, job)
    return jobs.launch(
        session,
        job.run_template_id,
        actor=actor,
        overrides=values,
        secret_overrides=secret,
        schedule_type=schedule_type,
        redis=redis,
    )


def cancel(session: Session, actor: Actor, job_id: int) -> Job:
    """Cancel a job the actor may change (:func:`multiflexi.core.jobs.cancel`'s rules)."""
    job = loaders.job(session, actor, job_id, access.WRITE)
    return jobs.cancel(session, job.id, actor=actor)


def artifact(
    session: Session, actor: Actor, job_id: int, artifact_id: int
) -> tuple[Artifact, bytes | Path]:
    """One artifact of a job the actor may read, with its content (bytes or a file)."""
    job = loaders.job(session, actor, job_id)
    found = job_artifacts.get(session, job.id, artifact_id)
    return found, job_artifacts.content(found)


__all__ = [
    "CHOICES_LIMIT",
    "TRIGGERS",
    "Choices",
    "JobDetail",
    "JobFilter",
    "JobList",
    "JobRow",
    "artifact",
    "cancel",
    "choices",
    "detail",
    "job_list",
    "neighbours",
    "output_text",
    "relaunch",
    "search",
    "trigger_of",
]
