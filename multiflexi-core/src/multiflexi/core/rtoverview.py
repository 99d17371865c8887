"""What the faces show about run templates at a glance, read in few statements.

- :func:`recent_outcomes`: the last runs of many run templates in one statement;
- :func:`overview`: a page of run templates with their application, company,
  schedule in words, next run and recent outcomes (a fixed number of statements
  per page, whatever its length);
- :func:`next_runs` and :func:`preview_schedule`: the coming occurrences of a
  stored schedule, and of one being edited (its problems as the core states them);
- :func:`credential_choices`: the company's credentials that satisfy what the
  application requires, each with its availability.

Nothing here changes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from multiflexi.core import availability, jobenv, runtemplates, schedules
from multiflexi.core import jobs as job_list
from multiflexi.core.errors import ValidationError
from multiflexi.core.models import (
    Application,
    Company,
    Credential,
    CredentialType,
    Job,
    RunTemplate,
)
from multiflexi.core.unit import Page, rows
from multiflexi.database.tables import utc_now

#: how many past runs a list shows per run template
RECENT = 20
#: run templates whose recent runs one statement reads (a page of a list is at most this long)
_PER_STATEMENT = 500
#: a job in this state has not run yet: it is not an outcome
_NOT_RUN = ("scheduled",)

_JOBS: sa.Table = Job.__table__
_RUN_TEMPLATES: sa.Table = RunTemplate.__table__


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One past (or running) job of a run template: what a small coloured mark shows."""

    job_id: int
    state: str
    exit_code: int | None
    #: when it finished, else started, else was due (UTC)
    at: dt.datetime


def _recent_statement(n: int) -> sa.Select:
    """The last ``n`` runs of each run template of the ``ids`` parameter, in one statement
    of one shape whatever their number: for each run template the id of its n-th newest
    run (a backwards read of n entries of the (run_template_id, id) index), then its runs
    from that id on (a range of the same index)."""
    newer = _JOBS.alias("newer")
    nth_newest = (
        sa.select(newer.c.id)
        .where(newer.c.run_template_id == _RUN_TEMPLATES.c.id, newer.c.state.not_in(_NOT_RUN))
        .order_by(newer.c.id.desc())
        .limit(1)
        .offset(n - 1)
        .scalar_subquery()
    )
    cutoffs = (
        sa.select(
            _RUN_TEMPLATES.c.id.label("rt_id"), sa.func.coalesce(nth_newest, 0).label("first_id")
        )
        .where(_RUN_TEMPLATES.c.id.in_(sa.bindparam("ids", expanding=True)))
        .subquery("cutoffs")
    )
    return (
        sa.select(
            _JOBS.c.id,
            _JOBS.c.run_template_id,
            _JOBS.c.state,
            _JOBS.c.exit_code,
            _JOBS.c.finished_at,
            _JOBS.c.started_at,
            _JOBS.c.scheduled_at,
        )
        .select_from(
            _JOBS.join(
                cutoffs,
                sa.and_(
                    _JOBS.c.run_template_id == cutoffs.c.rt_id,
                    _JOBS.c.id >= cutoffs.c.first_id,
                ),
            )
        )
        .where(_JOBS.c.state.not_in(_NOT_RUN))
    )


#: the statement of :func:`recent_outcomes` for the usual number of runs
_RECENT_STATEMENT = _recent_statement(RECENT)


def recent_outcomes(
    session: Session, rt_ids: Iterable[int], n: int = RECENT
) -> dict[int, list[Outcome]]:
    """run template id -> its last ``n`` runs, newest first (jobs not yet due are not
    runs); a run template without runs maps to an empty list. One statement for up to
    500 run templates (a page of a list)."""
    ids = sorted(set(rt_ids))
    found: dict[int, list[Outcome]] = {rt_id: [] for rt_id in ids}
    if n <= 0:
        return found
    for start in range(0, len(ids), _PER_STATEMENT):
        chunk = ids[start : start + _PER_STATEMENT]
        statement = _RECENT_STATEMENT if n == RECENT else _recent_statement(n)
        for row in rows(session, statement, {"ids": chunk}):
            at = row.finished_at or row.started_at or row.scheduled_at
            found[row.run_template_id].append(Outcome(row.id, row.state, row.exit_code, at))
    for outcomes in found.values():
        outcomes.sort(key=lambda outcome: outcome.job_id, reverse=True)
    return found


