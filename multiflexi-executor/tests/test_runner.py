"""One job through the runner, in this process, with real processes, SQLite and Redis."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import http.server
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Queue

from multiflexi.core import (
    actions,
    audit,
    companies,
    jobenv,
    jobs,
    lifecycle,
    runtemplates,
    scheduling,
)
from multiflexi.core.environment import mask_pieces, mask_runs, secret_runs
from multiflexi.core.lifecycle import Start
from multiflexi.core.models import Artifact, Job, JobOutputLine, Lease, RunTemplateAction
from multiflexi.core.testing import database_bytes
from multiflexi.database import tables as t
from multiflexi.executor import artifacts, defaults, runner

ACTOR = audit.Actor("tester", source="test")
SECRET = "s3cr3t-Pa55w0rd-XYZ"  # the API_TOKEN of every run template (conftest)


def launch(session, rt, redis, **kwargs):
    return jobs.launch(session, rt.id, actor=ACTOR, redis=redis, **kwargs)


def lines(session, job_id, stream=None):
    query = sa.select(JobOutputLine).where(JobOutputLine.job_id == job_id)
    if stream:
        query = query.where(JobOutputLine.stream == stream)
    return [(row.stream, row.text) for row in session.scalars(query.order_by(JobOutputLine.seq))]


def alive(pid):
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def texts(session, job_id, stream="stdout"):
    return [text for _, text in lines(session, job_id, stream)]


def test_a_job_runs_in_its_work_directory_and_its_record_is_complete(
    context, session, make_rt, redis
):
    rt = make_rt(
        "probe.py",
        "--stderr --lines 3 --exit 2",
        exit_codes=[(2, "nothing to import", "warning", False)],
    )
    job = launch(session, rt, redis)
    result = runner.run(context, job.id)
    assert result.start is Start.RUNNING
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("failed", 2)
    assert (done.exit_description, done.severity) == ("nothing to import", "warning")
    assert done.worker == "test-host:1:1" and done.pid > 0
    assert done.started_at <= done.finished_at
    work_dir = str(context.settings.tmp_dir / f"job-{job.id}")
    out = texts(session, job.id)
    assert out[0] == f"cwd={work_dir}" and f"tmp={work_dir}" in out
    assert out[-3:] == ["line 0", "line 1", "line 2"]
    assert texts(session, job.id, "stderr") == ["to stderr"]
    assert done.output_lines == len(lines(session, job.id))
    assert done.command[-4:] == ["--lines", "3", "--exit", "2"]
    assert done.environment["API_TOKEN"] == "***"
    assert not os.path.exists(work_dir)  # cleaned up after the job
    assert session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0  # slot freed


def test_the_workers_own_variables_never_reach_the_job(
    context, session, make_rt, redis, monkeypatch
):
    monkeypatch.setenv("DB_PASSWORD", "worker-db-password")
    monkeypatch.setenv("ENCRYPTION_MASTER_KEY", "worker-master-key")
    monkeypatch.setenv("REDIS_URL", "redis://secret-host/0")
    monkeypatch.setenv("LC_TIME", "C")
    rt = make_rt("probe.py")
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    seen = next(t for t in texts(session, job.id) if t.startswith("env=")).split("=", 1)[1]
    names = set(seen.split(","))
    assert not names & {"DB_PASSWORD", "ENCRYPTION_MASTER_KEY", "REDIS_URL", "DATABASE_URL"}
    assert {"PATH", "LC_TIME", "API_TOKEN", "GREETING", "MULTIFLEXI_JOB_ID"} <= names


def test_a_secret_printed_by_the_job_is_stored_masked(
    context, session, engine_bytes, make_rt, redis
):
    rt = make_rt("probe.py", "--secret")
    pubsub = redis.pubsub()
    job = launch(session, rt, redis)
    pubsub.subscribe(f"multiflexi:job:{job.id}:output")
    runner.run(context, job.id)
    assert "token is *** ok" in texts(session, job.id)
    published = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        if message["type"] == "message":
            published.append(message["data"].decode())
    assert any("token is *** ok" in m for m in published)
    assert any('"end": true' in m for m in published)
    assert not any(SECRET in m for m in published)
    assert SECRET.encode() not in engine_bytes()


@pytest.fixture
def engine_bytes(context):
    return lambda: database_bytes(context.sessions.kw["bind"])


def test_timeout_kills_the_whole_process_group(context, session, make_rt, redis, tmp_path):
    pidfile = tmp_path / "child.pid"
    # the shell ignores SIGTERM, so only SIGKILL ends it; its background child must die too
    script = f"trap '' TERM; sleep 60 & echo $! > {pidfile}; wait"
    rt = make_rt(executable="/bin/sh", args=f'-c "{script}"', timeout=1)
    job = launch(session, rt, redis)
    begin = time.monotonic()
    runner.run(context, job.id)
    assert time.monotonic() - begin < 10
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert done.state == "failed"
    assert done.exit_code == 137  # 128 + SIGKILL, not 124
    assert done.exit_description.startswith("timed out after 1 s")
    assert "SIGKILL" in done.exit_description
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not alive(child)


def test_a_signalled_process_stores_128_plus_the_signal(context, session, make_rt, redis):
    rt = make_rt(executable="/bin/sh", args='-c "kill -TERM $$"')
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code, done.exit_description) == (
        "failed",
        143,
        "killed by SIGTERM",
    )


def test_cancel_stops_a_running_job(context, session, make_rt, redis, tmp_path):
    started = tmp_path / "started"
    rt = make_rt("probe.py", f"--started {started} --sleep 30")
    job = launch(session, rt, redis)

    def cancel_when_started():
        while not started.exists():
            time.sleep(0.05)
        with context.sessions() as other:
            jobs.cancel(other, job.id, actor=ACTOR)

    thread = threading.Thread(target=cancel_when_started)
    thread.start()
    begin = time.monotonic()
    runner.run(context, job.id)
    thread.join()
    assert time.monotonic() - begin < 10
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("cancelled", 143)


def test_a_duplicate_delivery_runs_the_job_once(context, session, make_rt, redis):
    rt = make_rt("probe.py")
    job = launch(session, rt, redis)
    assert runner.run(context, job.id).start is Start.RUNNING
    assert runner.run(context, job.id).start is Start.NOT_OURS
    assert texts(session, job.id).count(f"tmp={context.settings.tmp_dir / f'job-{job.id}'}") == 1


def test_a_job_without_a_free_slot_waits_and_is_delivered_again_when_it_frees(
    context, session, make_rt, redis
):
    rt = make_rt("probe.py")
    first = launch(session, rt, redis)
    second = launch(session, rt, redis)
    # the first job holds the only slot while the second is delivered
    assert (
        lifecycle.start(session, first.id, worker="w", lease=context.options.lease) is Start.RUNNING
    )
    assert runner.run(context, second.id).start is Start.WAITING
    session.refresh(second)
    assert second.state == "waiting"
    redis.flushall()
    lifecycle.conclude(session, first.id, exit_code=0)
    session.refresh(second)
    assert second.state == "queued"
    delivered = Queue("default", connection=redis).get_jobs()
    assert [(j.func_name, j.args) for j in delivered] == [(jobs.queue.RUN_JOB, (second.id,))]
    assert runner.run(context, second.id).start is Start.RUNNING


def test_retry_policy_creates_linked_attempts_until_max_attempts(context, session, make_rt, redis):
    rt = make_rt(
        "probe.py", "--exit 1", max_attempts=3, retry_backoff="exponential", retry_min_gap=0
    )
    first = launch(session, rt, redis, overrides={"GREETING": "again"})
    runner.run(context, first.id)
    attempts = [first.id]
    while True:
        follow = session.scalar(sa.select(Job).where(Job.parent_job_id == attempts[-1]))
        if follow is None:
            break
        assert (follow.schedule_type, follow.retry_of_id) == ("retry", first.id)
        assert follow.state == "queued"
        runner.run(context, follow.id)
        assert "greeting=again" in texts(session, follow.id)
        attempts.append(follow.id)
    assert [jobs.get(session, i).attempt for i in attempts] == [1, 2, 3]


def test_an_exit_code_marked_retry_in_the_manifest_is_retried(context, session, make_rt, redis):
    rt = make_rt("probe.py", "--exit 75", exit_codes=[(75, "bank busy", "warning", True)])
    job = launch(session, rt, redis)
    outcome = runner.run(context, job.id).outcome
    assert outcome.retry_job_id is not None
    retry = jobs.get(session, outcome.retry_job_id)
    assert (retry.attempt, retry.retry_of_id) == (2, job.id)
    other = make_rt("probe.py", "--exit 1")
    plain = launch(session, other, redis)
    assert runner.run(context, plain.id).outcome.retry_job_id is None


def test_result_file_and_matching_files_become_artifacts(context, session, make_rt, redis):
    rt = make_rt(
        "probe.py",
        "--result '{\"ok\": true}' --file report-1.csv",
        artifacts=[(r"^report-\d+\.csv$", "report")],
        values={"RESULT_FILE": "result.json"},
    )
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    found = {
        a.name: a for a in session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id))
    }
    assert set(found) == {"result.json", "report-1.csv"}
    assert found["result.json"].content == b'{"ok": true}'
    assert (found["report-1.csv"].type, found["report-1.csv"].content_type) == (
        "report",
        "text/csv",
    )


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_a_result_file_outside_the_work_directory_is_never_collected(
    context, session, make_rt, redis, where
):
    # a file of the worker's host that the job's settings point at (invariant 9)
    if where == "absolute":
        outside = Path(context.settings.data_dir) / "worker.env"
        value = str(outside)
    else:
        outside = Path(context.settings.tmp_dir) / "neighbour.env"
        value = "../neighbour.env"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("ENCRYPTION_MASTER_KEY=host-only\n")
    rt = make_rt("probe.py", "--lines 1", values={"RESULT_FILE": value})
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    assert not session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id)).all()
    assert any(
        "RESULT_FILE" in text and "not kept" in text for text in texts(session, job.id, "system")
    )


def test_a_link_out_of_the_work_directory_is_never_collected(context, session, make_rt, redis):
    outside = Path(context.settings.data_dir) / "worker.env"
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_text("ENCRYPTION_MASTER_KEY=host-only\n")
    rt = make_rt(
        None,
        f"-s {outside} report-9.csv",
        executable="/bin/ln",
        artifacts=[(r"^report-\d+\.csv$", "report")],
        values={"RESULT_FILE": "result.json"},
    )
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    session.expire_all()
    done = session.get_one(Job, job.id)
    assert (done.state, done.exit_code) == ("success", 0)
    assert not session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id)).all()


def test_a_big_artifact_is_copied_whole_while_the_lease_is_kept(
    context, session, make_rt, redis, monkeypatch
):
    # 512 MiB of a sparse file: no machine copies and hashes it within one heartbeat interval
    size = 512 * 1024 * 1024
    monkeypatch.setattr(
        context, "options", dataclasses.replace(context.options, lease=dt.timedelta(seconds=0.6))
    )
    rt = make_rt(
        None, f"-s {size} big.bin", executable="/usr/bin/truncate", artifacts=[(r"^big\.bin$", "")]
    )
    job = launch(session, rt, redis)
    copy = Path(context.settings.data_dir) / "artifacts" / f"job-{job.id}" / "big.bin"
    beats_while_copying: list[bool] = []
    monkeypatch.setattr(context, "on_heartbeat", lambda: beats_while_copying.append(copy.exists()))
    runner.run(context, job.id)
    session.expire_all()
    assert session.get_one(Job, job.id).state == "success"
    assert any(beats_while_copying)  # the lease was renewed during the copy
    (artifact,) = session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id))
    zeros = hashlib.sha256()
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        zeros.update(block)
    assert (artifact.size, artifact.sha256) == (size, zeros.hexdigest())
    assert copy.stat().st_size == size
    copy.unlink()  # pytest keeps the temporary directories of the last runs


def test_a_failing_action_is_logged_and_never_changes_the_outcome(context, session, make_rt, redis):
    rt = make_rt("probe.py")
    other = make_rt("probe.py")
    for position, (action, options) in enumerate(
        [
            ("webhook", {"url": "http://127.0.0.1:1/hook", "timeout": 1}),
            ("chain", {"run_template_id": other.id}),
            ("no-such-action", {}),
            ("deactivate", {}),
        ]
    ):
        session.add(
            RunTemplateAction(
                run_template_id=rt.id,
                mode="success",
                action=action,
                options=options,
                position=position,
            )
        )
    session.add(
        RunTemplateAction(run_template_id=rt.id, mode="failure", action="deactivate", position=9)
    )
    session.commit()
    job = launch(session, rt, redis, overrides={"GREETING": "chained hello"})
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("success", 0)
    logged = texts(session, job.id, "action")
    assert logged[0].startswith("action webhook failed: the address is not reachable")
    # the address is a secret (it may carry a token): never on the job's output
    assert [line for line in logged if "127.0.0.1:1" in line] == []
    assert any(t.startswith("action no-such-action failed") for t in logged)
    assert "action deactivate: done" in logged
    session.refresh(rt)
    assert rt.active is False
    chained = session.scalar(sa.select(Job).where(Job.parent_job_id == job.id))
    assert (chained.run_template_id, chained.schedule_type, chained.state) == (
        other.id,
        "chained",
        "queued",
    )
    assert jobenv.overrides_of(session, chained)[0]["GREETING"] == "chained hello"
    assert runner.run(context, chained.id).outcome.state == "success"
    assert "greeting=chained hello" in texts(session, chained.id)


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    """A real HTTP server on a free local port that records what is POSTed to it."""
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Hook.received
    server.shutdown()
    server.server_close()


def test_a_webhook_with_a_sealed_url_reaches_its_server_at_that_url(
    context, session, engine_bytes, make_rt, redis, hook_server
):
    base, received = hook_server
    secret_url = f"{base}/hooks/ops?token=PLANTED-hook-token-77d0"
    rt = make_rt("probe.py", "--lines 1")
    actions.put_action(
        session,
        rt.id,
        "success",
        "webhook",
        {"url": secret_url, "timeout": 5},
        actor=audit.Actor.cli(),
    )
    assert b"PLANTED-hook-token-77d0" not in engine_bytes()  # sealed at rest
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    assert [path for path, _ in received] == ["/hooks/ops?token=PLANTED-hook-token-77d0"]
    body = received[0][1]
    assert (body["job_id"], body["state"], body["exit_code"]) == (job.id, "success", 0)
    assert "line 0" in body["output"]
    logged = texts(session, job.id, "action")
    assert logged == ["action webhook: done"]
    assert b"PLANTED-hook-token-77d0" not in engine_bytes()  # nor in the job's record


def job_counts(session):
    """(the counters of multiflexi.core.jobcounts, the real counts) per company."""
    session.commit()
    counters = dict(
        session.execute(sa.select(t.job_counts.c.company_id, t.job_counts.c.total)).all()
    )
    real = dict(
        session.execute(sa.select(Job.company_id, sa.func.count()).group_by(Job.company_id)).all()
    )
    return counters, real


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def test_jobs_made_by_retries_and_actions_are_counted_in_their_company(
    backend, context, session, make_rt, redis
):
    rt = make_rt("probe.py", "--exit 1", max_attempts=2, retry_backoff="fixed", retry_min_gap=0)
    other_company = companies.create(session, name="Globex", actor=ACTOR)
    target = runtemplates.create(
        session,
        company=other_company.id,
        app_id=rt.application_id,
        actor=ACTOR,
        values={"API_TOKEN": "another-token"},
    )
    for position, (action, options) in enumerate(
        [("chain", {"run_template_id": target.id}), ("reschedule", {"delay": 3600})]
    ):
        session.add(
            RunTemplateAction(
                run_template_id=rt.id,
                mode="failure",
                action=action,
                options=options,
                position=position,
            )
        )
    session.commit()
    first = launch(session, rt, redis)
    runner.run(context, first.id)  # fails: a retry, a chained job in Globex, a rescheduled one
    retry = session.scalar(sa.select(Job).where(Job.retry_of_id == first.id))
    runner.run(context, retry.id)  # fails again: no retry left, but chained and rescheduled
    made = session.scalars(sa.select(Job.schedule_type).where(Job.parent_job_id.is_not(None)))
    assert sorted(made) == ["chained", "chained", "reschedule", "reschedule", "retry"]
    counters, real = job_counts(session)
    assert counters == real == {rt.company_id: 4, other_company.id: 2}
    assert jobs.list_jobs(session, limit=1, offset=1).total == 6


def test_a_command_that_does_not_exist_fails_with_127(context, session, make_rt, redis):
    rt = make_rt(executable="/nonexistent/app")
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("failed", 127)
    assert done.exit_description.startswith("command not found: /nonexistent/app")


def test_a_secret_written_in_two_halves_is_stored_masked(
    context, session, engine_bytes, make_rt, redis
):
    half = len(SECRET) // 2
    # the halves reach the runner in two reads: the line is masked once it is whole
    rt = make_rt("emit.py", f"text=token= secret=:{half} pause=0.5 secret={half}: 'text= ok' nl")
    job = launch(session, rt, redis)
    pubsub = redis.pubsub()
    pubsub.subscribe(f"multiflexi:job:{job.id}:output")
    runner.run(context, job.id)
    assert texts(session, job.id) == ["token=*** ok"]
    published = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        if message["type"] == "message":
            published.append(message["data"].decode())
    assert any("token=*** ok" in m for m in published)
    stored = engine_bytes()
    for part in (SECRET, SECRET[:half], SECRET[half:]):
        assert part.encode() not in stored
        assert not any(part in m for m in published)


def test_a_line_longer_than_the_limit_is_stored_whole_in_order_and_masked(
    context, session, engine_bytes, make_rt, redis
):
    limit = defaults.MAX_LINE  # 32 KiB: a longer unfinished line is stored in pieces
    assert limit == 32 * 1024
    # the secret straddles the limit and the line arrives in two reads (40 KB, then 70 KB)
    head, tail = limit - 8, 7000
    rt = make_rt(
        "emit.py",
        f"text=before nl fill={head}:a secret=: fill={tail}:b pause=0.3 fill=70000:c nl "
        "text=after nl",
    )
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert done.state == "success"
    out = texts(session, job.id)
    assert (out[0], out[-1]) == ("before", "after")
    assert "".join(out[1:-1]) == "a" * head + "***" + "b" * tail + "c" * 70000
    assert done.output_lines == len(out)
    assert SECRET.encode() not in engine_bytes()


def test_the_applications_own_timeout_stops_the_job(context, session, make_rt, redis, tmp_path):
    started = tmp_path / "started"
    rt = make_rt("probe.py", f"--started {started} --sleep 30", app_extra={"timeout": 1})
    assert rt.timeout is None  # the run template sets none: the application's applies
    job = launch(session, rt, redis)
    begin = time.monotonic()
    runner.run(context, job.id)
    assert time.monotonic() - begin < 10
    assert started.exists()
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("failed", 143)  # 128 + SIGTERM
    assert done.exit_description.startswith("timed out after 1 s; process group stopped (SIGTERM)")
    assert not alive(done.pid)


def test_a_successful_scheduled_job_counts_and_its_schedule_goes_on(
    context, session, make_rt, redis
):
    rt = make_rt("probe.py", interval_code="h")
    now = dt.datetime.now(dt.UTC)
    (first,) = scheduling.plan(session, now).planned
    job = jobs.get(session, first)
    session.refresh(rt)
    assert rt.next_schedule == job.scheduled_at > now
    assert rt.last_schedule is None  # the planned occurrence has not come yet
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job.id]
    assert runner.run(context, job.id).outcome.state == "success"
    session.refresh(rt)
    assert (rt.success_count, rt.failure_count) == (1, 0)
    # the occurrence that ran stays the last one planned; the next one is free to plan
    assert (rt.last_schedule, rt.next_schedule) == (job.scheduled_at, None)
    (second,) = scheduling.plan(session, now).planned
    following = jobs.get(session, second)
    assert (following.state, following.schedule_type) == ("scheduled", "hourly")
    assert following.scheduled_at > job.scheduled_at
    session.refresh(rt)
    assert rt.next_schedule == following.scheduled_at
    assert rt.last_schedule == job.scheduled_at


def test_every_job_gets_an_empty_private_work_directory_though_the_last_one_is_reused(
    context, session, make_rt, redis, tmp_path
):
    """A worker keeps the emptied work directory of a job for the next one (a rename
    costs a fraction of a mkdir): nothing a job left there reaches the next job."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the job's")
    messy = make_rt(
        executable="/bin/sh",
        args=(
            "-c 'mkdir -p sub/deeper && echo secret > sub/deeper/f && echo x > .hidden"
            f" && echo y > plain && ln -s {outside} link && chmod 755 .'"
        ),
    )
    listing = make_rt(executable="/bin/sh", args="-c 'ls -A; stat -c %a .'")
    first = launch(session, messy, redis)
    assert runner.run(context, first.id).outcome.state == "success"
    tmp_dir = Path(context.settings.tmp_dir)
    spare = tmp_dir / f".spare-{os.getpid()}"
    assert spare.is_dir() and list(spare.iterdir()) == []
    assert not (tmp_dir / f"job-{first.id}").exists()
    assert (outside / "keep.txt").read_text() == "not the job's"  # the link was not followed

    second = launch(session, listing, redis)
    assert runner.run(context, second.id).outcome.state == "success"
    assert texts(session, second.id) == ["700"]  # empty, and private again
    assert spare.is_dir()


