"""The REST API: listing jobs with a million of them in PostgreSQL (issue 6, Bench).

One throwaway PostgreSQL server (multiflexi.database.testing.postgresql_server),
migrated to head; 1,000,000 jobs bulk-loaded with COPY over 20 companies, 200 run
templates, every state and two years of scheduled times; the Flask app under its
test client, called with Bearer tokens of a global administrator and of an
administrator of two companies (whose lists are tenant-filtered). Each case times
REQUESTS calls of GET /api/v1/jobs?limit=50 (plus its filter) after WARMUP calls,
and reports p50 and p95 in milliseconds. The headline value is the p95 of the
global administrator's unfiltered list. Goal: p95 < 50 ms.

The COPY bypasses the core, so the companies' job counters (table job_counts) are
rebuilt after it with the core's own repair, housekeeping.recount_jobs (what
`multiflexi-cli queue fix` runs after a bulk load); the bench checks that it accounted
for every loaded job.

What limits it: the page itself costs a few ms (the newest 50 rows by the primary key,
auth, serialisation). The exact `total` of a list filtered by company only, by the
companies a tenant may see, or not at all is a sum over the job_counts rows that the
core keeps in the transactions that create and delete jobs: a few rows, whatever the
number of jobs. A list filtered by state, run template or time still counts its
matches with COUNT(*), about 65 ms per million matching rows on two cores even as an
index-only scan; such lists match tens of thousands of jobs here and stay well under
the goal. A deep offset (admin_offset_10000) pays for the rows it skips.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

import multiflexi.database as database
from multiflexi.core import companies, config, housekeeping, runtemplates, tokens, users
from multiflexi.core.audit import Actor
from multiflexi.core.models import Application
from multiflexi.database.testing import postgresql_server

JOBS = 1_000_000
COMPANIES = 20
RUN_TEMPLATES_PER_COMPANY = 10
#: the tenant administrator is admin of this many companies (the first ones)
TENANT_COMPANIES = 2
REQUESTS = 200
WARMUP = 20
#: scheduled times spread over this many days before now
DAYS = 730
#: the share of each state among the jobs, roughly as a long-running installation has them
STATE_WEIGHTS = {
    "success": 0.86,
    "failed": 0.08,
    "missed": 0.02,
    "lost": 0.004,
    "cancelled": 0.01,
    "blocked": 0.005,
    "scheduled": 0.0002,
    "queued": 0.0001,
    "waiting": 0.0001,
    "running": 0.0001,
}
FINAL = {"success", "failed", "missed", "lost", "cancelled", "blocked"}
MASTER_KEY = "bench-master-key-0123456789-abcdefghijklmn"
COLUMNS = (
    "run_template_id",
    "company_id",
    "application_id",
    "state",
    "schedule_type",
    "scheduled_at",
    "queued_at",
    "started_at",
    "finished_at",
    "executor",
    "queue",
    "command",
    "environment",
    "exit_code",
    "attempt",
    "launched_by",
    "cancel_requested",
    "output_lines",
    "created_at",
    "updated_at",
)


def _settings(directory: Path, url: str) -> config.Settings:
    environ = {
        "DATABASE_URL": url,
        "MULTIFLEXI_DATA_DIR": str(directory),
        "MULTIFLEXI_TIMEZONE": "UTC",
        "ENCRYPTION_MASTER_KEY": MASTER_KEY,
        "MULTIFLEXI_SECRET_KEY": "bench-secret-key",
    }
    return config.load_settings(environ=environ, env_file=os.devnull)


def _seed_objects(settings: config.Settings) -> dict[str, Any]:
    """Users with tokens, companies and run templates, through the core."""
    system = Actor.system("bench")
    engine = config.create_engine(settings.database_url)
    seeded: dict[str, Any] = {"run_templates": []}
    with config.session_factory(engine, settings)() as session:
        app = Application(name="bench", executable="/usr/bin/env", version="1.0")
        session.add(app)
        session.commit()
        seeded["application_id"] = app.id
        root = users.create(session, "root", actor=system, is_admin=True)
        tenant = users.create(session, "tenant", actor=system)
        seeded["admin_token"] = tokens.create(session, root.id, "bench", actor=system)[1]
        seeded["tenant_token"] = tokens.create(session, tenant.id, "bench", actor=system)[1]
        company_ids = []
        for number in range(COMPANIES):
            company = companies.create(session, name=f"Company {number}", actor=system)
            company_ids.append(company.id)
            if number < TENANT_COMPANIES:
                users.grant(session, company.id, tenant.id, "admin", actor=system)
            for rt_number in range(RUN_TEMPLATES_PER_COMPANY):
                rt = runtemplates.create(
                    session,
                    company=company.id,
                    app_id=app.id,
                    actor=system,
                    name=f"rt {number}-{rt_number}",
                )
                seeded["run_templates"].append((rt.id, company.id))
        seeded["company_ids"] = company_ids
    engine.dispose()
    return seeded


def _copy_jobs(url: str, seeded: dict[str, Any], count: int) -> float:
    """COPY ``count`` jobs in id order = scheduled order; returns the seconds it took."""
    rng = random.Random(6)
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    # companies of unequal size, as real tenants are: weights 1..COMPANIES, shuffled
    rts = seeded["run_templates"]
    rt_weights = [1 + (n // RUN_TEMPLATES_PER_COMPANY * 7) % COMPANIES for n in range(len(rts))]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=DAYS)
    step = dt.timedelta(days=DAYS) / count
    app_id = seeded["application_id"]
    dsn = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    began = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY jobs ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for number in range(count):
                scheduled = start + step * number
                state = rng.choices(states, weights)[0]
                if number > count - 200:  # the newest jobs are still to run
                    state = "scheduled"
                rt_id, company_id = rng.choices(rts, rt_weights)[0]
                final = state in FINAL
                ran = final and state not in {"missed", "blocked", "cancelled"}
                started = scheduled + dt.timedelta(seconds=rng.randint(0, 5)) if ran else None
                finished = (
                    (started or scheduled) + dt.timedelta(seconds=rng.randint(1, 600))
                    if final
                    else None
                )
                command = json.dumps(["/usr/bin/env", "--report", f"r{number % 97}"])
                environment = json.dumps(
                    {
                        "MULTIFLEXI_JOB_ID": str(number + 1),
                        "API_URL": "https://erp.example",
                        "API_PASSWORD": "***",
                        "REPORT_NAME": "weekly",
                    }
                )
                exit_code = (0 if state == "success" else 1) if ran else None
                row = (
                    rt_id,
                    company_id,
                    app_id,
                    state,
                    "h" if number % 5 else "adhoc-api",
                    scheduled.isoformat(),
                    (scheduled.isoformat() if ran else None),
                    (started.isoformat() if started else None),
                    (finished.isoformat() if finished else None),
                    "native",
                    "default",
                    command,
                    environment,
                    exit_code,
                    1,
                    "scheduler",
                    "f",
                    rng.randint(0, 200) if ran else 0,
                    scheduled.isoformat(),
                    (finished or scheduled).isoformat(),
                )
                buffer.write(
                    "\t".join(r"\N" if v is None else str(v).replace("\\", "\\\\") for v in row)
                    + "\n"
                )
                if number % 20_000 == 19_999:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
        conn.commit()
    # what autovacuum does to a table after a load: statistics and the visibility map. A
    # VACUUM that overlaps autovacuum's own ANALYZE of the new table may leave pages not
    # all-visible (then every count reads the heap): vacuum until they all are.
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) jobs")
        for _ in range(5):
            row = conn.execute(
                "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'jobs'"
            ).fetchone()
            if row is None or row[1] >= row[0]:
                break
            time.sleep(1)
            conn.execute("VACUUM jobs")
    return time.perf_counter() - began


def _recount(settings: config.Settings) -> None:
    """job_counts after the COPY, through the core's repair; it must account for every job."""
    engine = config.create_engine(settings.database_url)
    with config.session_factory(engine, settings)() as session:
        corrections = housekeeping.recount_jobs(session, actor=Actor.system("bench"))
    engine.dispose()
    counted = sum(now for _was, now in corrections.values())
    if counted != JOBS or any(was != 0 for was, _now in corrections.values()):
        raise RuntimeError(f"recount after the load: {corrections} (expected {JOBS} jobs)")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _time(client: Any, token: str, query: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/api/v1/jobs?{query}"
    samples = []
    body: dict[str, Any] = {}
    for number in range(WARMUP + REQUESTS):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
        if number >= WARMUP:
            samples.append(elapsed * 1000)
        body = response.get_json()
    if len(body["items"]) != min(50, body["total"]):
        raise RuntimeError(f"{path}: {len(body['items'])} items of {body['total']}")
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
        "total": body["total"],
    }