@dataclasses.dataclass(frozen=True)
class Summary:
    """One run template as a list shows it."""

    run_template: RunTemplate
    application: str
    version: str | None
    company: str
    #: the schedule in words (schedules.describe)
    schedule: str
    #: the next occurrence of its schedule; None when it is inactive or only launched by hand
    next_run: dt.datetime | None
    outcomes: list[Outcome]


def describe(session: Session, run_template: RunTemplate) -> str:
    """The run template's schedule in words (a stored schedule the rules no longer
    accept is said to be invalid, with the reason)."""
    try:
        return schedules.describe(runtemplates.schedule_of(session, run_template))
    except ValidationError as exc:
        return f"invalid schedule: {'; '.join(exc.errors) or exc.summary}"


def next_runs(
    session: Session, run_template: RunTemplate, count: int = 1, now: dt.datetime | None = None
) -> list[dt.datetime]:
    """The next ``count`` occurrences (UTC) of an active, scheduled run template; none for
    one that is inactive, launched only by hand, or whose stored schedule is invalid."""
    if not run_template.active or run_template.interval_code == runtemplates.MANUAL:
        return []
    try:
        schedule = runtemplates.schedule_of(session, run_template)
    except ValidationError:
        return []
    return schedules.preview(schedule, now or utc_now(), max(0, min(count, 1000)))


def overview(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    limit: int = 50,
    offset: int = 0,
    recent: int = RECENT,
    now: dt.datetime | None = None,
) -> Page[Summary]:
    """A page of run templates (by id; ``company_ids``: the companies a caller may see)
    with what a list shows of each. The statements do not grow with the page: the
    page, the applications and companies it names, and the recent runs of all."""
    page = runtemplates.list_run_templates(
        session, company_id=company_id, company_ids=company_ids, limit=limit, offset=offset
    )
    items = list(page.items)
    app_ids = {rt.application_id for rt in items}
    owner_ids = {rt.company_id for rt in items}
    apps = {
        app.id: app
        for app in session.scalars(sa.select(Application).where(Application.id.in_(app_ids)))
    }
    owners = {
        owner.id: owner
        for owner in session.scalars(sa.select(Company).where(Company.id.in_(owner_ids)))
    }
    outcomes = recent_outcomes(session, [rt.id for rt in items], recent)
    start = now or utc_now()
    summaries = [
        Summary(
            run_template=rt,
            application=apps[rt.application_id].name,
            version=apps[rt.application_id].version,
            company=owners[rt.company_id].name,
            schedule=describe(session, rt),
            next_run=next(iter(next_runs(session, rt, 1, start)), None),
            outcomes=outcomes[rt.id],
        )
        for rt in items
    ]
    return Page(summaries, page.total, page.limit, page.offset)