@pytest.mark.parametrize("where", ["inline", "copied"])
def test_a_text_artifact_is_masked_like_the_output(
    context, session, make_rt, redis, monkeypatch, where
):
    if where == "copied":  # a file over the inline limit, masked in blocks cut through secrets
        monkeypatch.setattr(defaults, "ARTIFACT_INLINE_LIMIT", 10)
        monkeypatch.setattr(artifacts, "BLOCK", 7)
    rt = make_rt(
        "probe.py",
        "--secret-file report-1.csv --file-lines 40",
        artifacts=[(r"^report-\d+\.csv$", "report")],
    )
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    (artifact,) = session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id))
    if where == "inline":
        stored = artifact.content
        assert artifact.path is None
    else:
        stored = Path(artifact.path).read_bytes()
        assert artifact.content is None
    expected = "".join(f"line {i}: token=***;\n" for i in range(40)).encode()
    assert stored == expected
    assert (artifact.size, artifact.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())


def test_a_binary_artifact_is_stored_as_it_is(context, session, make_rt, redis):
    rt = make_rt(
        None,
        '-c \'import sys; open("blob.bin", "wb").write(bytes(range(256)) * 4)\'',
        executable=sys.executable,
        artifacts=[(r"\.bin$", "data")],
    )
    job = launch(session, rt, redis)
    runner.run(context, job.id)
    (artifact,) = session.scalars(sa.select(Artifact).where(Artifact.job_id == job.id))
    assert artifact.content == bytes(range(256)) * 4


