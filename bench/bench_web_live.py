"""Twenty browsers following live output while the API answers (issue 18, Bench).

The server is the real thing: ``multiflexi-server serve`` (waitress) as its own
process, over a throwaway PostgreSQL server and a throwaway Redis. Twenty jobs run;
this process plays the executor for them (each line stored through the core's
``lifecycle.store_output`` and announced on the job's Redis channel, as the worker
does), LINES_PER_SECOND lines per job per second.

Twenty clients (threads of a second process, with the executor's part) follow one
job each the way the job page does: an HTTP connection to
``GET /api/v1/jobs/<id>/output/stream`` (Server-Sent Events) carrying the session
cookie of a signed-in browser. Each line holds the time it was published; a client
notes when the line reached it. Meanwhile one API client (Bearer token, its own
keep-alive connection) times ``GET /api/v1/jobs?limit=50``, first with nobody
following (idle) and then while the twenty follow.

Reported, per number of server threads (``serve --threads``; the default first):

- the API's p50/p95 idle and under the twenty streams, and their ratio (goal: under 2);
- the delay from a line's publication to a client, p50/p95 (goal: p95 < 1 s);
- how many of the twenty clients were answered at all, and how many "busy" answers
  they got (the server serves at most all its threads but four streams at once; a
  client past them gets the stored lines and asks again after the stream's ``retry``).

The headline value is the p95 ratio with the server's default threads.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench_api import _percentile

import multiflexi.database as database
from multiflexi.core import companies, config, jobs, lifecycle, output, runtemplates, tokens, users
from multiflexi.core.audit import Actor
from multiflexi.core.models import Application
from multiflexi.core.testing import redis_server
from multiflexi.database.testing import free_port, postgresql_server

CLIENTS = 20
LINES_PER_SECOND = 4
#: API calls per phase (after WARMUP)
REQUESTS = 200
WARMUP = 20
#: jobs in the database besides the followed ones (the API's list pages through them)
OTHER_JOBS = 2000
MASTER_KEY = "bench-live-master-key-0123456789-abcdefghijkl"
PASSWORD = "bench live password 1"  # noqa: S105 - a throwaway bench account
STREAM_TIMEOUT = 300
#: seconds an API call may wait before the phase counts it unanswered
API_PATIENCE = 20.0
#: `serve --threads` values measured; None = the server's default (32: 28 stream slots);
#: 8 (the default before) leaves 4 slots for 20 clients: 16 of them are answered "busy"
THREADS: tuple[int | None, ...] = (None, 8)


def _program(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", "multiflexi.server.cli"]


def _seed(settings: config.Settings) -> dict[str, Any]:
    system = Actor.system("bench")
    with config.one_session(settings) as session:
        app = Application(name="bench live", executable="/usr/bin/env", version="1.0")
        session.add(app)
        session.commit()
        admin = users.create(session, "root", actor=system, password=PASSWORD, is_admin=True)
        token = tokens.create(session, admin.id, "bench", actor=system)[1]
        company = companies.create(session, name="Live Ltd", actor=system)
        rt = runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=system,
            name="live",
            max_concurrency=CLIENTS,
        )
        for _ in range(OTHER_JOBS // 100):
            for _ in range(100):
                jobs.launch(session, rt.id, actor=system, at=jobs.now().replace(year=2099))
        followed = []
        for _ in range(CLIENTS):
            job = jobs.launch(session, rt.id, actor=system, at=jobs.now().replace(year=2099))
            job.state, job.started_at = "running", jobs.now()
            followed.append(job.id)
        session.commit()
    return {"token": token, "jobs": followed, "next_seq": dict.fromkeys(followed, 1)}


@contextlib.contextmanager
def _server(env_file: Path, threads: int | None) -> Iterator[str]:
    port = free_port()
    argv = [*_program("multiflexi-server"), "--env-file", str(env_file), "serve"]
    argv += ["--port", str(port)] + (["--threads", str(threads)] if threads else [])
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MULTIFLEXI_", "DB_"))}
    environ.pop("DATABASE_URL", None)
    environ.pop("REDIS_URL", None)
    log = env_file.with_name(f"serve-{port}.log")
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=environ)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/login")
                if connection.getresponse().status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _session_cookie(address: str) -> str:
    """Sign in through the form, as a browser does; the session cookie."""
    connection = http.client.HTTPConnection(address, timeout=30)
    connection.request("GET", "/login")
    answer = connection.getresponse()
    page = answer.read().decode()
    cookie = answer.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    form = urllib.parse.urlencode(
        {"login": "root", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    connection.request("POST", "/login", body=form, headers=headers)
    answer = connection.getresponse()
    answer.read()
    if answer.status != 303:
        raise RuntimeError(f"sign-in: {answer.status}")
    return answer.getheader("Set-Cookie", "").split(";", 1)[0] or cookie


class Follower(threading.Thread):
    """One browser's job page: its EventSource on the job's stream (asking again after a
    ``busy`` answer, as the page does), and the delay of each line it receives."""

    def __init__(self, address: str, cookie: str, job_id: int) -> None:
        super().__init__(daemon=True)
        self.address, self.cookie, self.job_id = address, cookie, job_id
        self.delays: list[float] = []
        self.opened = threading.Event()
        self.stop = threading.Event()
        self.busy = 0
        self.after = 0

    def run(self) -> None:
        while not self.stop.is_set():
            retry = self._follow()
            if retry is None:
                return
            self.busy += 1
            self.stop.wait(retry / 1000)

    def _follow(self) -> float | None:
        """One stream until it ends; the milliseconds to wait when it said busy."""
        connection = http.client.HTTPConnection(self.address, timeout=STREAM_TIMEOUT)
        path = f"/api/v1/jobs/{self.job_id}/output/stream?timeout={STREAM_TIMEOUT}"
        headers = {"Cookie": self.cookie, "Accept": "text/event-stream"}
        headers["Last-Event-ID"] = str(self.after)
        retry = 0.0
        try:
            connection.request("GET", path, headers=headers)
            answer = connection.getresponse()
            if answer.status != 200:
                return None
            self.opened.set()
            event = ""
            while not self.stop.is_set():
                raw = answer.fp.readline()
                if not raw:
                    return None
                text = raw.decode().rstrip("\n")
                if text.startswith("event: "):
                    event = text[7:]
                elif text.startswith("retry: "):
                    retry = float(text[7:])
                elif text.startswith("id: "):
                    self.after = int(text[4:])
                elif text.startswith("data: ") and event == "line":
                    sent = float(json.loads(text[6:])["text"].split()[-1])
                    self.delays.append(time.time() - sent)
                elif text.startswith("data: ") and event == "busy":
                    return retry
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()
        return None


class Publisher(threading.Thread):
    """The executor's part: store each job's lines and announce them on its channel."""

    def __init__(
        self, settings: config.Settings, redis: Any, job_ids: list[int], next_seq: dict[int, int]
    ) -> None:
        super().__init__(daemon=True)
        self.settings, self.redis, self.job_ids = settings, redis, job_ids
        self.stop = threading.Event()
        self.published = 0
        self.next_seq = next_seq  # shared by the cases: each continues the jobs' output

    def run(self) -> None:
        period = 1.0 / LINES_PER_SECOND
        with config.one_session(self.settings) as session:
            while not self.stop.is_set():
                began = time.monotonic()
                for job_id in self.job_ids:
                    seq = self.next_seq[job_id]
                    text = f"line {seq} published at {time.time():.6f}"
                    self.next_seq[job_id] = lifecycle.store_output(
                        session, job_id, seq, [("stdout", text)]
                    )
                    message = {
                        "job_id": job_id,
                        "lines": [{"seq": seq, "stream": "stdout", "text": text}],
                    }
                    self.redis.publish(output.channel(job_id), json.dumps(message))
                    self.published += 1
                self.stop.wait(max(0.0, period - (time.monotonic() - began)))


def _time_api(address: str, token: str) -> dict[str, Any]:
    """p50/p95 of the list; a call unanswered after API_PATIENCE seconds ends the phase
    (the server had no thread left for it)."""
    connection = http.client.HTTPConnection(address, timeout=API_PATIENCE)
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for number in range(WARMUP + REQUESTS):
        began = time.perf_counter()
        try:
            connection.request("GET", "/api/v1/jobs?limit=50", headers=headers)
            answer = connection.getresponse()
            answer.read()
        except TimeoutError:
            connection.close()
            return {"unanswered_after_s": API_PATIENCE, "answered": max(0, number - WARMUP)}
        elapsed = time.perf_counter() - began
        if answer.status != 200:
            raise RuntimeError(f"/api/v1/jobs: {answer.status}")
        if number >= WARMUP:
            samples.append(elapsed * 1000)
    connection.close()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(_percentile(samples, 0.95), 1),
    }


def _load(
    address: str,
    cookie: str,
    settings: config.Settings,
    seeded: dict[str, Any],
    ready: Any,
    stop: Any,
    results: Any,
) -> None:
    """The twenty pages and the executor, in a process of their own (the API client's
    timings must not wait for their threads)."""
    from redis import Redis

    followers = [Follower(address, cookie, job_id) for job_id in seeded["jobs"]]
    for follower in followers:
        follower.after = seeded["next_seq"][follower.job_id] - 1
        follower.start()
    time.sleep(2)  # every stream is open (or answered busy) by now
    redis = Redis.from_url(settings.redis_url)
    publisher = Publisher(settings, redis, seeded["jobs"], seeded["next_seq"])
    publisher.start()
    ready.set()
    stop.wait()
    publisher.stop.set()
    publisher.join(30)
    time.sleep(1.5)  # the last lines reach their clients
    for follower in followers:
        follower.stop.set()
    redis.close()
    results.put(
        {
            "answered": sum(f.opened.is_set() for f in followers),
            "busy": sum(f.busy for f in followers),
            "published": publisher.published,
            "delays": [d * 1000 for f in followers for d in f.delays],
            "next_seq": publisher.next_seq,
        }
    )


def _case(
    settings: config.Settings, env_file: Path, seeded: dict[str, Any], threads: int | None
) -> dict[str, Any]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with _server(env_file, threads) as address:
        idle = _time_api(address, seeded["token"])
        cookie = _session_cookie(address)
        ready, stop, results = context.Event(), context.Event(), context.Queue()
        load = context.Process(
            target=_load, args=(address, cookie, settings, seeded, ready, stop, results)
        )
        load.start()
        if not ready.wait(60):
            raise RuntimeError("the followers did not start")
        time.sleep(1)
        loaded = _time_api(address, seeded["token"])
        stop.set()
        done = results.get(timeout=120)
        load.join(30)
    seeded["next_seq"] = done["next_seq"]
    delays = done["delays"]
    result: dict[str, Any] = {
        "threads": threads or "default",
        "api_idle": idle,
        "api_following": loaded,
        "p95_ratio": (round(loaded["p95_ms"] / idle["p95_ms"], 2) if "p95_ms" in loaded else None),
        "clients_answered": done["answered"],
        "busy_answers": done["busy"],
        "lines_published": done["published"],
        "lines_received": len(delays),
    }
    if delays:
        result["line_delay_p50_ms"] = round(statistics.median(delays), 1)
        result["line_delay_p95_ms"] = round(_percentile(delays, 0.95), 1)
    return result


def web_live_output_20_clients() -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="mf-bench-live-") as tmp,
        postgresql_server("multiflexi_bench_live") as url,
        redis_server() as redis_url,
    ):
        database.upgrade(url)
        env_file = Path(tmp) / "multiflexi.env"
        env_file.write_text(
            f"DATABASE_URL={url}\nREDIS_URL={redis_url}\nENCRYPTION_MASTER_KEY={MASTER_KEY}\n"
            f"MULTIFLEXI_DATA_DIR={tmp}\nMULTIFLEXI_TIMEZONE=UTC\n"
            "MULTIFLEXI_SECRET_KEY=bench-live-session-key\n"
        )
        settings = config.load_settings(env_file=env_file, environ={})
        seeded = _seed(settings)
        cases = {
            f"threads_{threads or 'default'}": _case(settings, env_file, seeded, threads)
            for threads in THREADS
        }
    headline = cases["threads_default"]
    return {
        "unit": "ratio (p95 of GET /api/v1/jobs?limit=50 with 20 streams / idle)",
        "value": headline["p95_ratio"],
        "params": {
            "clients": CLIENTS,
            "lines_per_second_per_job": LINES_PER_SECOND,
            "requests_per_phase": REQUESTS,
            "server": "multiflexi-server serve (waitress) as a process, PostgreSQL, Redis",
            "cases": cases,
            "goal": "ratio < 2; line delay p95 < 1000 ms",
        },
    }


MEASUREMENTS = {
    "web_live_output_20_clients": web_live_output_20_clients,
}
