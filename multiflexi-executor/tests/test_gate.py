"""The credential availability gate in the executor: real workers, a real Redis, a real plug-in.

The check plug-in is an installed distribution (a module and a ``*.dist-info`` with
``entry_points.txt`` in a temporary folder) on the ``PYTHONPATH`` of the worker
process (or on ``sys.path`` for the runs in this process). It answers what the
credential's PROBE_STATE says and quotes the credential's secret token in its
message, which must never be stored, logged or printed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from multiflexi.core import (
    audit,
    availability,
    config,
    credentials,
    jobs,
    manifests,
    runtemplates,
    scheduling,
)
from multiflexi.core.lifecycle import Start
from multiflexi.core.models import Job, JobOutputLine, Lease, RunTemplate
from multiflexi.core.testing import database_bytes, plugin_distribution
from multiflexi.executor import runner

ACTOR = audit.Actor("tester", source="test")
TOKEN = "bank-T0ken-51f0c9e2"
PLUGIN_MODULE = "mf_exec_gate_check"
PROTOTYPE = {
    "uuid": "5d2b7c1e-8f3a-4e6b-9a0d-1c2e3f4a5b6c",
    "version": "1.0.0",
    "code": "gateprobe",
    "name": "Gate probe",
    "fields": [
        {"keyword": "PROBE_STATE", "type": "string", "name": "State", "required": True},
        {"keyword": "PROBE_TOKEN", "type": "password", "name": "Token", "required": True},
        {"keyword": "PROBE_TTL", "type": "string", "name": "TTL"},
    ],
}
PLUGIN_SOURCE = """
from multiflexi.core.availability import Availability


def check(request):
    mode = request.values["PROBE_STATE"]
    token = request.values["PROBE_TOKEN"]
    if mode == "raise":
        raise RuntimeError(f"the bank refused {token}")
    ttl = float(request.values.get("PROBE_TTL") or 60)
    return Availability(mode, f"the bank says token {token} is {mode}", ttl=ttl)
"""
UNAVAILABLE = "credential 'bank' (gateprobe): unavailable: the bank says token *** is unavailable"


@pytest.fixture
def plugin_path(tmp_path):
    """The folder of the installed check plug-in (for PYTHONPATH or sys.path)."""
    return plugin_distribution(
        tmp_path / "plugins",
        "mf-exec-gate",
        modules={PLUGIN_MODULE: PLUGIN_SOURCE},
        entry_points={availability.GROUP: {"gateprobe": f"{PLUGIN_MODULE}:check"}},
    )


@pytest.fixture
def in_process_plugin(plugin_path, monkeypatch):
    monkeypatch.syspath_prepend(str(plugin_path))
    availability.clear_cache()
    yield
    sys.modules.pop(PLUGIN_MODULE, None)
    availability.clear_cache()


@pytest.fixture
def with_plugin(environ, plugin_path):
    """The worker's environment, with the plug-in on its PYTHONPATH."""
    paths = [str(plugin_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**environ, "PYTHONPATH": os.pathsep.join(paths)}


@pytest.fixture
def bind(session):
    """Give a run template a bound 'gateprobe' credential in the state given."""

    def bind_to(rt, state, *, ttl=None):
        manifests.import_credential_prototype(session, PROTOTYPE, actor=ACTOR)
        ctype = credentials.create_type(
            session, company=rt.company_id, name="Bank", prototype_ref="gateprobe", actor=ACTOR
        )
        values = {"PROBE_STATE": state, "PROBE_TOKEN": TOKEN}
        if ttl is not None:
            values["PROBE_TTL"] = str(ttl)
        credential = credentials.create(
            session,
            company=rt.company_id,
            credential_type_id=ctype.id,
            name="bank",
            values=values,
            actor=ACTOR,
        )
        runtemplates.bind_credential(session, rt.id, credential.id, actor=ACTOR)
        return credential

    return bind_to


def require_another_field(session):
    """A newer prototype asks for a required field the credential does not have."""
    document = dict(PROTOTYPE, version="1.1.0")
    document["fields"] = [
        *PROTOTYPE["fields"],
        {"keyword": "PROBE_ACCOUNT", "type": "string", "name": "Account", "required": True},
    ]
    manifests.import_credential_prototype(session, document, actor=ACTOR)


def start_worker(environ, *args):
    log = Path(environ["MULTIFLEXI_TMP"]).parent / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "multiflexi.executor", "worker", *args],
            env={**os.environ, **environ},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return process, log


def run_worker_burst(environ):
    process, log = start_worker(environ, "--burst")
    try:
        assert process.wait(timeout=90) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return log.read_text()


def fresh(session, job_id):
    session.expire_all()
    return session.get(Job, job_id)


def output_of(session, job_id):
    return [
        (line.seq, line.stream, line.text)
        for line in session.scalars(
            sa.select(JobOutputLine)
            .where(JobOutputLine.job_id == job_id)
            .order_by(JobOutputLine.seq)
        )
    ]


def leaks(settings, *texts):
    engine = config.create_engine(settings.database_url)
    try:
        data = database_bytes(engine)
    finally:
        engine.dispose()
    return [t for t in texts if t.encode() in data]


