"""The executor's side of a job's life: start, heartbeat, output, outcome, retry, reaping.

These are the rules every executor (and the scheduler's reaper) keeps, whatever
runs the process:

* **Gate** (in :func:`start`, before anything else): every credential bound to the
  run template must be usable (:mod:`multiflexi.core.availability`). When one is
  not, the job is ``blocked`` (``block_reason``, ``blocked_at``, a ``system``
  output line) and never started: after ``degraded``/``unavailable`` it is
  ``scheduled`` again ``ttl`` seconds later (the scheduler delivers it then); after
  ``misconfigured`` it stays ``blocked`` and its run template's schedule goes on.
* **Start** (:func:`start`): a job runs only while it holds one of its run
  template's ``max_concurrency`` slots (:mod:`multiflexi.core.slots`). A slot is a
  row of the ``leases`` table named ``slot:rt:<run template>:<n>``; its primary key
  makes taking it atomic on every database. A job that finds every slot taken is parked ``waiting``
  (no polling); whoever frees a slot wakes the oldest waiting job of that run
  template (``waiting`` -> ``queued`` and a new RQ delivery).
* **Heartbeat** (:func:`heartbeat`): the worker renews the job's lease and its
  slot, and learns about a cancel request.
* **Output** (:func:`store_output`): lines (already masked) in batches.
* **Outcome** (:func:`conclude`): exit-code description and severity from the
  application's manifest, artifacts, :func:`multiflexi.core.jobs.finish` (the
  counters and the schedule), the slot freed, the next waiting job woken, and a
  retry when the manifest or the run template's policy asks for one.
* **Reaping** (:func:`reap_lost`, called by the scheduler daemon): a running job
  whose lease expired is ``lost``; its slot is freed and the next job woken.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import signal
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from multiflexi.core import availability, jobenv, jobs, queue, runtemplates, slots, tasks
from multiflexi.core.audit import Actor
from multiflexi.core.config import settings_of
from multiflexi.core.models import (
    Application,
    ApplicationArtifact,
    ApplicationExitCode,
    ApplicationField,
    Artifact,
    Company,
    CompanyVariable,
    Credential,
    Job,
    JobOutputLine,
    RunTemplate,
    RunTemplateAction,
    RunTemplateCredential,
    RunTemplateValue,
)
from multiflexi.core.unit import known_none, note_none, rowcount, rows, transaction
from multiflexi.database.tables import utc_now as now

if TYPE_CHECKING:
    from redis import Redis

ACTOR = Actor.system("executor")
#: when the manifest marks an exit code ``retry`` and the run template has no retry
#: policy (max_attempts 1), this many attempts in all are made
MANIFEST_RETRY_ATTEMPTS = 3
#: severities of outcomes the manifest does not describe
SUCCESS_SEVERITY = "success"
FAILURE_SEVERITY = "error"
#: the output stream of the lines the executor itself writes on a job
SYSTEM_STREAM = "system"


class Start(enum.Enum):
    """What :func:`start` did with a delivered job."""

    RUNNING = "running"  # claimed, with a slot: run it
    WAITING = "waiting"  # every slot is taken: parked until one frees
    NOT_OURS = "not-ours"  # not queued/waiting any more (a duplicate delivery): drop it
    BLOCKED = "blocked"  # a bound credential is not usable: held back, never started


@dataclasses.dataclass(frozen=True)
class Beat:
    """What a heartbeat learned."""

    alive: bool  # the job is still running under this worker (False: reaped or ended)
    cancel_requested: bool


@dataclasses.dataclass(frozen=True)
class ArtifactFile:
    """A file a job produced, to be recorded (inline content or a path where it lives)."""

    name: str
    size: int
    sha256: str
    content_type: str
    content: bytes | None = None
    path: str | None = None
    type: str | None = None
    note: str | None = None


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a job ended, as :func:`conclude` recorded it."""

    state: str
    exit_code: int | None
    description: str | None
    severity: str
    recorded: bool  # False: someone else had already ended the job
    retry_job_id: int | None = None


