"""Worker processes against a real Redis: concurrency, crashes, stopping, big output.

The workers are real ``python -m multiflexi.executor worker`` processes.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Queue
from rq.job import Job as RQJob

from multiflexi.core import audit, jobs, lifecycle, queue, scheduling
from multiflexi.core.models import Job, JobOutputLine, Lease, RunTemplate

ACTOR = audit.Actor("tester", source="test")
SCRIPTS = Path(__file__).parent / "scripts"


def start_worker(environ, *args):
    log = Path(environ["MULTIFLEXI_TMP"]).parent / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as handle:  # the worker logs every job: never a pipe nobody reads
        return subprocess.Popen(
            [sys.executable, "-m", "multiflexi.executor", "worker", *args],
            env={**os.environ, **environ},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def fresh(session, job_id):
    session.expire_all()
    return session.get(Job, job_id)


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def stop(process, timeout=30):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.mark.parametrize(
    ("backend", "count"),
    [("sqlite", 50), pytest.param("postgresql", 200, marks=pytest.mark.postgresql)],
)
def test_two_workers_never_run_one_run_template_twice_at_once(
    backend, count, environ, session, make_rt, redis
):
    rt = make_rt(executable="/bin/sh", args='-c "sleep 0.005"')
    ids = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis).id for _ in range(count)]
    workers = [start_worker(environ, "--burst") for _ in range(2)]
    try:
        for worker in workers:
            worker.wait(timeout=150)
    finally:
        for worker in workers:
            stop(worker)
    session.expire_all()
    done = session.scalars(sa.select(Job).where(Job.id.in_(ids)).order_by(Job.started_at)).all()
    assert [j.state for j in done] == ["success"] * count
    for before, after in itertools.pairwise(done):
        assert before.finished_at <= after.started_at, (before.id, after.id)
    assert {j.worker.rsplit(":", 2)[0] for j in done} == {os.uname().nodename}
    # both workers took their share: the recorded worker of each job is one of the two
    ran = collections.Counter(j.worker for j in done)
    assert set(ran) == {f"{socket.gethostname()}:{w.pid}:1" for w in workers}, ran


def test_a_worker_killed_mid_job_leaves_a_lost_job_and_the_schedule_goes_on(
    environ, session, make_rt, redis, tmp_path
):
    started = tmp_path / "started"
    rt = make_rt("probe.py", f"--started {started} --sleep 60", interval_code="h")
    # the scheduler daemon's pass: plan the next occurrence, deliver it when it is due
    now = dt.datetime.now(dt.UTC)
    (planned,) = scheduling.plan(session, now).planned
    job = fresh(session, planned)
    assert scheduling.deliver_due(session, redis, job.scheduled_at) == [job.id]
    worker = start_worker(environ)  # MULTIFLEXI_JOB_LEASE=3
    try:
        wait_for(started.exists, 30, "the job to start")
        # a running process has its pid stored within runner.PROCESS_FACTS_AFTER
        app_pid = wait_for(lambda: fresh(session, job.id).pid, 5, "the pid to be stored")
        assert alive(app_pid)
        assert fresh(session, job.id).state == "running"
        worker.kill()
        worker.wait()
        killed_at = time.monotonic()
        lost = wait_for(lambda: lifecycle.reap_lost(session), 10, "the reaper to find the job")
        assert lost == [job.id]
        assert time.monotonic() - killed_at <= 3.5  # within the lease
    finally:
        stop(worker)
    reaped = fresh(session, job.id)
    assert reaped.state == "lost" and reaped.exit_description.startswith("lost: worker ")
    wait_for(lambda: not alive(app_pid), 5, "the orphaned application to die")
    run_template = session.get(RunTemplate, rt.id)
    assert (run_template.next_schedule, run_template.failure_count) == (None, 1)
    assert session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0
    # the scheduler plans the run template's next occurrence and delivers it when due
    result = scheduling.plan(session, now)
    (next_id,) = result.planned
    assert result.missed == 0
    again = fresh(session, next_id)
    assert (again.run_template_id, again.schedule_type) == (rt.id, "hourly")
    assert again.scheduled_at > job.scheduled_at
    assert scheduling.deliver_due(session, redis, again.scheduled_at) == [again.id]
    # a worker stopped while it runs records it interrupted
    worker = start_worker(environ, "--burst")  # MULTIFLEXI_STOP_GRACE=1
    try:
        started.unlink()
        wait_for(started.exists, 30, "the next job to start")
        assert fresh(session, again.id).state == "running"
    finally:
        stop(worker)
    interrupted = fresh(session, again.id)
    assert (interrupted.state, interrupted.exit_code) == ("failed", 143)
    assert interrupted.exit_description.startswith("interrupted: the worker was stopped")


def test_a_killed_workers_job_dies_with_its_whole_process_group(
    environ, session, make_rt, redis, tmp_path
):
    """kill -9 of a worker stops its job's process and the children that process started."""
    started, background = tmp_path / "started", tmp_path / "background"
    rt = make_rt(
        executable="/bin/sh",
        args=f'-c "sleep 300 & echo $! > {background}; touch {started}; wait"',
    )
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    worker = start_worker(environ)
    try:
        wait_for(started.exists, 30, "the job to start")
        shell = wait_for(lambda: fresh(session, job.id).pid, 5, "the pid to be stored")
        child = int(background.read_text())
        assert alive(shell) and alive(child)
        assert os.getpgid(child) == shell  # the shell's own group
        worker.kill()
        worker.wait()
        wait_for(lambda: not alive(shell) and not alive(child), 5, "the job's group to die")
    finally:
        stop(worker)


