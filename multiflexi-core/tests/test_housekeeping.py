"""Housekeeping: deleting a job, pruning history, stale schedules, unregistering a manifest."""

import datetime as dt
import json

import pytest
from redis import Redis

from multiflexi.core import audit, companies, housekeeping, jobs, runtemplates
from multiflexi.core.errors import Conflict, InvalidTransition, NotFound, ValidationError
from multiflexi.core.models import Application, AuditEntry, Job, JobOutputLine, RunTemplate
from multiflexi.core.testing import count

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=30)


@pytest.fixture
def rt(session, app):
    company = companies.create(session, name="Acme", actor=ACTOR)
    return runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://erp.example"},
    )


def _finished(session, rt, state="success", lines=2, *, finished_at=None):
    job = jobs.create(
        session,
        rt,
        scheduled_at=jobs.now(),
        schedule_type="adhoc",
        actor=ACTOR,
    )
    session.commit()
    jobs.transition(session, job.id, "queued")
    session.commit()
    assert jobs.claim(session, job.id, worker="w", lease=LEASE)
    for seq in range(1, lines + 1):
        session.add(JobOutputLine(job_id=job.id, seq=seq, stream="stdout", text=f"line {seq}"))
    session.commit()
    assert jobs.finish(session, job.id, state, exit_code=0 if state == "success" else 1)
    if finished_at is not None:
        session.query(Job).filter(Job.id == job.id).update({"finished_at": finished_at})
        session.commit()
    return job.id


def test_deleting_a_finished_job_removes_its_output_and_its_count(session, rt):
    job_id = _finished(session, rt, "failed")
    session.refresh(rt)
    assert rt.failure_count == 1
    housekeeping.delete_job(session, job_id, actor=ACTOR)
    session.expire_all()
    assert session.get(Job, job_id) is None
    assert count(session, JobOutputLine) == 0
    assert session.get(RunTemplate, rt.id).failure_count == 0
    entry = session.query(AuditEntry).filter_by(entity_type="job", action="delete").one()
    assert entry.entity_id == str(job_id)


def test_a_running_job_is_not_deleted(session, rt):
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=_no_redis())
    assert jobs.claim(session, job.id, worker="w", lease=LEASE)
    with pytest.raises(InvalidTransition, match="cancel it"):
        housekeeping.delete_job(session, job.id, actor=ACTOR)
    session.expire_all()
    assert session.get(Job, job.id).state == "running"


def test_deleting_an_unknown_job_says_not_found(session):
    with pytest.raises(NotFound):
        housekeeping.delete_job(session, 999, actor=ACTOR)


def test_prune_keeps_the_newest_finished_jobs_and_never_touches_unfinished_ones(session, rt):
    finished = [_finished(session, rt) for _ in range(4)]
    waiting = jobs.launch(session, rt.id, actor=ACTOR, at=jobs.now() + dt.timedelta(hours=1))
    result = housekeeping.prune(session, actor=ACTOR, keep=1)
    assert (result.jobs_deleted, result.output_lines_deleted) == (3, 6)
    remaining = sorted(session.scalars(Job.__table__.select().with_only_columns(Job.id)))
    assert remaining == sorted([finished[-1], waiting.id])
    # history counts stay: pruning is not undoing
    assert session.get(RunTemplate, rt.id).success_count == 4


def test_prune_by_age_and_output_only(session, rt):
    old = _finished(session, rt, finished_at=jobs.now() - dt.timedelta(days=40))
    new = _finished(session, rt)
    result = housekeeping.prune(
        session,
        actor=ACTOR,
        keep=None,
        older_than=jobs.now() - dt.timedelta(days=30),
        output_only=True,
    )
    assert (result.jobs_deleted, result.output_lines_deleted) == (0, 2)
    assert session.get(Job, old) is not None
    assert [line.job_id for line in session.query(JobOutputLine)] == [new, new]


def test_prune_dry_run_changes_nothing(session, rt):
    for _ in range(3):
        _finished(session, rt)
    result = housekeeping.prune(session, actor=ACTOR, keep=0, dry_run=True)
    assert result == housekeeping.PruneResult(3, 6, True)
    assert count(session, Job) == 3


def test_prune_without_a_limit_is_refused(session):
    with pytest.raises(ValidationError):
        housekeeping.prune(session, actor=ACTOR, keep=None)


def test_stale_run_templates_are_the_overdue_active_scheduled_ones(session, rt, app):
    runtemplates.update(session, rt.id, {"interval_code": "h"}, actor=ACTOR)
    now = jobs.now()
    session.query(RunTemplate).filter_by(id=rt.id).update(
        {"next_schedule": now - dt.timedelta(hours=7)}
    )
    session.commit()
    assert [t.id for t in housekeeping.stale_run_templates(session, now=now)] == [rt.id]
    tolerant = housekeeping.stale_run_templates(session, tolerance=dt.timedelta(hours=8), now=now)
    assert tolerant == []


def test_remove_manifest_deletes_the_application_it_names(session, tmp_path):
    manifest = {
        "name": "remover",
        "description": "test application",
        "executable": "/bin/true",
        "uuid": "0b8f5e0e-2f43-4a6b-9a0b-7d1f5d9c2a11",
        "environment": {},
    }
    path = tmp_path / "remover.multiflexi.app.json"
    path.write_text(json.dumps(manifest))
    from multiflexi.core.manifests import import_manifest

    app_id = import_manifest(session, path, actor=ACTOR).application_id
    company = companies.create(session, name="Beta", actor=ACTOR)
    companies.assign_application(session, company.id, app_id, actor=ACTOR)
    with pytest.raises(Conflict):
        housekeeping.remove_manifest(session, path, actor=ACTOR)
    assert session.get(Application, app_id) is not None
    assert housekeeping.remove_manifest(session, path, actor=ACTOR, force=True) == (app_id, 1)
    session.expire_all()
    assert session.get(Application, app_id) is None


def _no_redis():
    """A Redis nobody listens on: the launch then leaves the job queued in the database."""
    return Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