@contextlib.contextmanager
def _loaded() -> Iterator[tuple[config.Settings, dict[str, Any], float]]:
    with (
        tempfile.TemporaryDirectory(prefix="mf-bench-api-") as tmp,
        postgresql_server("multiflexi_bench") as url,
    ):
        database.upgrade(url)
        settings = _settings(Path(tmp), url)
        seeded = _seed_objects(settings)
        seconds = _copy_jobs(url, seeded, JOBS)
        _recount(settings)
        yield settings, seeded, seconds


def api_jobs_list_1m_postgresql() -> dict[str, Any]:
    from multiflexi.server import create_app

    with _loaded() as (settings, seeded, load_seconds):
        client = create_app(settings).test_client()
        second = seeded["company_ids"][1]
        busiest = seeded["company_ids"][-1]
        admin, tenant = seeded["admin_token"], seeded["tenant_token"]
        cases = {
            "admin": (admin, "limit=50"),
            "admin_company": (admin, f"limit=50&company_id={busiest}"),
            "admin_state_failed": (admin, "limit=50&state=failed"),
            "admin_state_running": (admin, "limit=50&state=running"),
            "admin_offset_10000": (admin, "limit=50&offset=10000"),
            "tenant": (tenant, "limit=50"),
            "tenant_company": (tenant, f"limit=50&company_id={second}"),
            "tenant_state_failed": (tenant, "limit=50&state=failed"),
        }
        results = {name: _time(client, token, query) for name, (token, query) in cases.items()}
    return {
        "unit": "ms",
        "value": results["admin"]["p95_ms"],
        "params": {
            "statistic": "p95 of GET /api/v1/jobs?limit=50, global administrator, no filter",
            "jobs": JOBS,
            "companies": COMPANIES,
            "run_templates": COMPANIES * RUN_TEMPLATES_PER_COMPANY,
            "tenant_companies": TENANT_COMPANIES,
            "requests_per_case": REQUESTS,
            "client": "Flask test client (no HTTP server), Bearer token",
            "database": "PostgreSQL (throwaway, fsync off), VACUUM ANALYZE after the load",
            "job_counts": "rebuilt after the COPY by housekeeping.recount_jobs",
            "load_seconds": round(load_seconds, 1),
            "cases": results,
            "goal": "p95 < 50 ms",
        },
    }


MEASUREMENTS = {"api_jobs_list_1m_postgresql": api_jobs_list_1m_postgresql}