def preview_schedule(
    session: Session,
    *,
    interval_code: str,
    cron: str | None = None,
    delay: int | None = 0,
    timezone: str | None = None,
    count: int = 10,
    after: dt.datetime | None = None,
) -> tuple[str, list[dt.datetime]]:
    """A schedule being edited, in words, and its next ``count`` occurrences (UTC).

    The settings are those of a run template (an interval name is understood; no
    zone means the installation's); a schedule the rules refuse raises
    :class:`ValidationError` with each problem about its setting (``cron``, ...),
    as saving it would.
    """
    schedule = schedules.Schedule.build(
        interval_code,
        cron,
        delay,
        timezone,
        default_timezone=runtemplates.default_timezone(session),
    )
    occurrences = schedules.preview(schedule, after or utc_now(), max(0, min(count, 1000)))
    return schedules.describe(schedule), occurrences


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A company credential a run template may use, and whether it is bound."""

    credential: Credential
    bound: bool
    status: availability.CredentialStatus


@dataclasses.dataclass(frozen=True)
class Requirement:
    """A kind of credential the application requires (a prototype code) and the
    company's credentials of that kind; ``code`` None gathers the bound credentials
    the application does not require."""

    code: str | None
    candidates: list[Candidate]

    @property
    def satisfied(self) -> bool:
        return any(candidate.bound for candidate in self.candidates)


def credential_choices(session: Session, run_template: RunTemplate) -> list[Requirement]:
    """For each credential kind the application requires, the company's credentials of
    that kind, bound or not, with their availability (kept answers are reused; a
    plug-in may be asked, which ends the session's read transaction); last, the bound
    credentials of no required kind."""
    codes = list(dict.fromkeys(run_template.application.requirements or ()))
    bound = {binding.credential_id for binding in run_template.credential_bindings}
    query = (
        sa.select(Credential)
        .join(CredentialType, CredentialType.id == Credential.credential_type_id)
        .where(
            Credential.company_id == run_template.company_id,
            sa.or_(CredentialType.prototype_code.in_(codes), Credential.id.in_(bound)),
        )
        .options(joinedload(Credential.credential_type))
        .order_by(Credential.name, Credential.id)
    )
    found = list(session.scalars(query))
    statuses = {s.credential_id: s for s in availability.check_credentials(session, found)}
    result = []
    for code in [*codes, None]:
        of_kind = [
            Candidate(credential, credential.id in bound, statuses[credential.id])
            for credential in found
            if (credential.credential_type.prototype_code in codes) == (code is not None)
            and (code is None or credential.credential_type.prototype_code == code)
        ]
        if code is not None or of_kind:
            result.append(Requirement(code, of_kind))
    return result


@dataclasses.dataclass(frozen=True)
class Details:
    """Everything a run template's page shows besides its own settings."""

    run_template: RunTemplate
    #: the schedule in words
    schedule: str
    #: its next occurrences (UTC); none when it is inactive or only launched by hand
    next_runs: list[dt.datetime]
    #: field name -> the stored value; None for a stored secret value (never shown)
    stored: dict[str, str | None]
    #: the required fields nothing fills (a launch must give them)
    missing: list[str]
    credentials: list[Requirement]
    #: the names of the enabled actions after a success, and after anything else
    success_actions: list[str]
    failure_actions: list[str]
    #: its latest jobs, newest first
    jobs: Page[Job]


def details(
    session: Session, run_template: RunTemplate, *, jobs: int = 20, now: dt.datetime | None = None
) -> Details:
    """What a run template's page shows; secret values are only said to be stored."""
    rt_id = run_template.id
    return Details(
        run_template=run_template,
        schedule=describe(session, run_template),
        next_runs=next_runs(session, run_template, 10, now),
        stored={v.name: None if v.key_id else v.value for v in run_template.values},
        missing=jobenv.missing_required(session, run_template),
        credentials=credential_choices(session, run_template),
        success_actions=[
            row.action
            for row in runtemplates.enabled_actions(session, rt_id, runtemplates.SUCCESS_MODES)
        ],
        failure_actions=[
            row.action
            for row in runtemplates.enabled_actions(session, rt_id, runtemplates.FAILURE_MODES)
        ],
        jobs=job_list.list_jobs(session, run_template_id=rt_id, limit=jobs),
    )


__all__ = [
    "RECENT",
    "Candidate",
    "Details",
    "Outcome",
    "Requirement",
    "Summary",
    "credential_choices",
    "describe",
    "details",
    "next_runs",
    "overview",
    "preview_schedule",
    "recent_outcomes",
]