# -- start ------------------------------------------------------------------------


def start(
    session: Session,
    job_id: int,
    *,
    worker: str,
    lease: dt.timedelta,
    redis: Redis | None = None,
) -> Start:
    """Pass the credential gate, take a slot of the job's run template and claim the job.

    A duplicate delivery, or a job someone else claimed or cancelled, is
    :attr:`Start.NOT_OURS`. A job a bound credential holds back is
    :attr:`Start.BLOCKED` (see :func:`hold`; no slot is taken). With every slot
    taken the job is parked ``waiting`` and started by a later delivery when a slot
    frees. Everything is committed.
    """
    return begin(session, job_id, worker=worker, lease=lease, redis=redis)[0]


#: the rows a job's run template, application and company may have: (their table, its
#: column of the owner's id, the owner, what unit.known_none calls them), in the order
#: of the job read's flags after its four entities; the first are the bound credentials
_OWNED_ROWS: tuple[tuple[sa.Table, str, type[Any], str], ...] = (
    (RunTemplateCredential.__table__, "run_template_id", RunTemplate, "credentials"),
    (RunTemplateAction.__table__, "run_template_id", RunTemplate, "actions"),
    (RunTemplateValue.__table__, "run_template_id", RunTemplate, "values"),
    (ApplicationExitCode.__table__, "application_id", Application, "exit_codes"),
    (ApplicationArtifact.__table__, "application_id", Application, "artifacts"),
    (ApplicationField.__table__, "application_id", Application, "fields"),
    (CompanyVariable.__table__, "company_id", Company, "variables"),
)


@functools.cache
def _job_graph() -> sa.Select:
    """A job with its run template, application and company as one row of four entities.

    Plus a flag per kind of row the three may have (:data:`_OWNED_ROWS`). No eager
    loading: setting up its loaders costs more than reading the row (the executor
    reads this for every job).
    """
    flags = (
        sa.exists().where(table.c[column] == owner.id).label(f"has_{kind}")
        for table, column, owner, kind in _OWNED_ROWS
    )
    return (
        sa.select(Job, RunTemplate, Application, Company, *flags)
        .join(Job.run_template)
        .join(RunTemplate.application)
        .join(RunTemplate.company)
        .where(Job.id == sa.bindparam("job_id"))
    )


_REFRESH: Mapping[str, Any] = {"populate_existing": True}
_NO_OPTIONS: Mapping[str, Any] = {}


def _read_job(session: Session, job_id: int) -> Job | None:
    """The job with its run template, application and company, current from the database.

    What a query with joined eager loading of these gives, for about half its cost
    (bound credentials, which most run templates have none of, are read only when the
    run template has some). What the run template, application and company have
    none of (actions, values, exit codes, artifact patterns, fields, variables) is
    noted on the session, which then spares their queries for this job
    (:func:`multiflexi.core.unit.known_none`).
    """
    # a session that holds none of the objects has nothing to refresh (that costs more)
    fresh = _REFRESH if len(session.identity_map) else _NO_OPTIONS
    row = session.execute(_job_graph(), {"job_id": job_id}, execution_options=fresh).first()
    if row is None:
        return None
    job, run_template, application, company, *flags = row
    set_committed_value(job, "run_template", run_template)
    set_committed_value(run_template, "application", application)
    set_committed_value(run_template, "company", company)
    bindings = session.scalars(_bindings(), {"rt_id": run_template.id}) if flags[0] else ()
    set_committed_value(run_template, "credential_bindings", list(bindings))
    ids = {RunTemplate: run_template.id, Application: application.id, Company: company.id}
    note_none(
        session,
        *(
            (kind, ids[owner])
            for (_, _, owner, kind), has in zip(_OWNED_ROWS, flags, strict=True)
            if not has
        ),
    )
    return cast(Job, job)


