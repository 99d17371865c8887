"""`multiflexi-server serve`, /healthz, /readyz, /metrics and `flask db upgrade`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import multiflexi.database as database
from multiflexi.core import config, jobs, tasks
from multiflexi.core.models import Job, Task
from multiflexi.database.testing import free_port
from multiflexi.server import create_app

UTC = dt.UTC
DEAD_REDIS = "redis://127.0.0.1:1/0"


def get(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - local test server
            return answer.status, answer.headers.get("Content-Type", ""), json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), json.load(error)


def app_for(tmp_path: Path, database_url: str, redis_url: str):
    settings = config.load_settings(
        environ={
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MULTIFLEXI_DATA_DIR": str(tmp_path),
            "MULTIFLEXI_TIMEZONE": "UTC",
        },
        env_file=None,
    )
    return create_app(settings, config_overrides={"TESTING": True})


def test_serve_refuses_an_empty_database_and_says_what_to_run(tmp_path, spawn, redis_url):
    env = tmp_path / "empty.env"
    env.write_text(
        f"DATABASE_URL=sqlite:///{tmp_path / 'empty.sqlite'}\n"
        f"REDIS_URL={redis_url}\nMULTIFLEXI_DATA_DIR={tmp_path}\n"
    )
    serve = spawn("--env-file", str(env), "serve", "--port", str(free_port()))
    assert serve.popen.wait(timeout=30) == 1
    lines = serve.output().strip().splitlines()
    assert len(lines) == 1, lines
    assert "multiflexi-database upgrade" in lines[0]


def test_serve_answers_health_and_readiness(spawn, env_file, wait_for):
    port = free_port()
    serve = spawn("--env-file", str(env_file), "serve", "--port", str(port), "--threads", "2")

    def healthy():
        try:
            return get(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            assert serve.popen.poll() is None, serve.output()
            return None

    status, _, body = wait_for(healthy, what="the server to answer")
    assert (status, body) == (200, {"status": "ok"})
    status, _, body = get(f"http://127.0.0.1:{port}/readyz")
    assert status == 200
    assert body["checks"] == {"database": "ok", "schema": "ok", "redis": "ok"}


def test_readyz_is_503_naming_redis_when_it_is_down(tmp_path, database_url):
    client = app_for(tmp_path, database_url, DEAD_REDIS).test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["checks"] == {"database": "ok", "schema": "ok", "redis": "failed"}
    assert "REDIS_URL" in body["detail"]
    assert client.get("/healthz").status_code == 200  # alive all the same


def test_the_server_address_leads_to_the_web_ui_and_it_to_the_api_documentation(
    tmp_path, database_url, redis_url
):
    client = app_for(tmp_path, database_url, redis_url).test_client()
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b'href="/api/v1/docs"' in page.data
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"openapi.json" in docs.data


def test_readyz_is_503_when_the_schema_is_not_at_head(tmp_path, redis_url):
    empty = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    answer = app_for(tmp_path, empty, redis_url).test_client().get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["checks"]["schema"] == "failed" and body["checks"]["redis"] == "ok"
    assert "multiflexi-database upgrade" in body["detail"]


def finished(session, rt, state, seconds):
    job = jobs.create(
        session,
        rt,
        scheduled_at=dt.datetime(2024, 1, 1, tzinfo=UTC),
        schedule_type="adhoc",
        actor=jobs.audit.Actor.system("test"),
    )
    start = dt.datetime(2024, 1, 1, 12, tzinfo=UTC)
    job.state, job.started_at = state, start
    job.finished_at = start + dt.timedelta(seconds=seconds)
    session.commit()
    return job


def test_metrics_show_jobs_durations_queues_and_requests(
    tmp_path, database_url, redis_url, session, make_rt, redis
):
    rt = make_rt(interval_code="n")
    finished(session, rt, "success", 2)
    finished(session, rt, "success", 100)
    finished(session, rt, "failed", 10)
    waiting = jobs.launch(session, rt.id, actor=jobs.audit.Actor.system("test"), redis=redis)
    start = jobs.now()
    session.add(
        Task(
            run_template_id=rt.id,
            window_start=start,
            window_end=start,
            deadline=start,
            state="missed",
            attempts=0,
            created_at=start,
        )
    )
    session.commit()
    client = app_for(tmp_path, database_url, redis_url).test_client()
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/page")

    answer = client.get("/metrics")

    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    families = {f.name: f for f in text_string_to_metric_families(answer.get_data(as_text=True))}
    by_state = {s.labels["state"]: s.value for s in families["multiflexi_jobs"].samples}
    assert by_state["success"] == 2 and by_state["failed"] == 1 and by_state["queued"] == 1
    assert by_state["running"] == 0
    # SLA tasks by state: every state reported, 0 when none
    by_task_state = {s.labels["state"]: s.value for s in families["multiflexi_tasks"].samples}
    assert by_task_state == dict.fromkeys(tasks.STATES, 0) | {"missed": 1}
    durations = {
        (s.name, s.labels.get("state"), s.labels.get("le")): s.value
        for s in families["multiflexi_job_duration_seconds"].samples
    }
    assert durations[("multiflexi_job_duration_seconds_bucket", "success", "5")] == 1
    assert durations[("multiflexi_job_duration_seconds_bucket", "success", "300")] == 2
    assert durations[("multiflexi_job_duration_seconds_bucket", "success", "+Inf")] == 2
    assert durations[("multiflexi_job_duration_seconds_count", "success", None)] == 2
    assert durations[("multiflexi_job_duration_seconds_sum", "success", None)] == pytest.approx(
        102, abs=0.01
    )
    assert durations[("multiflexi_job_duration_seconds_bucket", "failed", "15")] == 1
    depth = {s.labels["queue"]: s.value for s in families["multiflexi_queue_depth"].samples}
    assert depth[waiting.queue] == 1
    requests = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in families["multiflexi_http_requests"].samples
        if s.name == "multiflexi_http_requests_total"
    }
    assert requests[("/healthz", "200")] == 2
    assert requests[("(unmatched)", "404")] == 1
    latency = families["multiflexi_http_request_duration_seconds"].samples
    assert any(s.name.endswith("_count") and s.labels["route"] == "/healthz" for s in latency)
    assert session.get(Job, waiting.id) is not None


def test_metrics_say_redis_is_down_instead_of_failing(tmp_path, database_url):
    answer = app_for(tmp_path, database_url, DEAD_REDIS).test_client().get("/metrics")
    assert answer.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(answer.get_data(as_text=True))}
    assert families["multiflexi_redis_up"].samples[0].value == 0
    assert families["multiflexi_database_up"].samples[0].value == 1


def test_flask_db_upgrade_brings_an_empty_database_to_head(tmp_path, process_environ):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    flask = Path(sys.executable).with_name("flask")
    argv = [str(flask)] if flask.exists() else [sys.executable, "-m", "flask"]
    done = subprocess.run(
        [*argv, "--app", "multiflexi.server", "db", "upgrade"],
        env=process_environ(DATABASE_URL=url, MULTIFLEXI_DATA_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert database.check(url).state == "current"


def test_metrics_answer_loopback_clients_only_by_default(tmp_path, database_url, redis_url):
    client = app_for(tmp_path, database_url, redis_url).test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert outside.status_code == 403
    assert "MULTIFLEXI_METRICS_TOKEN" in outside.get_json()["detail"]
    assert b"multiflexi_jobs" not in outside.data


def test_with_a_metrics_token_every_scraper_must_send_it(tmp_path, database_url, redis_url):
    settings = config.load_settings(
        environ={
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MULTIFLEXI_DATA_DIR": str(tmp_path),
            "MULTIFLEXI_METRICS_TOKEN": "scrape-me-4f1a",
        },
        env_file=None,
    )
    client = create_app(settings, config_overrides={"TESTING": True}).test_client()
    remote = {"REMOTE_ADDR": "192.0.2.7"}
    for headers, environ in (({}, {}), ({"Authorization": "Bearer wrong"}, remote)):
        refused = client.get("/metrics", headers=headers, environ_base=environ)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    granted = client.get(
        "/metrics", headers={"Authorization": "Bearer scrape-me-4f1a"}, environ_base=remote
    )
    assert granted.status_code == 200
    assert b"multiflexi_jobs" in granted.data
