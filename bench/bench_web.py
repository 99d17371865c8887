"""The web UI's dashboard with a million jobs in PostgreSQL (issue 18, Bench).

The same load as bench_api.py (1,000,000 jobs over 20 companies and 200 run templates,
two years of due times, loaded with COPY). A global administrator and an administrator
of two companies sign in through the sign-in form of the app under its test client;
each case times REQUESTS calls of GET / (the whole page) and of the htmx refresh (the
summary fragment) after WARMUP calls, and reports p50 and p95 in milliseconds. The
headline value is the p95 of the administrator's whole page. Goal: p95 < 100 ms.

Every number of the page comes from multiflexi.core.overview.dashboard: counts by state
over jobs(state, scheduled_at) with a 24-hour bound, the latest failures read backwards
on the same index, the hourly chart as a GROUP BY over 7 days of success/failed jobs,
and the next runs computed from the 200 run templates' schedules.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import sqlalchemy as sa
from bench_api import _loaded, _percentile

from multiflexi.core import config, users
from multiflexi.core.audit import Actor
from multiflexi.core.models import User

REQUESTS = 100
WARMUP = 10
PASSWORD = "bench password 1"  # noqa: S105 - a throwaway bench account


def _sign_in(client: Any, login: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in of {login}: {answer.status_code}")


def _time(client: Any, headers: dict[str, str]) -> dict[str, float]:
    samples = []
    for number in range(WARMUP + REQUESTS):
        began = time.perf_counter()
        response = client.get("/", headers=headers)
        elapsed = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"/: {response.status_code}")
        if number >= WARMUP:
            samples.append(elapsed * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
    }


def web_dashboard_1m_postgresql() -> dict[str, Any]:
    from multiflexi.server import create_app

    with _loaded() as (settings, _seeded, load_seconds):
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            for user in session.scalars(sa.select(User)):
                users.set_password(session, user.id, PASSWORD, actor=Actor.system("bench"))
        engine.dispose()
        app = create_app(settings)
        cases = {}
        for login in ("root", "tenant"):
            client = app.test_client()
            _sign_in(client, login)
            cases[f"{login}_page"] = _time(client, {})
            cases[f"{login}_refresh"] = _time(client, {"HX-Request": "true"})
        return {
            "unit": "ms (p95, whole dashboard page, global administrator)",
            "value": cases["root_page"]["p95_ms"],
            "params": {
                "jobs": 1_000_000,
                "requests": REQUESTS,
                "load_seconds": round(load_seconds),
                "cases": cases,
            },
        }


MEASUREMENTS = {"web_dashboard_1m_postgresql": web_dashboard_1m_postgresql}