def test_sigterm_lets_the_job_finish_within_the_grace_period(
    environ, session, make_rt, redis, tmp_path
):
    started = tmp_path / "started"
    rt = make_rt("probe.py", f"--started {started} --sleep 0.3")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    worker = start_worker(environ)
    try:
        wait_for(started.exists, 30, "the job to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=10) == 0
    finally:
        stop(worker)
    assert fresh(session, job.id).state == "success"


def stdout_of(session, job_id, stream="stdout"):
    session.rollback()  # see what the worker committed since
    return session.scalars(
        sa.select(JobOutputLine.text)
        .where(JobOutputLine.job_id == job_id, JobOutputLine.stream == stream)
        .order_by(JobOutputLine.seq)
    ).all()


def test_a_stopped_worker_takes_no_new_job_and_records_its_running_ones_interrupted(
    environ, session, make_rt, redis, tmp_path
):
    ran = tmp_path / "ran"
    rt = make_rt("probe.py", f"--append {ran} --sleep 30", max_concurrency=4)
    ids = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis).id for _ in range(4)]
    worker = start_worker(environ, "--concurrency", "2")  # MULTIFLEXI_STOP_GRACE=1
    try:
        wait_for(lambda: ran.exists() and len(ran.read_text().splitlines()) == 2, 30, "2 jobs")
        signalled = dt.datetime.now(dt.UTC)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    finally:
        stop(worker)
    assert len(ran.read_text().splitlines()) == 2  # no third process was started
    session.expire_all()
    by_state = collections.defaultdict(list)
    for job in session.scalars(sa.select(Job).where(Job.id.in_(ids))):
        by_state[job.state].append(job)
    assert sorted(by_state) == ["failed", "queued"], by_state
    interrupted, waiting = by_state["failed"], by_state["queued"]
    assert len(interrupted) == len(waiting) == 2
    grace = dt.timedelta(seconds=float(environ["MULTIFLEXI_STOP_GRACE"]))
    for job in interrupted:
        assert job.exit_code == 143
        assert job.exit_description.startswith("interrupted: the worker was stopped")
        # the running jobs had their grace period, and not much more
        assert signalled + grace <= job.finished_at < signalled + grace + dt.timedelta(seconds=5)
    for job in waiting:  # never started, still delivered: the next worker takes them
        assert (job.started_at, job.worker, job.pid) == (None, None, None)
        assert queue.holds(redis, job.id)


