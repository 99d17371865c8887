"""Worker processes against a real Redis: concurrency, crashes, stopping, big output.

The workers are real ``python -m multiflexi.executor worker`` processes.
"""

from __future__ import annotations

import collections
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from multiflexi.core import audit, jobs, lifecycle
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
    rt = make_rt("probe.py", f"--started {started} --sleep 60")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis, schedule_type="hourly")
    session.execute(sa.update(RunTemplate).values(next_schedule=job.scheduled_at))
    session.commit()
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
    # the run template runs again; a worker stopped while it runs records it interrupted
    again = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
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
