"""A starting worker removes what jobs of dead workers left on its host, and nothing else."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

from multiflexi.core import audit, jobs
from multiflexi.executor import runner

ACTOR = audit.Actor("tester", source="test")
LEASE = dt.timedelta(seconds=60)


def dead_pid() -> int:
    process = subprocess.Popen(["/bin/true"])
    process.wait()
    return process.pid


def plant(tmp: Path, job_id: int) -> tuple[Path, Path]:
    """A work directory and a container env file of the job, as a killed worker leaves them."""
    work = tmp / f"job-{job_id}"
    work.mkdir(parents=True)
    (work / "partial.csv").write_text("half")
    private = tmp / ".private"
    private.mkdir(mode=0o700, exist_ok=True)
    env_file = private / f"job-{job_id}-x1y2z3.env"
    env_file.write_text("API_TOKEN=plain-secret\n")
    return work, env_file


def start_a_worker(environ) -> subprocess.CompletedProcess[str]:
    """A worker's start (with its sweep) on a queue nobody uses, until it stops (--burst)."""
    return subprocess.run(
        [sys.executable, "-m", "multiflexi.executor", "worker", "--burst", "--queue", "none"],
        env={**os.environ, **environ},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_starting_worker_removes_the_leftovers_of_ended_jobs_and_of_its_hosts_dead_workers(
    environ, context, session, make_rt, redis
):
    tmp = Path(environ["MULTIFLEXI_TMP"])
    rt = make_rt("probe.py", max_concurrency=4)
    # no delivery: the jobs keep the states this test gives them
    ended, dead_here, elsewhere, waiting = (
        jobs.launch(session, rt.id, actor=ACTOR, redis=None).id for _ in range(4)
    )
    runner.run(context, ended)
    assert jobs.get(session, ended).state == "success"
    here = socket.gethostname()
    assert jobs.claim(session, dead_here, worker=f"{here}:{dead_pid()}:1", lease=LEASE)
    assert jobs.claim(session, elsewhere, worker="another-host:4242:1", lease=LEASE)
    planted = {job_id: plant(tmp, job_id) for job_id in (ended, dead_here, elsewhere, waiting)}

    result = start_a_worker(environ)

    assert result.returncode == 0, result.stderr
    for job_id in (ended, dead_here):
        work, env_file = planted[job_id]
        assert not work.exists() and not env_file.exists()
        assert f"removed work directory {work}, left by job {job_id}" in result.stderr
    for job_id in (elsewhere, waiting):  # may run now, on another host or soon
        work, env_file = planted[job_id]
        assert work.is_dir() and env_file.read_text() == "API_TOKEN=plain-secret\n"
    assert "plain-secret" not in result.stderr


def test_a_starting_worker_removes_the_spare_work_directory_of_a_dead_worker(environ):
    tmp = Path(environ["MULTIFLEXI_TMP"])
    tmp.mkdir(parents=True, exist_ok=True)
    gone = tmp / f".spare-{dead_pid()}"
    gone.mkdir()
    (gone / "left.txt").write_text("left behind")
    alive = tmp / f".spare-{os.getpid()}"  # this test's own process: alive
    alive.mkdir()

    result = start_a_worker(environ)
    assert result.returncode == 0, result.stderr
    assert not gone.exists()
    assert f"removed {gone}, kept by a worker that is gone" in result.stderr
    assert alive.is_dir()