def test_two_deliveries_of_one_job_taken_by_two_workers_at_once_run_it_once(
    environ, session, make_rt, redis, tmp_path
):
    ran, go = tmp_path / "ran", tmp_path / "go"
    rt = make_rt("probe.py", f"--append {ran} --wait {go}")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    # a second delivery of the same job under its own RQ id, as lifecycle's wake-ups make
    deliveries = [queue.rq_job_id(job.id), f"{queue.rq_job_id(job.id)}-wake-test"]
    Queue(job.queue, connection=redis).enqueue(
        queue.RUN_JOB, job.id, job_id=deliveries[1], job_timeout=-1, result_ttl=600
    )
    workers = [start_worker(environ, "--burst") for _ in range(2)]
    try:

        def one_declined():
            status = {d: RQJob.fetch(d, connection=redis).get_status().value for d in deliveries}
            return sorted(status.values()) == ["finished", "started"] and status

        status = wait_for(one_declined, 30, "one delivery to run the job and the other to end")
        # while the job runs in one worker, the other worker took the other delivery
        assert fresh(session, job.id).state == "running"
        go.touch()
        for worker in workers:
            assert worker.wait(timeout=30) == 0
    finally:
        for worker in workers:
            stop(worker)
    assert len(ran.read_text().splitlines()) == 1  # the application ran once
    done = fresh(session, job.id)
    assert done.state == "success"
    assert stdout_of(session, job.id).count("greeting=hello") == 1
    results = {d: RQJob.fetch(d, connection=redis) for d in deliveries}
    declined = next(d for d in deliveries if status[d] == "finished")
    taken = next(d for d in deliveries if d != declined)
    assert results[declined].return_value() == {"job_id": job.id, "start": "not-ours"}
    assert results[taken].return_value()["start"] == "running"
    assert results[taken].worker_name == done.worker
    assert {r.worker_name for r in results.values()} == {
        f"{socket.gethostname()}:{w.pid}:1" for w in workers
    }


def test_output_is_stored_and_published_while_the_job_runs(
    environ, session, make_rt, redis, tmp_path
):
    go = tmp_path / "go"
    rt = make_rt("probe.py", f"--wait {go}")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    pubsub = redis.pubsub()
    pubsub.subscribe(f"multiflexi:job:{job.id}:output")
    live: list[dict] = []

    def published(predicate):
        while (message := pubsub.get_message(timeout=0.05)) is not None:
            if message["type"] == "message":
                live.append(json.loads(message["data"]))
        return any(predicate(m) for m in live)

    def greeted(message):
        return any(line["text"] == "greeting=hello" for line in message.get("lines", ()))

    worker = start_worker(environ, "--burst")
    try:
        wait_for(lambda: "greeting=hello" in stdout_of(session, job.id), 30, "the line stored")
        wait_for(lambda: published(greeted), 10, "the line published")
        # the job has not ended: it waits for the file this test has not created yet
        assert fresh(session, job.id).state == "running"
        assert not any(m.get("end") for m in live)
        go.touch()
        assert worker.wait(timeout=30) == 0
    finally:
        stop(worker)
    assert fresh(session, job.id).state == "success"
    wait_for(lambda: published(lambda m: m.get("end")), 10, "the end published")
    assert live[-1] == {"job_id": job.id, "end": True, "state": "success", "exit_code": 0}


def test_a_secret_that_overlaps_itself_is_masked_and_the_job_ends(environ, session, make_rt, redis):
    rt = make_rt("emit.py", "repeat=20000:ab", values={"API_TOKEN": "abab"})
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    worker = start_worker(environ, "--burst")
    try:
        # guarded: a hanging worker is killed, the test fails instead of the suite hanging
        wait_for(lambda: fresh(session, job.id).state in jobs.FINAL_STATES, 15, "the job to end")
        assert worker.wait(timeout=10) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert fresh(session, job.id).state == "success"
    out = stdout_of(session, job.id)
    assert out and set("".join(out)) == {"*"}  # masked, no piece of the secret left


