"""The credential availability gate: answers, plug-ins, the cache, held jobs, on-demand checks.

The plug-in is a real installed distribution (a module and a ``*.dist-info`` with
``entry_points.txt``) put on ``sys.path``; every database test runs on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import sys

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    access,
    audit,
    availability,
    companies,
    credentials,
    jobs,
    lifecycle,
    manifests,
    queue,
    runtemplates,
    scheduling,
    slots,
)
from multiflexi.core.availability import Availability, State
from multiflexi.core.errors import NotFound, PermissionDenied
from multiflexi.core.lifecycle import Start
from multiflexi.core.models import AuditEntry, JobOutputLine
from multiflexi.core.testing import credential_check_plugin, database_bytes

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=30)
TOKEN = "gate-T0ken-7c1e55aa"
PLUGIN_MODULE = "mf_gate_probe_check"
PROTOTYPE = {
    "uuid": "0b0e8a52-3c1d-4f7a-9d41-6a0c2b7e9f10",
    "version": "1.0.0",
    "code": "gateprobe",
    "name": "Gate probe",
    "fields": [
        {"keyword": "PROBE_STATE", "type": "string", "name": "State", "required": True},
        {"keyword": "PROBE_TOKEN", "type": "password", "name": "Token", "required": True},
        {"keyword": "PROBE_TTL", "type": "string", "name": "TTL"},
    ],
}
#: the plug-in answers what PROBE_STATE says, quoting the token (which must be masked)
PLUGIN_SOURCE = """
import time
from multiflexi.core.availability import Availability

CALLS = []


def check(request):
    CALLS.append(request.credential_id)
    mode = request.values["PROBE_STATE"]
    token = request.values["PROBE_TOKEN"]
    if mode == "raise":
        raise RuntimeError(f"the bank refused {token}")
    if mode == "exit":
        raise SystemExit(f"giving up on {token}")
    if mode == "garbage":
        return {"state": "available", "token": token}
    if mode == "slow":
        time.sleep(3)
    ttl = float(request.values.get("PROBE_TTL") or 60)
    return Availability(mode, f"the bank says token {token} is {mode}", ttl=ttl)
