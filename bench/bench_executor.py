"""The executor: throughput against plain RQ, enqueue-to-start latency, output ingestion.

Each measurement starts its own redis-server and uses a fresh, migrated SQLite
file (the one-machine default); workers are real ``multiflexi-executor
worker`` processes.

The throughput runs are CPU-bound on a small machine (launcher, two workers, Redis and
the jobs share the cores), so their results carry the CPU per job of each side:
the ratio of throughputs follows the ratio of CPU per job. Plain RQ spends about
4 ms per job here; what MultiFlexi adds is the record of the job (insert, audit and
counter at launch; claim and slot, environment, outcome and counters in the worker).
The machine's speed drifts, so the two sides run in alternating rounds and the
round of the median ratio is reported, with every round's jobs/s.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
MASTER_KEY = "bench-master-key-0123456789-abcdefghijklmnop"
FLOOD = """
import sys
count = int(sys.argv[1]) * 1024 * 1024 // 256
body = "x" * 245
write = sys.stdout.write
for i in range(count):
    write(f"{body}{i:010d}\\n")
"""


def plain_true() -> int:
    """The plain-RQ baseline's job: what MultiFlexi's native back-end does at its core."""
    return subprocess.run(["/bin/true"], check=False).returncode


@contextlib.contextmanager
def _database(tmp: str, kind: str) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file, or a throwaway PostgreSQL server."""
    import multiflexi.database as database

    if kind == "sqlite":
        url = f"sqlite:///{tmp}/data/multiflexi.sqlite"
        database.upgrade(url)
        yield url
        return
    from multiflexi.database.testing import new_database, postgresql_server

    with postgresql_server() as server:
        url = new_database(server)
        database.upgrade(url)
        yield url


@contextlib.contextmanager
def _layout(tmp: str) -> Iterator[None]:
    """As deployed: a private data directory, the jobs' directories beside it (the default).

    Run as root, the workers run every job as the job user (``nobody`` here), as a
    deployment's do: the jobs' directories must be reachable for it.
    """
    os.chmod(tmp, 0o755)  # noqa: S103 - like /var/lib: any user passes through
    os.mkdir(f"{tmp}/data", 0o700)
    yield


@contextlib.contextmanager
def _stack(database: str = "sqlite", **extra: str) -> Iterator[tuple[dict[str, str], Any, Any]]:
    from multiflexi.core import config
    from multiflexi.core.testing import redis_server

    with (
        redis_server() as redis_url,
        tempfile.TemporaryDirectory(prefix="mf-bench-") as tmp,
        _layout(tmp),
        _database(tmp, database) as url,
    ):
        environ = {
            "DATABASE_URL": url,
            "MULTIFLEXI_DATA_DIR": f"{tmp}/data",
            "ENCRYPTION_MASTER_KEY": MASTER_KEY,
            "MULTIFLEXI_TIMEZONE": "UTC",
            "REDIS_URL": redis_url,
            **extra,
        }
        settings = config.load_settings(environ=environ, env_file=os.devnull)
        engine = config.create_engine(url)
        with config.session_factory(engine, settings)() as session:
            yield environ, session, settings
        engine.dispose()


def _run_template(session: Any, executable: str, cmdparams: str | None, **settings: Any) -> int:
    from multiflexi.core import audit, companies, runtemplates
    from multiflexi.core.models import Application

    actor = audit.Actor("bench", source="bench")
    app = Application(
        name=f"bench-{time.monotonic_ns()}", executable=executable, cmdparams=cmdparams
    )
    session.add(app)
    session.commit()
    company = companies.create(session, name=f"Bench {time.monotonic_ns()}", actor=actor)
    rt = runtemplates.create(session, company=company.id, app_id=app.id, actor=actor, **settings)
    return int(rt.id)


def _worker(environ: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "multiflexi.executor", "worker", "--quiet", *args],
        env={**os.environ, **environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _final_count(session: Any, ids: list[int]) -> int:
    from multiflexi.core.jobs import FINAL_STATES
    from multiflexi.core.models import Job

    session.expire_all()
    return int(
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Job)
            .where(Job.id >= min(ids), Job.id <= max(ids), Job.state.in_(FINAL_STATES))
        )
        or 0
    )