def test_a_job_printing_200_megabytes_is_stored_whole_in_bounded_memory(
    environ, session, make_rt, redis
):
    megabytes, width = 200, 256
    count = megabytes * 1024 * 1024 // width
    rt = make_rt("flood.py", f"{megabytes} {width}")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    worker = start_worker(environ)
    peak = 0
    try:

        def finished():
            nonlocal peak
            status = Path(f"/proc/{worker.pid}/status").read_text()
            peak = max(peak, int(status.split("VmHWM:")[1].split()[0]))
            return fresh(session, job.id).state in jobs.FINAL_STATES

        wait_for(finished, 170, "the job to finish")
    finally:
        stop(worker)
    done = fresh(session, job.id)
    assert (done.state, done.output_lines) == ("success", count)
    last = session.scalar(
        sa.select(JobOutputLine)
        .where(JobOutputLine.job_id == job.id)
        .order_by(JobOutputLine.seq.desc())
        .limit(1)
    )
    assert (last.seq, last.text[-10:]) == (count, f"{count - 1:010d}")
    assert peak < 150 * 1024, f"worker peak RSS {peak} kB"


def test_the_workers_of_a_killed_supervisor_stop(environ, redis):
    from rq import Worker

    supervisor = start_worker(environ, "--concurrency", "2")
    try:
        names = wait_for(
            lambda: len(found := [w.name for w in Worker.all(connection=redis)]) == 2 and found,
            60,
            "two worker processes",
        )
        pids = [int(name.split(":")[1]) for name in names]
        assert supervisor.pid not in pids and all(alive(pid) for pid in pids)
        supervisor.kill()
        supervisor.wait()
        # orphans would take jobs with nobody to restart or stop them
        wait_for(lambda: not any(alive(pid) for pid in pids), 15, "the workers to stop")
    finally:
        stop(supervisor)


def test_a_lost_jobs_failure_actions_run_on_a_worker(environ, session, make_rt, redis):
    from multiflexi.core.models import RunTemplateAction

    rt = make_rt("probe.py")
    session.add(RunTemplateAction(run_template_id=rt.id, mode="failure", action="deactivate"))
    session.commit()
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=None)
    # its worker took it and died: nothing renews the lease
    assert jobs.claim(session, job.id, worker="gone-host:1:1", lease=dt.timedelta(seconds=1))
    later = lifecycle.now() + dt.timedelta(minutes=5)
    assert lifecycle.reap_lost(session, later, redis=redis) == [job.id]
    assert fresh(session, job.id).state == "lost"

    worker = start_worker(environ, "--burst")
    assert worker.wait(timeout=60) == 0
    session.expire_all()
    assert session.get(RunTemplate, rt.id).active is False  # the failure action ran
    assert stdout_of(session, job.id, "action") == [
        f"deactivate: run template {rt.id} is inactive now",
        "action deactivate: done",
    ]
    assert fresh(session, job.id).state == "lost"  # and changed nothing of the outcome


