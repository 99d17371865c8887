"""The web UI's run template list and page with a million jobs in PostgreSQL (issue 18, Bench).

The database of bench_api (one throwaway PostgreSQL server, 1,000,000 jobs COPYed
over 20 companies and 200 run templates, VACUUM ANALYZE after the load); the Flask
app under its test client, signed in through the sign-in form as the global
administrator. Each case times REQUESTS page loads after WARMUP loads and reports
p50 and p95 in milliseconds:

- list: GET /run-templates (the first 50 run templates, each with its schedule in
  words, next run and last 20 runs: the last runs of all 50 are one UNION ALL of 50
  backwards range scans of the (run_template_id, id) index);
- list_company: the same for one company (10 run templates);
- page: GET /run-templates/<id> of the busiest run template (its last 20 jobs).

The headline value is the list's p95. Goal: p95 < 100 ms.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

from bench_api import COMPANIES, JOBS, RUN_TEMPLATES_PER_COMPANY, _loaded, _percentile

REQUESTS = 100
WARMUP = 10
PASSWORD = "bench password 1"  # noqa: S105 (an account of a throwaway database)


def _sign_in(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    answer = client.post(
        "/login", data={"login": "root", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in: {answer.status_code}")


def _time(client: Any, path: str, marker: str) -> dict[str, Any]:
    samples = []
    for number in range(WARMUP + REQUESTS):
        began = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - began
        if response.status_code != 200 or marker not in response.get_data(as_text=True):
            raise RuntimeError(f"{path}: {response.status_code}")
        if number >= WARMUP:
            samples.append(elapsed * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
    }


def web_run_templates_1m_postgresql() -> dict[str, Any]:
    from multiflexi.core import config, users
    from multiflexi.core.audit import Actor
    from multiflexi.server import create_app

    with _loaded() as (settings, seeded, load_seconds):
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            root = users.get_by_login(session, "root")
            users.set_password(session, root.id, PASSWORD, actor=Actor.system("bench"))
        engine.dispose()
        client = create_app(settings).test_client()
        _sign_in(client)
        busiest = seeded["company_ids"][-1]
        rt_id = next(rt for rt, company in seeded["run_templates"] if company == busiest)
        results = {
            "list": _time(client, "/run-templates", 'data-testid="outcome"'),
            "list_company": _time(client, f"/run-templates?company={busiest}", "rt-row"),
            "page": _time(client, f"/run-templates/{rt_id}", 'data-testid="job-row"'),
        }
    return {
        "unit": "ms",
        "value": results["list"]["p95_ms"],
        "params": {
            "statistic": "p95 of GET /run-templates (50 rows, last 20 runs each), global admin",
            "jobs": JOBS,
            "run_templates": COMPANIES * RUN_TEMPLATES_PER_COMPANY,
            "requests_per_case": REQUESTS,
            "client": "Flask test client (no HTTP server), session cookie",
            "load_seconds": round(load_seconds, 1),
            "cases": results,
            "goal": "p95 < 100 ms",
        },
    }


MEASUREMENTS = {"web_run_templates_1m_postgresql": web_run_templates_1m_postgresql}