@functools.cache
def _bindings() -> sa.Select:
    """A run template's bound credentials with their types, for the credential gate."""
    return (
        sa.select(RunTemplateCredential)
        .where(RunTemplateCredential.run_template_id == sa.bindparam("rt_id"))
        .options(
            joinedload(RunTemplateCredential.credential).joinedload(Credential.credential_type)
        )
    )


def begin(
    session: Session,
    job_id: int,
    *,
    worker: str,
    lease: dt.timedelta,
    redis: Redis | None = None,
) -> tuple[Start, Job | None]:
    """:func:`start`, and the job it read, current after the claim.

    The job is read once, with its run template, application, company and bound
    credentials loaded (the executor runs it from these). A queued job first
    passes the credential gate (:func:`hold` when it does not: the job is
    returned ``blocked`` or deferred, with :attr:`Start.BLOCKED`); then the slot
    and the claim are one transaction. Expired slots (of a worker that died) are
    looked for only when no slot is free.
    """
    job = _read_job(session, job_id)
    if job is None:
        return Start.NOT_OURS, None
    if job.state not in ("queued", "waiting"):
        return Start.NOT_OURS, None
    if job.state == "queued":  # a waiting job passed the gate when it was delivered
        held = availability.gate(session, job.run_template)
        if held is not None:
            if hold(session, job, held):
                return Start.BLOCKED, job
            return Start.NOT_OURS, None
    run_template = job.run_template
    rt_id = run_template.id
    reaped = False
    parked = False
    while True:
        slot, claimed = slots.take_and_claim(
            session, run_template, job_id, worker=worker, lease=lease
        )
        if slot is not None:
            if claimed:
                return Start.RUNNING, job
            slots.wake_next(session, rt_id, redis=redis)
            return Start.NOT_OURS, None
        if not reaped:
            reaped = True
            if slots.reap_expired(session, rt_id, redis=redis, wake=False):
                continue
        if parked:
            return Start.WAITING, None
        # park first, then look once more: a slot freed in between is not missed
        parked = True
        with transaction(session):
            moved = jobs.transition(session, job_id, "waiting", expected={"queued"})
        if not moved:
            session.refresh(job)
            if job.state != "waiting":
                return Start.NOT_OURS, None


def hold(session: Session, job: Job, status: availability.CredentialStatus) -> bool:
    """Hold a queued job back because a bound credential is not usable (committed).

    The job becomes ``blocked`` with ``block_reason`` (which credential, the state
    and the check's message: never a value) and ``blocked_at``, and a line of stream
    ``system`` on its output says so. After ``degraded`` or ``unavailable`` the
    same job is ``scheduled`` again at now + the answer's ttl, for the scheduler to
    deliver (a scheduler-made job keeps its run template's outstanding occurrence
    pointing at it); after ``misconfigured`` it stays ``blocked`` and the run
    template's schedule goes on as after a finished job. False, and no change, when
    the job was not queued any more (someone else took or cancelled it).
    """
    stamp = now()
    result = status.availability
    reason = status.describe()
    defer = result.state in availability.DEFERRING
    when = stamp + dt.timedelta(seconds=result.ttl)
    if defer:
        line = f"blocked: {reason}; tried again at {when.isoformat(timespec='seconds')}"
    else:
        line = f"blocked: {reason}; held until it is fixed (the job will not run)"
    planned_at = job.scheduled_at
    with transaction(session):
        if not jobs.transition(
            session, job.id, "blocked", expected={"queued"}, block_reason=reason, blocked_at=stamp
        ):
            return False
        if defer:
            jobs.transition(session, job.id, "scheduled", expected={"blocked"}, scheduled_at=when)
            jobs.wake_scheduler_at(session, when)
            if job.schedule_type not in jobs.ADHOC_TYPES:
                session.execute(
                    sa.update(RunTemplate)
                    .where(
                        RunTemplate.id == job.run_template_id,
                        RunTemplate.next_schedule == planned_at,
                    )
                    .values(next_schedule=when)
                    .execution_options(synchronize_session=False)
                )
        else:
            jobs.release_schedule(session, job)
        _insert_output(session, job.id, job.output_lines + 1, [(SYSTEM_STREAM, line)], stamp)
    session.refresh(job)
    return True