@dataclasses.dataclass
class Run:
    """One throughput run: jobs per second, and CPU milliseconds per job by side."""

    jobs_per_s: float
    #: the enqueuing process (MultiFlexi: core launch; plain: Queue.enqueue) per job
    enqueue_cpu_ms: float
    #: the worker processes with the processes they ran, per job
    worker_cpu_ms: float


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process and of its children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime stime cutime cstime are fields 14-17 of proc(5); fields[0] here is field 3
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _idle_workers(redis_url: str, count: int) -> None:
    from redis import Redis
    from rq import Worker

    client = Redis.from_url(redis_url)
    deadline = time.monotonic() + 30
    while len(Worker.all(connection=client)) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def _plain_rq(jobs: int, worker_class: str) -> Run:
    """Jobs per second of 2 plain `rq worker` processes running /bin/true through subprocess."""
    from redis import Redis
    from rq import Queue

    from multiflexi.core.testing import redis_server

    rq_script = shutil.which("rq", path=str(Path(sys.executable).parent)) or "rq"
    with redis_server() as url:
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        workers = [
            subprocess.Popen(
                [rq_script, "worker", "--url", url, "--quiet", "-w", worker_class, "plain"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            _idle_workers(url, 2)
            queue = Queue("plain", connection=Redis.from_url(url))
            workers_cpu = sum(_cpu_seconds(w.pid) for w in workers)
            begin = time.perf_counter()
            cpu = time.process_time()
            for _ in range(jobs):
                queue.enqueue("bench_executor.plain_true", result_ttl=3600)
            enqueue_cpu = time.process_time() - cpu
            registry = queue.finished_job_registry
            while registry.count + queue.failed_job_registry.count < jobs:
                time.sleep(0.02)
            elapsed = time.perf_counter() - begin
            workers_cpu = sum(_cpu_seconds(w.pid) for w in workers) - workers_cpu
            return Run(jobs / elapsed, enqueue_cpu * 1000 / jobs, workers_cpu * 1000 / jobs)
        finally:
            for worker in workers:
                _stop(worker)


def _throughput(database: str, count: int) -> Run:
    """Jobs/s of 2 ``multiflexi-executor worker`` processes: first launch to last job final."""
    from multiflexi.core import audit, jobs

    with _stack(database) as (environ, session, _settings):
        rt_id = _run_template(session, "/bin/true", None, max_concurrency=2)
        workers = [_worker(environ) for _ in range(2)]
        try:
            _idle_workers(environ["REDIS_URL"], 2)
            actor = audit.Actor("bench", source="bench")
            workers_cpu = sum(_cpu_seconds(w.pid) for w in workers)
            begin = time.perf_counter()
            cpu = time.process_time()
            ids = [jobs.launch(session, rt_id, actor=actor).id for _ in range(count)]
            launch_cpu = time.process_time() - cpu
            while _final_count(session, ids) < count:
                time.sleep(0.05)
            elapsed = time.perf_counter() - begin
            workers_cpu = sum(_cpu_seconds(w.pid) for w in workers) - workers_cpu
            return Run(count / elapsed, launch_cpu * 1000 / count, workers_cpu * 1000 / count)
        finally:
            for worker in workers:
                _stop(worker)


def _cpu_params(ours: Run, plain: Run) -> dict[str, Any]:
    """Where the CPU goes, per job: what bounds the throughput when the cores are busy."""
    return {
        "cpu_ms_per_job": {
            "multiflexi_launch": round(ours.enqueue_cpu_ms, 2),
            "multiflexi_workers": round(ours.worker_cpu_ms, 2),
            "plain_rq_enqueue": round(plain.enqueue_cpu_ms, 2),
            "plain_rq_workers": round(plain.worker_cpu_ms, 2),
        },
        "cores": os.cpu_count(),
    }


#: rounds of the throughput runs, the two sides alternating: a shared machine's speed
#: drifts by tens of percent within minutes, so each round compares the two sides run
#: next to each other, and the round of the median ratio is reported
ROUNDS = 5


def _rounds(database: str, count: int) -> tuple[Run, Run, list[list[float]]]:
    """The pair (ours, plain) of the median round by ratio; every round's jobs/s."""
    pairs = []
    for _ in range(ROUNDS):
        ours = _throughput(database, count)
        pairs.append((ours, _plain_rq(count, "rq.worker.SimpleWorker")))
    pairs_by_ratio = sorted(pairs, key=lambda pair: pair[0].jobs_per_s / pair[1].jobs_per_s)
    ours, plain = pairs_by_ratio[len(pairs) // 2]
    return ours, plain, [[round(o.jobs_per_s, 1), round(p.jobs_per_s, 1)] for o, p in pairs]


def _jobs_run_as() -> str:
    """Who the workers run jobs as (a worker started as root switches to the job user)."""
    if os.geteuid() != 0:
        return "the worker's own user (not root: no switch)"
    named = os.environ.get("MULTIFLEXI_JOB_USER")
    return named or "the job user (nobody here), through setpriv"


def executor_throughput() -> dict[str, Any]:
    """2,000 /bin/true jobs: core launch -> Redis -> 2 workers -> final state, vs plain RQ."""
    count = 2000
    # the stronger of RQ's two usual workers is the baseline: SimpleWorker (no fork per
    # job, like ours); rq's default forking Worker is reported beside it (fewer jobs: it
    # forks a work horse per job and runs about 15 a second here)
    ours, plain, rounds = _rounds("sqlite", count)
    forking = _plain_rq(300, "rq.Worker")
    return {
        "unit": "jobs/s",
        "value": round(ours.jobs_per_s, 1),
        "baseline_name": "plain RQ SimpleWorker x2, subprocess.run(['/bin/true'])",
        "baseline_value": round(plain.jobs_per_s, 1),
        "params": {
            "plain_rq_forking_worker_jobs_per_s": round(forking.jobs_per_s, 1),
            "jobs": count,
            "workers": 2,
            "database": "SQLite (WAL)",
            "clock": "first launch/enqueue to the last job final",
            "statistic": f"the round of the median ratio of {ROUNDS}, the sides alternating",
            "rounds_jobs_per_s_multiflexi_plain": rounds,
            "goal": "ratio >= 0.67",
            "jobs_run_as": _jobs_run_as(),
            **_cpu_params(ours, plain),
        },
    }


def executor_throughput_postgresql() -> dict[str, Any]:
    """executor_throughput with the database on a local PostgreSQL server."""
    count = 2000
    ours, plain, rounds = _rounds("postgresql", count)
    return {
        "unit": "jobs/s",
        "value": round(ours.jobs_per_s, 1),
        "baseline_name": "plain RQ SimpleWorker x2, subprocess.run(['/bin/true'])",
        "baseline_value": round(plain.jobs_per_s, 1),
        "params": {
            "jobs": count,
            "workers": 2,
            "database": "PostgreSQL (throwaway local server, same machine)",
            "clock": "first launch/enqueue to the last job final",
            "statistic": f"the round of the median ratio of {ROUNDS}, the sides alternating",
            "rounds_jobs_per_s_multiflexi_plain": rounds,
            "goal": "ratio >= 0.67",
            **_cpu_params(ours, plain),
        },
    }


def executor_start_latency() -> dict[str, Any]:
    """Launch to the application's process start, one job at a time on an idle worker."""
    from multiflexi.core import audit, jobs
    from multiflexi.core.models import JobOutputLine

    runs = 200
    samples: list[float] = []
    with _stack() as (environ, session, _settings):
        rt_id = _run_template(session, "/bin/date", "+%s.%N")
        worker = _worker(environ)
        actor = audit.Actor("bench", source="bench")
        try:
            _idle_workers(environ["REDIS_URL"], 1)
            for _ in range(runs):
                before = time.time()
                job_id = jobs.launch(session, rt_id, actor=actor).id
                while _final_count(session, [job_id]) < 1:
                    time.sleep(0.002)
                printed = session.scalar(
                    sa.select(JobOutputLine.text).where(JobOutputLine.job_id == job_id)
                )
                samples.append((float(str(printed)) - before) * 1000)
        finally:
            _stop(worker)
    samples.sort()
    return {
        "unit": "ms",
        "value": round(statistics.median(samples), 1),
        "params": {
            "runs": runs,
            "statistic": "p50",
            "p95": round(samples[int(len(samples) * 0.95) - 1], 1),
            "from": "before core jobs.launch (includes it)",
            "to": "the application's own clock at its start (/bin/date)",
            "goal": "p50 < 50 ms",
        },
    }


def executor_output_ingestion() -> dict[str, Any]:
    """A job printing 200 MB in 256-byte lines: MB/s stored, and the worker's peak RSS."""
    from multiflexi.core import audit, jobs
    from multiflexi.core.models import Job

    megabytes = 200
    with _stack() as (environ, session, _settings):
        rt_id = _run_template(session, sys.executable, f"-c '{FLOOD}' {megabytes}")
        worker = _worker(environ)
        peak_kb = 0
        try:
            _idle_workers(environ["REDIS_URL"], 1)
            job_id = jobs.launch(session, rt_id, actor=audit.Actor("bench")).id
            while _final_count(session, [job_id]) < 1:
                status = Path(f"/proc/{worker.pid}/status").read_text()
                peak_kb = max(peak_kb, int(status.split("VmHWM:")[1].split()[0]))
                time.sleep(0.1)
            job = session.get(Job, job_id)
            assert job is not None and job.state == "success", job and job.state
            seconds = (job.finished_at - job.started_at).total_seconds()
            lines = job.output_lines
        finally:
            _stop(worker)
    return {
        "unit": "MB/s",
        "value": round(megabytes / seconds, 1),
        "params": {
            "megabytes": megabytes,
            "line_bytes": 256,
            "lines_stored": lines,
            "seconds": round(seconds, 1),
            "worker_peak_rss_mb": round(peak_kb / 1024, 1),
            "database": "SQLite (WAL)",
            "goal": "peak RSS < 150 MB",
        },
    }


MEASUREMENTS = {
    "executor_throughput": executor_throughput,
    "executor_throughput_postgresql": executor_throughput_postgresql,
    "executor_start_latency": executor_start_latency,
    "executor_output_ingestion": executor_output_ingestion,
}