def test_a_worker_blocks_a_job_whose_credential_is_unavailable_and_it_comes_back_after_the_ttl(
    with_plugin, settings, session, make_rt, bind, redis, tmp_path
):
    ran = tmp_path / "the-application-ran"
    rt = make_rt("probe.py", f"--started {ran}")
    bind(rt, "unavailable", ttl=120)
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)

    log = run_worker_burst(with_plugin)

    job = fresh(session, job.id)
    assert not ran.exists()  # the application was never started
    assert job.state == "scheduled"
    assert (job.started_at, job.pid, job.command, job.exit_code) == (None, None, None, None)
    assert job.block_reason == UNAVAILABLE
    assert job.scheduled_at == job.blocked_at + dt.timedelta(seconds=120)
    assert dt.datetime.now(dt.UTC) < job.scheduled_at
    ((seq, stream, text),) = output_of(session, job.id)
    assert (seq, stream) == (1, "system")
    assert text.startswith(f"blocked: {UNAVAILABLE}; tried again at ")
    assert session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0  # no slot held
    assert f"job {job.id}: blocked: {UNAVAILABLE}" in log
    assert TOKEN not in log
    assert leaks(settings, TOKEN) == []
    # the scheduler delivers the same job again once the ttl has passed, not before
    assert scheduling.deliver_due(session, redis, job.scheduled_at - dt.timedelta(seconds=1)) == []
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job.id]
    assert fresh(session, job.id).state == "queued"


@pytest.mark.postgresql
def test_a_misconfigured_credential_holds_the_job_and_the_next_occurrence_is_planned(
    with_plugin, session, make_rt, bind, redis, tmp_path
):
    ran = tmp_path / "the-application-ran"
    rt = make_rt("probe.py", f"--started {ran}", interval_code="h")
    bind(rt, "available")
    require_another_field(session)
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis, schedule_type="hourly")
    session.execute(sa.update(RunTemplate).values(next_schedule=job.scheduled_at))
    session.commit()

    log = run_worker_burst(with_plugin)

    job = fresh(session, job.id)
    assert not ran.exists()
    assert job.state == "blocked"
    assert job.block_reason == (
        "credential 'bank' (gateprobe): misconfigured: "
        "required field without a value: PROBE_ACCOUNT"
    )
    assert job.blocked_at is not None and job.started_at is None
    assert output_of(session, job.id)[0][2].endswith(
        "held until it is fixed (the job will not run)"
    )
    assert TOKEN not in log
    run_template = session.get(RunTemplate, rt.id)
    assert run_template.next_schedule is None  # released as after a finished job
    (planned,) = scheduling.plan(session, dt.datetime.now(dt.UTC)).planned
    assert fresh(session, planned).run_template_id == rt.id
    assert fresh(session, job.id).state == "blocked"


def test_a_check_that_raises_lets_the_job_run(with_plugin, session, make_rt, bind, redis, tmp_path):
    ran = tmp_path / "the-application-ran"
    rt = make_rt("probe.py", f"--started {ran}")
    bind(rt, "raise")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)

    log = run_worker_burst(with_plugin)

    job = fresh(session, job.id)
    assert ran.exists()
    assert (job.state, job.exit_code, job.block_reason, job.blocked_at) == (
        "success",
        0,
        None,
        None,
    )
    assert "the availability check 'gateprobe' failed (RuntimeError)" in log
    assert TOKEN not in log


def test_a_deferred_job_that_runs_later_keeps_its_gate_line_before_its_output(
    in_process_plugin, context, session, make_rt, bind, redis
):
    rt = make_rt("probe.py", "--lines 2")
    credential = bind(rt, "degraded", ttl=5)
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)

    held = runner.run(context, job.id)

    assert held.start is Start.BLOCKED and held.state == "scheduled"
    assert held.summary()["block_reason"] == held.block_reason
    assert held.block_reason.endswith("degraded: the bank says token *** is degraded")
    credentials.update(session, credential.id, values={"PROBE_STATE": "available"}, actor=ACTOR)
    redis.flushall()  # the first delivery is over
    assert scheduling.deliver_due(session, redis, fresh(session, job.id).scheduled_at) == [job.id]

    result = runner.run(context, job.id)

    assert result.outcome is not None and result.outcome.state == "success"
    lines = output_of(session, job.id)
    assert [seq for seq, _, _ in lines] == list(range(1, len(lines) + 1))
    assert lines[0][1] == "system" and lines[0][2].startswith("blocked: ")
    assert ("stdout", "line 1") in [(stream, text) for _, stream, text in lines]
    job = fresh(session, job.id)
    assert job.output_lines == len(lines)
    assert job.block_reason == held.block_reason  # the record of the earlier hold stays


def command(environ, *args, timeout=90):
    return subprocess.run(
        [sys.executable, "-m", "multiflexi.executor", *args],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_template_exits_75_with_the_reason_when_the_gate_holds_the_job(
    with_plugin, session, make_rt, bind, tmp_path
):
    ran = tmp_path / "the-application-ran"
    rt = make_rt("probe.py", f"--started {ran}")
    bind(rt, "unavailable")

    result = command(with_plugin, "run-template", str(rt.id))

    assert result.returncode == 75, result.stderr
    job = session.scalar(sa.select(Job).where(Job.run_template_id == rt.id))
    assert result.stderr == (
        f"multiflexi-executor: job {job.id} blocked: {UNAVAILABLE} (it is tried again later)\n"
    )
    assert result.stdout == ""
    assert not ran.exists()
    assert job.state == "scheduled"

    require_another_field(session)
    held = command(with_plugin, "run-template", str(rt.id))
    assert held.returncode == 75
    assert "misconfigured: required field without a value: PROBE_ACCOUNT" in held.stderr
    assert held.stderr.endswith("(it will not run as it is)\n")
    assert TOKEN not in result.stderr + result.stdout + held.stderr + held.stdout
    assert not ran.exists()