#: the columns :func:`record_process` and :func:`conclude` store about a job's process
PROCESS_FACTS = frozenset({"pid", "command", "environment"})


def record_process(session: Session, job_id: int, **values: object) -> None:
    """Store facts about the running process (pid, command, environment), committed."""
    unknown = set(values) - PROCESS_FACTS
    if unknown:
        raise ValueError(f"not process facts: {sorted(unknown)}")
    with transaction(session):
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.state == "running")
            .values(updated_at=now(), **values)
            .execution_options(synchronize_session=False)
        )


# -- heartbeat and output -------------------------------------------------------------


def heartbeat(session: Session, job_id: int, *, worker: str, lease: dt.timedelta) -> Beat:
    """Renew the lease of a running job (and its slot); say whether it is still ours."""
    stamp = now()
    with transaction(session):
        result = session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.state == "running", Job.worker == worker)
            .values(heartbeat_at=stamp, lease_expires_at=stamp + lease)
            .execution_options(synchronize_session=False)
        )
        alive = rowcount(result) == 1
        if alive:
            slots.renew(session, job_id, stamp + lease)
        cancel = bool(session.scalar(sa.select(Job.cancel_requested).where(Job.id == job_id)))
    return Beat(alive=alive, cancel_requested=cancel)


def store_output(
    session: Session, job_id: int, first_seq: int, lines: Sequence[tuple[str, str]]
) -> int:
    """Insert output lines ``(stream, text)`` numbered from ``first_seq``; the next seq.

    The caller masks secrets first. One transaction per batch; the job's
    ``output_lines`` counter grows with it.
    """
    if not lines:
        return first_seq
    with transaction(session):
        _insert_output(session, job_id, first_seq, lines, now())
    return first_seq + len(lines)


def _insert_output(
    session: Session,
    job_id: int,
    first_seq: int,
    lines: Sequence[tuple[str, str]],
    stamp: dt.datetime,
) -> None:
    """:func:`store_output`'s rows and counter, in the caller's transaction."""
    batch = [
        {
            "job_id": job_id,
            "seq": first_seq + i,
            "stream": stream,
            "text": text,
            "created_at": stamp,
        }
        for i, (stream, text) in enumerate(lines)
    ]
    session.execute(sa.insert(JobOutputLine), batch)
    session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(output_lines=Job.output_lines + len(batch))
        .execution_options(synchronize_session=False)
    )


def last_seq(session: Session, job_id: int) -> int:
    """The highest output seq of a job (0 when it has none)."""
    return (
        session.scalar(
            sa.select(sa.func.max(JobOutputLine.seq)).where(JobOutputLine.job_id == job_id)
        )
        or 0
    )


# -- outcome ---------------------------------------------------------------------------


_EXIT_CODES: sa.Table = ApplicationExitCode.__table__
#: what the manifest says of one exit code, per language (read at the end of every job)
_EXIT_CODE_ROWS = sa.select(
    _EXIT_CODES.c.lang,
    _EXIT_CODES.c.description,
    _EXIT_CODES.c.severity,
    _EXIT_CODES.c.retry,
).where(
    _EXIT_CODES.c.application_id == sa.bindparam("application_id"),
    _EXIT_CODES.c.exit_code == sa.bindparam("exit_code"),
)