def test_a_busy_worker_stays_registered_and_suspendable_with_less_redis_traffic(
    environ, session, make_rt, redis
):
    """RQ's worker renews its registration three times a job; ours every few seconds.

    What other tools see stays the same: the worker is listed with a fresh heartbeat
    while it works, ``rq suspend`` stops it taking jobs and ``rq resume`` lets it go on.
    """
    from rq import Worker
    from rq.suspension import resume, suspend

    rt = make_rt(executable="/bin/true", args="", max_concurrency=2)
    worker = start_worker(environ)
    try:
        wait_for(lambda: Worker.all(connection=redis), 30, "the worker to register")
        before = redis.info("stats")["total_commands_processed"]
        ids = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis).id for _ in range(60)]
        wait_for(lambda: all(fresh(session, i).state == "success" for i in ids), 60, "60 jobs")
        after = redis.info("stats")["total_commands_processed"]
        # enqueue, run and record: RQ's own SimpleWorker needs about 70 commands a job
        # here, most of them renewals of its registration
        assert (after - before) / len(ids) < 55, (after - before) / len(ids)
        (listed,) = Worker.all(connection=redis)
        assert listed.name == fresh(session, ids[-1]).worker
        assert listed.last_heartbeat is not None
        age = dt.datetime.now(dt.UTC) - listed.last_heartbeat.replace(tzinfo=dt.UTC)
        assert age < dt.timedelta(seconds=30), age
        assert redis.ttl(listed.key) > 60

        # as with RQ's worker, a suspension stops a worker before its next dequeue (a
        # worker waiting for work takes the one job that wakes it)
        suspend(redis)
        time.sleep(1.5)  # a worker looks at most a second after its last look
        held = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis).id for _ in range(20)]
        time.sleep(2)
        assert sum(fresh(session, i).state == "queued" for i in held) >= 19
        resume(redis)
        wait_for(lambda: all(fresh(session, i).state == "success" for i in held), 30, "resume")
    finally:
        resume(redis)
        stop(worker)


def test_a_delivery_ends_in_rq_as_with_rqs_own_worker(environ, session, make_rt, redis):
    """The worker records a delivery's end in fewer round trips; what RQ shows is the same.

    The delivery is finished with its result, the worker is idle again with its
    counts, and an RQ job that someone enqueued to depend on a delivery runs after it.
    """
    from rq import Worker

    rt = make_rt(executable="/bin/true", args="")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    dependent = Queue(job.queue, connection=redis).enqueue(
        "time.sleep", 0, job_id="after-the-delivery", depends_on=queue.rq_job_id(job.id)
    )
    assert dependent.get_status().value == "deferred"
    worker = start_worker(environ)
    try:
        wait_for(
            lambda: dependent.get_status(refresh=True).value == "finished", 30, "the dependent"
        )
        delivery = RQJob.fetch(queue.rq_job_id(job.id), connection=redis)
        assert delivery.get_status().value == "finished"
        assert delivery.return_value() == {
            "job_id": job.id,
            "start": "running",
            "state": "success",
            "exit_code": 0,
        }
        assert fresh(session, job.id).state == "success"
        (listed,) = Worker.all(connection=redis)
        wait_for(lambda: listed.get_state() == "idle", 10, "the worker idle")
        listed.refresh()
        assert listed.successful_job_count == 2
        assert listed.failed_job_count == 0
        assert not redis.lrange(f"rq:queue:{job.queue}", 0, -1)
        assert not Queue(job.queue, connection=redis).started_job_registry.get_job_ids()
    finally:
        stop(worker)


def test_this_rq_has_what_the_workers_fewer_round_trips_use():
    """With another rq the worker falls back to RQ's own start and finish: CI must notice."""
    from multiflexi.executor import worker

    assert worker.LEAN_RQ_PATHS


def test_with_rqs_own_start_and_finish_jobs_run_and_end_as_well(environ, session, make_rt, redis):
    """The fallback for an rq whose internals differ: RQ's own paths, same outcome."""
    rt = make_rt(executable="/bin/true", args="", max_concurrency=2)
    ids = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis).id for _ in range(5)]
    pubsub = redis.pubsub()
    pubsub.subscribe(f"multiflexi:job:{ids[-1]}:output")
    code = (
        "import multiflexi.executor.worker as w; w.LEAN_RQ_PATHS = False; "
        "from multiflexi.executor.cli import main; main(prog_name='multiflexi-executor')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "worker", "--burst", "--quiet"],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [fresh(session, i).state for i in ids] == ["success"] * 5
    for job_id in ids:
        delivery = RQJob.fetch(queue.rq_job_id(job_id), connection=redis)
        assert delivery.get_status().value == "finished"
        assert delivery.return_value()["state"] == "success"
    ends = []
    while (message := pubsub.get_message(timeout=0.5)) is not None:
        if message["type"] == "message":
            ends.append(json.loads(message["data"]))
    assert {"job_id": ids[-1], "end": True, "state": "success", "exit_code": 0} in ends
