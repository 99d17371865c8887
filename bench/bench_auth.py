"""HTTP Basic against an API token under 50 concurrent clients (issue 17, item 11).

A real `multiflexi-server serve` process (waitress, its default 8 threads) on a
migrated SQLite file, one global administrator with a password (argon2id at its
default cost) and an API token. 50 client threads, each with its own keep-alive
connection, call GET /api/v1/me REQUESTS times after WARMUP calls; a round runs
the token case, then the Basic case, and ROUNDS rounds alternate them so that the
load of a shared machine falls on both alike. The value is the median over rounds
of Basic's mean latency per request in milliseconds, the baseline the token's;
the ratio is Basic / token. Goal: ratio <= 2.

What makes Basic cheap: the server remembers a verified password for 60 s
(users.VERIFIED_TTL) under an HMAC of the user's state and the password, so a
request costs the user's row and the throttle's row instead of an argon2
verification (``argon2_verify_ms`` in the params: what every request would cost
without it, on one core).
"""

from __future__ import annotations

import base64
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CLIENTS = 50
REQUESTS = 40
WARMUP = 3
ROUNDS = 5
SERVER_THREADS = 8
PASSWORD = "bench password, long enough"  # noqa: S105 - a throwaway bench account
MASTER_KEY = "bench-master-key-0123456789-abcdefghijklmn"
#: settings of the caller's shell that would win over the server's env file
_FOREIGN = ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_MASTER_KEY", "MULTIFLEXI_", "DB_")


def _free_port() -> int:
    from multiflexi.database.testing import free_port

    return int(free_port())


def _seed(environ: dict[str, str]) -> str:
    """The administrator and its token, through the core; returns the token."""
    from multiflexi.core import config, tokens, users
    from multiflexi.core.audit import Actor

    settings = config.load_settings(environ=environ, env_file=os.devnull)
    engine = config.create_engine(settings.database_url)
    with config.session_factory(engine, settings)() as session:
        system = Actor.system("bench")
        root = users.create(session, "root", actor=system, password=PASSWORD, is_admin=True)
        token = tokens.create(session, root.id, "bench", actor=system)[1]
    engine.dispose()
    return str(token)


def _wait_until_up(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"bench: the server stopped at start ({server.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("bench: the server did not answer within a minute")


def _client(
    port: int, headers: dict[str, str], start: threading.Barrier, latencies: list[float]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call() -> float:
        began = time.perf_counter()
        connection.request("GET", "/api/v1/me", headers=headers)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"bench: GET /api/v1/me answered {answer.status}")
        return time.perf_counter() - began

    for _ in range(WARMUP):
        call()
    start.wait()
    latencies.extend(call() for _ in range(REQUESTS))
    connection.close()


def _case(port: int, headers: dict[str, str]) -> dict[str, float]:
    """Every client's REQUESTS calls at once: mean, p50, p95 (ms) and requests per second."""
    per_client: list[list[float]] = [[] for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS + 1)
    threads = [
        threading.Thread(target=_client, args=(port, headers, start, per_client[number]))
        for number in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies = sorted(x for client in per_client for x in client)
    if len(latencies) != CLIENTS * REQUESTS:
        raise SystemExit("bench: a client did not finish its requests")
    return {
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


def _argon2_verify_ms() -> float:
    from multiflexi.core import users

    stored = users.PASSWORD_HASHER.hash(PASSWORD)
    samples = []
    for _ in range(5):
        began = time.perf_counter()
        users.PASSWORD_HASHER.verify(stored, PASSWORD)
        samples.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(samples), 1)


def api_basic_vs_token_50_clients() -> dict[str, Any]:
    import multiflexi.database as database

    with tempfile.TemporaryDirectory(prefix="mf-bench-auth-") as tmp:
        url = f"sqlite:///{tmp}/multiflexi.sqlite"
        database.upgrade(url)
        environ = {
            "DATABASE_URL": url,
            "MULTIFLEXI_DATA_DIR": f"{tmp}/data",
            "ENCRYPTION_MASTER_KEY": MASTER_KEY,
            "MULTIFLEXI_TIMEZONE": "UTC",
            "MULTIFLEXI_SECRET_KEY": "bench-secret-key",
            "REDIS_URL": "redis://127.0.0.1:1/0",  # /api/v1/me needs no Redis
        }
        env_file = Path(tmp) / "multiflexi.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in environ.items()))
        token = _seed(environ)
        port = _free_port()
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "multiflexi.server.cli", "--env-file", str(env_file)),
                *("serve", "--port", str(port), "--threads", str(SERVER_THREADS)),
            ],
            env={k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(port, server)
            raw = base64.b64encode(f"root:{PASSWORD}".encode()).decode()
            cases = {
                "token": {"Authorization": f"Bearer {token}"},
                "basic": {"Authorization": f"Basic {raw}"},
            }
            rounds: list[dict[str, dict[str, float]]] = []
            for _ in range(ROUNDS):
                rounds.append({name: _case(port, headers) for name, headers in cases.items()})
        finally:
            server.terminate()
            server.wait(timeout=30)
    token_ms = statistics.median(r["token"]["mean_ms"] for r in rounds)
    basic_ms = statistics.median(r["basic"]["mean_ms"] for r in rounds)
    return {
        "unit": "ms",
        "value": basic_ms,
        "baseline_name": "API token (Bearer), same server, same load",
        "baseline_value": token_ms,
        "params": {
            "statistic": "median over rounds of the mean latency of GET /api/v1/me",
            "clients": CLIENTS,
            "requests_per_client": REQUESTS,
            "rounds": ROUNDS,
            "server": f"multiflexi-server serve (waitress, {SERVER_THREADS} threads), SQLite",
            "round_ratios": [
                round(r["basic"]["mean_ms"] / r["token"]["mean_ms"], 2) for r in rounds
            ],
            "rounds_detail": rounds,
            "argon2_verify_ms": _argon2_verify_ms(),
            "goal": "ratio <= 2",
        },
    }


MEASUREMENTS = {"api_basic_vs_token_50_clients": api_basic_vs_token_50_clients}