def _exit_code_row(session: Session, application_id: int, exit_code: int | None) -> sa.Row | None:
    """The manifest's entry of an exit code (English first, then the language-less one)."""
    if exit_code is None or known_none(session, "exit_codes", application_id):
        return None
    entries = rows(
        session, _EXIT_CODE_ROWS, {"application_id": application_id, "exit_code": exit_code}
    )
    by_lang = {row.lang: row for row in entries}
    return by_lang.get("en") or by_lang.get("") or (entries[0] if entries else None)


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def describe(
    session: Session, application_id: int, exit_code: int | None
) -> tuple[str | None, str]:
    """The manifest's description and severity of an exit code (else a generic one)."""
    return _described(_exit_code_row(session, application_id, exit_code), exit_code)


def _described(row: sa.Row | None, exit_code: int | None) -> tuple[str | None, str]:
    if row is not None:
        return row.description or None, row.severity or FAILURE_SEVERITY
    if exit_code == 0:
        return None, SUCCESS_SEVERITY
    if exit_code is not None and exit_code > 128 and exit_code - 128 < 65:
        return f"killed by {signal_name(exit_code - 128)}", FAILURE_SEVERITY
    return None, FAILURE_SEVERITY


def _add_artifacts(session: Session, job_id: int, files: Iterable[ArtifactFile]) -> None:
    for item in files:
        session.add(
            Artifact(
                job_id=job_id,
                name=item.name,
                type=item.type,
                content_type=item.content_type,
                size=item.size,
                sha256=item.sha256,
                content=item.content,
                path=item.path,
                note=item.note,
            )
        )


_ARTIFACT_RULES: sa.Table = ApplicationArtifact.__table__
_ARTIFACT_RULE_ROWS = (
    sa.select(
        _ARTIFACT_RULES.c.pattern,
        _ARTIFACT_RULES.c.type,
        _ARTIFACT_RULES.c.name,
        _ARTIFACT_RULES.c.description,
    )
    .where(_ARTIFACT_RULES.c.application_id == sa.bindparam("application_id"))
    .order_by(_ARTIFACT_RULES.c.position, _ARTIFACT_RULES.c.id)
)


def artifact_rules(session: Session, application_id: int) -> Sequence[sa.Row]:
    """The manifest's artifact patterns of an application: pattern, type, name, description."""
    if known_none(session, "artifacts", application_id):
        return ()
    return rows(session, _ARTIFACT_RULE_ROWS, {"application_id": application_id})


def artifact_from_bytes(
    name: str, data: bytes, content_type: str, **extra: str | None
) -> ArtifactFile:
    return ArtifactFile(
        name=name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        content=data,
        **extra,
    )


def conclude(
    session: Session,
    job_id: int,
    *,
    exit_code: int | None,
    state: str | None = None,
    description: str | None = None,
    artifacts: Iterable[ArtifactFile] = (),
    redis: Redis | None = None,
    retry: bool = True,
    facts: Mapping[str, Any] | None = None,
) -> Outcome:
    """Record the end of a running job and do what follows from it.

    ``state`` defaults to ``success`` for exit code 0 and ``failed`` otherwise.
    ``description`` (a timeout, an interruption) is put before the manifest's
    description of the exit code. ``facts`` are process columns not stored yet
    (``pid``, ``command``, ``environment``: see :func:`record_process`), stored with
    the outcome. Then the slot is freed, the next waiting job of the run template
    is woken, and a retry is scheduled when due.
    """
    unknown = set(facts or ()) - PROCESS_FACTS
    if unknown:
        raise ValueError(f"not process facts: {sorted(unknown)}")
    # run template and application of a job never change: the session's copy will do
    job = jobs.get(session, job_id)
    final = state or ("success" if exit_code == 0 else "failed")
    row = _exit_code_row(session, job.application_id, exit_code)
    documented, severity = _described(row, exit_code)
    if description and row is None:
        documented = None  # our own words say it better than the generic signal name
    if final in ("failed", "lost") and severity == SUCCESS_SEVERITY:
        severity = FAILURE_SEVERITY
    text = "; ".join(part for part in (description, documented) if part) or None
    files = list(artifacts)
    # one commit: artifacts, the outcome with its bookkeeping (jobs.finish's), the slot
    # freed and the next waiting job moved back to the queue
    with transaction(session):
        if files:
            _add_artifacts(session, job_id, files)
        recorded = jobs.finish_uncommitted(
            session,
            job_id,
            final,
            exit_code=exit_code,
            exit_description=text,
            severity=severity,
            **(facts or {}),
        )
        if recorded and job.task_id is not None:
            # the SLA task of the window, in the same commit as the job's end
            ended = now()
            retry_at = None
            if retry and final in ("failed", "lost"):
                retry_at = retry_due(session, job, exit_code, at=ended)
            tasks.job_ended(session, job, final, ended, retry_at=retry_at)
        slots.release(session, job_id)
        woken = slots.requeue_next(session, job.run_template_id)
    if woken is not None:
        slots.deliver(redis, session, jobs.get(session, woken))
    retry_id = None
    if recorded and retry and final in ("failed", "lost"):
        retry_job = schedule_retry(session, job_id, redis=redis)
        retry_id = retry_job.id if retry_job is not None else None
    return Outcome(final, exit_code, text, severity, recorded, retry_id)