def test_masking_in_blocks_masks_what_masking_the_whole_text_masks():
    pieces = mask_pieces(["abcab", "x\ny"])
    text = "abcabcab ab abcabcabcab x\ny -x- y abcab" * 3
    whole = mask_runs(text, secret_runs(text, pieces))
    for size in range(1, 20):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        streamed = "".join(artifacts.mask_stream(chunks, pieces))
        assert "abcab" not in streamed and "x\ny" not in streamed, size
        assert streamed.replace("******", "***") == whole.replace("******", "***"), size


def test_an_environment_too_large_to_start_fails_the_job_saying_so(
    context, session, make_rt, redis
):
    # made by the scheduler's path (jobs.create), which does not assemble the environment;
    # a launch of this run template is refused (multiflexi-core tests/test_limits.py)
    from multiflexi.core.limits import MAX_ENVIRONMENT_BYTES, MAX_VALUE_BYTES

    rt = make_rt(executable="/bin/true")
    for i in range(MAX_ENVIRONMENT_BYTES // MAX_VALUE_BYTES + 1):
        companies.set_variable(
            session, rt.company_id, f"PART_{i}", "x" * MAX_VALUE_BYTES, actor=ACTOR
        )
    job = jobs.create(
        session,
        rt,
        scheduled_at=dt.datetime.now(dt.UTC),
        schedule_type="adhoc",
        actor=ACTOR,
        queued=True,
    )
    session.commit()
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert done.state == "failed"
    assert done.exit_description.startswith("cannot start: environment too large")
    assert f"at most {MAX_ENVIRONMENT_BYTES} bytes" in done.exit_description