"""


@pytest.fixture
def plugin(tmp_path):
    """The check plug-in for prototype ``gateprobe``, installed for this test."""
    with credential_check_plugin(
        tmp_path / "plugins",
        "mf-gate-probe",
        module=PLUGIN_MODULE,
        source=PLUGIN_SOURCE,
        prototype="gateprobe",
    ):
        yield


@pytest.fixture(autouse=True)
def forget_results():
    availability.clear_cache()
    yield
    availability.clear_cache()


def calls() -> list[int]:
    """Credential ids the plug-in was asked about (none when it was never even loaded)."""
    module = sys.modules.get(PLUGIN_MODULE)
    return module.CALLS if module is not None else []


@pytest.fixture
def company(session):
    return companies.create(session, name="Acme", actor=ACTOR)


@pytest.fixture
def ctype(session, company):
    manifests.import_credential_prototype(session, PROTOTYPE, actor=ACTOR)
    return credentials.create_type(
        session, company=company.id, name="Gate", prototype_ref="gateprobe", actor=ACTOR
    )


@pytest.fixture
def make_credential(session, company, ctype):
    def make(state, *, ttl=None, name="main"):
        values = {"PROBE_STATE": state, "PROBE_TOKEN": TOKEN}
        if ttl is not None:
            values["PROBE_TTL"] = str(ttl)
        return credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name=name,
            values=values,
            actor=ACTOR,
        )

    return make


@pytest.fixture
def make_rt(session, app, company):
    def make(credential=None, **settings):
        rt = runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=ACTOR,
            values={"ENDPOINT": "https://erp.example"},
            **settings,
        )
        if credential is not None:
            runtemplates.bind_credential(session, rt.id, credential.id, actor=ACTOR)
        return rt

    return make


def add_required_field(session, keyword="PROBE_ACCOUNT"):
    """A newer version of the prototype asks for one more required field."""
    document = dict(PROTOTYPE, version="1.1.0")
    document["fields"] = [
        *PROTOTYPE["fields"],
        {"keyword": keyword, "type": "string", "name": "Account", "required": True},
    ]
    manifests.import_credential_prototype(session, document, actor=ACTOR)


def fresh(session, job_id):
    job = jobs.get(session, job_id)
    session.refresh(job)
    return job


def output_of(session, job_id):
    return [
        (line.stream, line.text)
        for line in session.scalars(
            sa.select(JobOutputLine)
            .where(JobOutputLine.job_id == job_id)
            .order_by(JobOutputLine.seq)
        )
    ]


# -- the answer ------------------------------------------------------------------------


def test_an_answer_knows_whether_it_lets_a_job_run_and_keeps_its_ttl_in_bounds():
    assert Availability("available").satisfied and Availability(State.UNKNOWN).satisfied
    for state in ("degraded", "unavailable", "misconfigured"):
        assert not Availability(state).satisfied
    assert Availability("available").ttl == availability.DEFAULT_TTL == 60
    assert Availability("degraded", ttl=0).ttl == 1
    assert Availability("degraded", ttl=10**9).ttl == 24 * 3600
    assert Availability("unavailable", "bank down").describe() == "unavailable: bank down"
    with pytest.raises(ValueError):
        Availability("broken")
    with pytest.raises(ValueError):
        Availability("available", ttl=float("nan"))


# -- the checks --------------------------------------------------------------------------


def test_a_required_field_without_a_value_is_misconfigured_naming_it(
    session, make_credential, make_rt
):
    credential = make_credential("available")
    rt = make_rt(credential)
    assert availability.gate(session, rt) is None  # complete, and no plug-in: unknown
    (status,) = availability.check_run_template(session, rt)
    assert status.availability.state is State.UNKNOWN
    assert "no availability check is installed for 'gateprobe'" in status.availability.message

    add_required_field(session)
    availability.clear_cache()
    held = availability.gate(session, rt)
    assert held is not None and held.credential_id == credential.id
    assert held.availability.state is State.MISCONFIGURED
    assert held.availability.message == "required field without a value: PROBE_ACCOUNT"
    assert held.describe() == (
        "credential 'main' (gateprobe): misconfigured: "
        "required field without a value: PROBE_ACCOUNT"
    )


def test_a_plugin_answers_its_message_is_masked_and_the_answer_is_kept_for_its_ttl(
    session, plugin, make_credential, make_rt
):
    credential = make_credential("unavailable", ttl=120)
    rt = make_rt(credential)
    held = availability.gate(session, rt)
    assert held is not None
    result = held.availability
    assert (result.state, result.ttl) == (State.UNAVAILABLE, 120)
    assert result.message == "the bank says token *** is unavailable"
    assert calls() == [credential.id]
    # kept: the gate of the next job does not ask again
    assert availability.gate(session, rt).availability == result
    assert calls() == [credential.id]
    # a changed credential is checked afresh at once
    credentials.update(session, credential.id, values={"PROBE_STATE": "available"}, actor=ACTOR)
    assert availability.gate(session, rt) is None
    assert calls() == [credential.id, credential.id]


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("raise", "the check for 'gateprobe' failed (RuntimeError)"),
        ("exit", "the check for 'gateprobe' failed (SystemExit)"),
        ("garbage", "the check for 'gateprobe' gave no usable answer"),
        ("slow", "the check for 'gateprobe' gave no answer in 0.3 s"),
    ],
)
def test_a_plugin_that_raises_answers_garbage_or_hangs_gives_unknown_without_values(
    session, plugin, make_credential, make_rt, caplog, mode, message
):
    rt = make_rt(make_credential(mode))
    caplog.set_level(logging.WARNING, logger="multiflexi.core.availability")
    (status,) = availability.check_credentials(
        session, availability.bound_credentials(rt), timeout=0.3
    )
    assert status.availability.state is State.UNKNOWN and status.satisfied
    assert status.availability.message == message
    assert caplog.records, "the failure is logged"
    assert TOKEN not in caplog.text


# -- held jobs ---------------------------------------------------------------------------


def test_an_unavailable_credential_blocks_the_job_and_it_is_scheduled_again_after_the_ttl(
    session, engine, redis, plugin, make_credential, make_rt
):
    rt = make_rt(make_credential("unavailable", ttl=90))
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    # the worker's session speaks to this Redis (the announcement goes to REDIS_URL's)
    url = redis.connection_pool.connection_kwargs
    session.info["settings"] = dataclasses.replace(
        session.info["settings"], redis_url=f"redis://{url['host']}:{url['port']}/0"
    )
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(queue.WAKE_CHANNEL)
    listener.get_message(timeout=1)

    started, held = lifecycle.begin(session, job.id, worker="w1", lease=LEASE, redis=redis)

    assert started is Start.BLOCKED and held.id == job.id
    job = fresh(session, job.id)
    assert job.state == "scheduled"
    # the scheduler is told when to deliver it again (its alarm, not its next check)
    announced = listener.get_message(timeout=2)
    listener.close()
    assert announced is not None and queue.wake_time(announced["data"]) == job.scheduled_at
    assert job.started_at is None and job.worker is None
    assert job.block_reason == (
        "credential 'main' (gateprobe): unavailable: the bank says token *** is unavailable"
    )
    assert job.scheduled_at == job.blocked_at + dt.timedelta(seconds=90)
    assert slots.in_use(session, rt.id) == 0
    ((stream, text),) = output_of(session, job.id)
    assert stream == "system" and text.startswith(f"blocked: {job.block_reason}; tried again at ")
    # a duplicate delivery of the held job does nothing
    assert lifecycle.start(session, job.id, worker="w2", lease=LEASE) is Start.NOT_OURS
    redis.flushall()  # the delivery that ran the gate is over (a worker took it)
    # the scheduler delivers it when the ttl has passed, not before
    assert scheduling.deliver_due(session, redis, job.scheduled_at - dt.timedelta(seconds=1)) == []
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job.id]
    assert fresh(session, job.id).state == "queued"
    # the bank is back: the next delivery runs it (after the kept answer expired)
    credentials.update(
        session,
        rt.credential_bindings[0].credential_id,
        values={"PROBE_STATE": "available"},
        actor=ACTOR,
    )
    assert lifecycle.start(session, job.id, worker="w1", lease=LEASE) is Start.RUNNING
    assert TOKEN.encode() not in database_bytes(engine)


def test_a_deferred_scheduler_job_stays_the_outstanding_occurrence(
    session, redis, plugin, make_credential, make_rt
):
    rt = make_rt(make_credential("degraded", ttl=30), interval_code="i")
    now = dt.datetime.now(dt.UTC)
    (job_id,) = scheduling.plan(session, now).planned
    job = fresh(session, job_id)
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job_id]

    assert lifecycle.start(session, job_id, worker="w", lease=LEASE) is Start.BLOCKED

    job = fresh(session, job_id)
    session.refresh(rt)
    assert job.state == "scheduled" and rt.next_schedule == job.scheduled_at
    assert scheduling.plan(session, dt.datetime.now(dt.UTC)).planned == []  # no second job
    assert scheduling.cancel_stale(session, dt.datetime.now(dt.UTC)) == []
    redis.flushall()  # the delivery that ran the gate is over (a worker took it)
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job_id]


def test_a_misconfigured_credential_holds_the_job_and_the_schedule_goes_on(
    session, redis, plugin, make_credential, make_rt
):
    rt = make_rt(make_credential("available"), interval_code="i")
    add_required_field(session)
    now = dt.datetime.now(dt.UTC)
    (job_id,) = scheduling.plan(session, now).planned
    planned_at = fresh(session, job_id).scheduled_at
    scheduling.deliver_due(session, redis, planned_at)

    assert lifecycle.start(session, job_id, worker="w", lease=LEASE) is Start.BLOCKED

    job = fresh(session, job_id)
    assert job.state == "blocked" and job.scheduled_at == planned_at
    assert job.block_reason.endswith("misconfigured: required field without a value: PROBE_ACCOUNT")
    assert output_of(session, job_id) == [
        ("system", f"blocked: {job.block_reason}; held until it is fixed (the job will not run)")
    ]
    assert calls() == []  # the plug-in is not asked about an incomplete credential
    session.refresh(rt)
    assert rt.next_schedule is None and (rt.success_count, rt.failure_count) == (0, 0)
    (next_id,) = scheduling.plan(session, planned_at + dt.timedelta(seconds=1)).planned
    assert fresh(session, next_id).scheduled_at > planned_at
    assert fresh(session, job_id).state == "blocked"
    assert slots.in_use(session, rt.id) == 0


def test_an_unknown_answer_lets_the_job_run(session, redis, plugin, make_credential, make_rt):
    rt = make_rt(make_credential("raise"))
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert lifecycle.start(session, job.id, worker="w", lease=LEASE) is Start.RUNNING
    job = fresh(session, job.id)
    assert (job.state, job.block_reason, job.blocked_at) == ("running", None, None)


def test_a_job_without_credentials_runs_as_before(session, redis, make_rt):
    rt = make_rt()
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    assert lifecycle.start(session, job.id, worker="w", lease=LEASE) is Start.RUNNING


# -- the on-demand check -----------------------------------------------------------------


def test_a_user_checks_a_credential_on_demand_audited_and_within_their_company(
    session, engine, plugin, company, make_credential
):
    credential = make_credential("degraded")
    other = companies.create(session, name="Beta", actor=ACTOR)
    manager = access.Principal("amy", user_id=None, roles={company.id: "manager"})
    viewer = access.Principal("bob", user_id=None, roles={company.id: "viewer"})
    outsider = access.Principal("eve", user_id=None, roles={other.id: "admin"})

    result = availability.check_credential(session, credential.id, actor=manager)

    assert result.state is State.DEGRADED
    assert result.message == "the bank says token *** is degraded"
    assert result.checked_at.tzinfo is not None
    entries = audit.entries(session, entity_type="credential", actor="amy").items
    assert [(e.action, e.details) for e in entries] == [
        (
            "check",
            {
                "state": "degraded",
                "message": "the bank says token *** is degraded",  # masked, as answered
                "prototype": "gateprobe",
            },
        )
    ]
    # on demand means afresh: the kept answer is not reused
    availability.check_credential(session, credential.id, actor=manager)
    assert calls() == [credential.id, credential.id]

    rows = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    with pytest.raises(PermissionDenied):
        availability.check_credential(session, credential.id, actor=viewer)
    with pytest.raises(NotFound, match=f"credential {credential.id} not found"):
        availability.check_credential(session, credential.id, actor=outsider)
    with pytest.raises(NotFound):
        availability.check_credential(session, 999_999, actor=manager)
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == rows
    assert calls() == [credential.id, credential.id]
    assert TOKEN.encode() not in database_bytes(engine)