# -- retries ------------------------------------------------------------------------------


def retry_delay(backoff: str, min_gap: int, attempt: int) -> dt.timedelta:
    """The wait before the attempt after ``attempt`` (1-based) failed.

    ``none`` and ``fixed``: the minimum gap; ``linear``: gap x attempt;
    ``exponential``: gap x 2^(attempt-1). Never less than the minimum gap.
    """
    gap = max(0, min_gap)
    factor = {"linear": attempt, "exponential": 2 ** max(0, attempt - 1)}.get(backoff, 1)
    return dt.timedelta(seconds=max(gap, gap * factor))


def retry_due(
    session: Session, job: Job, exit_code: int | None, *, at: dt.datetime | None = None
) -> dt.datetime | None:
    """When the next attempt of a job that failed with ``exit_code`` is due by its
    run template's retry policy (from ``at``, default now); None when none is allowed.

    Allowed when the run template's ``max_attempts`` is not used up, or when the
    manifest marks the exit code ``retry`` (then up to MANIFEST_RETRY_ATTEMPTS
    attempts in all when the run template sets no larger number), and the run
    template is active.
    """
    run_template = job.run_template
    session.refresh(run_template)
    limit = run_template.max_attempts
    row = _exit_code_row(session, job.application_id, exit_code)
    if row is not None and row.retry:
        limit = max(limit, MANIFEST_RETRY_ATTEMPTS)
    if job.attempt >= limit or not run_template.active:
        return None
    delay = retry_delay(run_template.retry_backoff, run_template.retry_min_gap, job.attempt)
    return (at or now()) + delay


def schedule_retry(session: Session, job_id: int, *, redis: Redis | None = None) -> Job | None:
    """A new attempt of a failed or lost job when its policy allows one; None otherwise.

    :func:`retry_due` says whether and when; a job of an SLA task is retried only
    while the task is open and the retry is due before its deadline
    (:func:`multiflexi.core.tasks.retry_allowed`). The new job is
    linked to the first attempt (``retry_of_id``), keeps the one-time overrides,
    and is queued at once or left ``scheduled`` for the scheduler when it waits.
    """
    job = jobs.get(session, job_id)
    if job.state not in ("failed", "lost"):
        return None
    run_template = job.run_template
    when = retry_due(session, job, job.exit_code)
    if when is None or not tasks.retry_allowed(session, job, when):
        return None
    first = job.retry_of_id or job.id
    if session.scalar(
        sa.select(Job.id).where(Job.retry_of_id == first, Job.attempt == job.attempt + 1)
    ):
        return None  # this attempt's retry exists already
    overrides, secret_names = jobenv.overrides_of(session, job)
    with transaction(session):
        retry_job = jobs.create(
            session,
            run_template,
            scheduled_at=when,
            schedule_type="retry",
            actor=ACTOR,
            overrides=overrides,
            secret_overrides=secret_names,
            attempt=job.attempt + 1,
            retry_of_id=first,
            parent_job_id=job.id,
            task_id=job.task_id,
        )
    if when <= now():
        with contextlib.suppress(queue.QueueUnavailable):
            jobs.enqueue(session, retry_job, redis=redis)
    return retry_job


