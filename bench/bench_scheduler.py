"""The scheduler: one planning pass over many run templates; due time to delivery into RQ."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
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

import multiflexi.database as database
from multiflexi.core import config, jobs, scheduling
from multiflexi.core.audit import Actor
from multiflexi.core.models import Application, Company, RunTemplate
from multiflexi.database import tables as t

RUN_TEMPLATES = 10_000
#: the latency jobs are created this long before the first of them is due
LEAD_SECONDS = 8
ZONES = [None, "Europe/Prague", "America/New_York", "UTC", "Asia/Kolkata"]
SCHEDULES = [("i", None), ("h", None), ("d", None), ("w", None), ("m", None), ("c", "*/5 * * * *")]


def _settings(directory: Path, **extra: str) -> config.Settings:
    environ = {
        "DATABASE_URL": f"sqlite:///{directory / 'bench.sqlite'}",
        "MULTIFLEXI_DATA_DIR": str(directory),
        "MULTIFLEXI_TIMEZONE": "Europe/Prague",
        "ENCRYPTION_MASTER_KEY": "bench-master-key-0123456789-abcdefghijklmn",
        **extra,
    }
    return config.load_settings(environ=environ, env_file=os.devnull)


def _seed(settings: config.Settings, count: int) -> None:
    """An application, a company and `count` active run templates with varied schedules."""
    database.upgrade(settings.database_url)
    engine = config.create_engine(settings.database_url)
    with config.session_factory(engine, settings)() as session:
        app = Application(name="bench", executable="/bin/true", version="1.0")
        company = Company(name="Bench", slug="bench")
        session.add_all([app, company])
        session.flush()
        rows = []
        for number in range(count):
            code, cron = SCHEDULES[number % len(SCHEDULES)]
            rows.append(
                {
                    "company_id": company.id,
                    "application_id": app.id,
                    "name": f"rt-{number}",
                    "active": True,
                    "interval_code": code,
                    "cron": cron,
                    "delay": (number * 7) % 3600,
                    "timezone": ZONES[number % len(ZONES)],
                }
            )
        session.execute(sa.insert(t.run_templates), rows)
        session.commit()
    engine.dispose()


def scheduler_pass_10000() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="mf-bench-") as tmp:
        settings = _settings(Path(tmp))
        _seed(settings, RUN_TEMPLATES)
        engine = config.create_engine(settings.database_url)
        statements: list[int] = []

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _count(*_args: Any) -> None:
            statements.append(1)

        with config.session_factory(engine, settings)() as session:
            session.execute(sa.select(1))  # connect before the clock starts
            session.commit()
            statements.clear()
            start = time.perf_counter()
            result = scheduling.plan(session, dt.datetime.now(dt.UTC))
            seconds = time.perf_counter() - start
            planned = len(result.planned)
            again_start = time.perf_counter()
            scheduling.plan(session, dt.datetime.now(dt.UTC))
            idle_seconds = time.perf_counter() - again_start
        engine.dispose()
    return {
        "unit": "s",
        "value": round(seconds, 3),
        "params": {
            "run_templates": RUN_TEMPLATES,
            "planned": planned,
            "sql_statements": len(statements),
            "database": "sqlite (file, WAL)",
            "schedules": "i, h, d, w, m and */5 cron; 5 zones; delays 0-3599 s",
            "second_pass_seconds": round(idle_seconds, 3),
            "goal": "< 1 s",
        },
    }


@contextlib.contextmanager
def _daemon(settings_file: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        sys.executable,
        "-m",
        "multiflexi.server.cli",
        "--env-file",
        str(settings_file),
        "scheduler",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def due_to_delivery_latency() -> dict[str, Any]:
    """100 jobs due at staggered times; from each due time to its arrival in RQ."""
    from redis import Redis
    from rq import Queue

    from multiflexi.core.testing import redis_server

    jobs_count = 100
    with redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="mf-bench-") as tmp:
        directory = Path(tmp)
        settings = _settings(directory, REDIS_URL=redis_url)
        _seed(settings, 1)
        env_file = directory / "multiflexi.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.environ.items() if k != "TZ"))
        redis = Redis.from_url(redis_url)
        engine = config.create_engine(settings.database_url)
        factory = config.session_factory(engine, settings)
        samples: list[float] = []
        with _daemon(env_file, directory / "scheduler.log"), factory() as session:
            rt = session.scalars(sa.select(RunTemplate)).one()
            time.sleep(2)  # the daemon takes the lease and settles
            actor = Actor.system("bench")
            due: dict[str, dt.datetime] = {}
            base = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEAD_SECONDS)
            for number in range(jobs_count):
                at = base + dt.timedelta(milliseconds=137 * number)
                job = jobs.create(
                    session, rt, scheduled_at=at, schedule_type="adhoc-api", actor=actor
                )
                due[f"job-{job.id}"] = at
            session.commit()
            late = sum(1 for at in due.values() if at <= dt.datetime.now(dt.UTC))
            queue = Queue(rt.queue, connection=redis)
            seen: set[str] = set()
            deadline = time.monotonic() + 60
            while len(seen) < jobs_count and time.monotonic() < deadline:
                now = dt.datetime.now(dt.UTC)
                for rq_id in queue.job_ids:
                    if rq_id in due and rq_id not in seen:
                        seen.add(rq_id)
                        samples.append((now - due[rq_id]).total_seconds() * 1000)
                time.sleep(0.005)
        engine.dispose()
        redis.close()
    samples.sort()
    return {
        "unit": "ms",
        "value": round(statistics.median(samples), 1) if samples else -1,
        "params": {
            "jobs": jobs_count,
            "delivered": len(samples),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1) if samples else None,
            "statistic": "median",
            "from": "job.scheduled_at",
            "to": "the RQ job appears in its queue (polled every 5 ms)",
            "committed_after_due": late,
            "note": "100 jobs committed before the first is due, 137 ms apart; one scheduler "
            "daemon, no worker (queued jobs pile up), SQLite",
        },
    }


MEASUREMENTS = {
    "scheduler_pass_10000": scheduler_pass_10000,
    "due_to_delivery_latency": due_to_delivery_latency,
}

if __name__ == "__main__":  # pragma: no cover - manual use
    import json

    for name, measure in MEASUREMENTS.items():
        if len(sys.argv) < 2 or name in sys.argv[1:]:
            print(name, json.dumps(measure(), indent=2))