# -- reaping ---------------------------------------------------------------------------------


def _deliver_actions(session: Session, job: Job, redis: Redis | None) -> None:
    """A lost job's failure actions run on an executor (they live there), when it has any.

    With Redis down they are not run: the job's output says so.
    """
    if not runtemplates.enabled_actions(session, job.run_template_id, runtemplates.FAILURE_MODES):
        return
    if not tasks.failure_actions_due(session, job):
        return  # a retry of its SLA task follows: they run when the task ends
    try:
        client = redis if redis is not None else queue.connect(settings_of(session).redis_url)
        queue.enqueue_actions(client, job.id, job.queue)
    except (queue.QueueUnavailable, RuntimeError) as exc:
        session.refresh(job)
        store_output(
            session,
            job.id,
            job.output_lines + 1,
            [(SYSTEM_STREAM, f"failure actions not run: {exc}")],
        )


def reap_lost(
    session: Session, at: dt.datetime | None = None, *, redis: Redis | None = None
) -> list[int]:
    """Mark running jobs whose lease expired before ``at`` as ``lost``; their ids.

    Each goes through :func:`multiflexi.core.jobs.finish` (counted as a failure,
    its schedule released), its slot is freed, the next waiting job of its run
    template is woken, the retry policy applies and its failure actions are handed
    to an executor (``queue.RUN_ACTIONS``). Expired slots of ended jobs
    are freed too, and a run template with a free slot and waiting jobs gets one
    woken (a wake-up lost with a crashed worker is made good here).
    """
    stamp = at or now()
    expired = session.scalars(
        sa.select(Job.id)
        .where(Job.state == "running", Job.lease_expires_at < stamp)
        .order_by(Job.id)
    ).all()
    lost: list[int] = []
    for job_id in expired:
        job = jobs.get(session, job_id)
        session.refresh(job)
        beat = job.heartbeat_at.isoformat(timespec="seconds") if job.heartbeat_at else "never"
        description = (
            f"lost: worker {job.worker or '?'} stopped renewing the job's lease "
            f"(last heartbeat {beat})"
        )
        outcome = conclude(
            session, job_id, exit_code=None, state="lost", description=description, redis=redis
        )
        if outcome.recorded:
            lost.append(job_id)
            _deliver_actions(session, job, redis)
    slots.reap_expired(session, None, redis=redis, wake=True)
    waiting = session.scalars(
        sa.select(Job.run_template_id).where(Job.state == "waiting").distinct()
    ).all()
    for rt_id in waiting:
        run_template = session.get(RunTemplate, rt_id)
        if run_template is None:
            continue
        busy = slots.in_use(session, rt_id) + (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(Job.run_template_id == rt_id, Job.state == "queued")
            )
            or 0
        )
        if busy < run_template.max_concurrency:
            slots.wake_next(session, rt_id, redis=redis)
    return lost


__all__ = [
    "ACTOR",
    "FAILURE_SEVERITY",
    "MANIFEST_RETRY_ATTEMPTS",
    "PROCESS_FACTS",
    "SUCCESS_SEVERITY",
    "SYSTEM_STREAM",
    "ArtifactFile",
    "Beat",
    "Outcome",
    "Start",
    "artifact_from_bytes",
    "artifact_rules",
    "begin",
    "conclude",
    "describe",
    "heartbeat",
    "hold",
    "last_seq",
    "now",
    "reap_lost",
    "record_process",
    "retry_delay",
    "retry_due",
    "schedule_retry",
    "signal_name",
    "start",
    "store_output",
]
