"""`multiflexi up` as a real process: the API answers, the demo job succeeds with its output
stored, and SIGTERM leaves no process of the stack running.

REDIS_URL points at a closed port, so the stack must start its embedded Redis.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ADMIN, PASSWORD = "ops", "ops-password-7391"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> dict:
    token = base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose command line or environment names the data directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if marker.encode() in text and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture
def stack(tmp_path):
    # a root stack runs its jobs as the job user, which must reach the jobs' directories
    # beside the data directory: not under pytest's private tmp_path
    base = Path(tempfile.mkdtemp(prefix="mf-up-", dir="/tmp"))
    base.chmod(0o755)
    data_dir = base / "stack-data"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MULTIFLEXI_", "DB_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_MASTER_KEY")
    }
    env.update(
        MULTIFLEXI_ADMIN_LOGIN=ADMIN,
        MULTIFLEXI_ADMIN_PASSWORD=PASSWORD,
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        MULTIFLEXI_TIMEZONE="UTC",
    )
    program = shutil.which("multiflexi", path=str(Path(sys.executable).parent)) or "multiflexi"
    log = open(tmp_path / "up.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            program,
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--workers",
            "1",
            "--demo",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process, f"http://127.0.0.1:{port}", data_dir, tmp_path / "up.log"
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in processes_mentioning(str(data_dir)):
        os.kill(pid, signal.SIGKILL)
    log.close()
    shutil.rmtree(base, ignore_errors=True)


def wait_for(condition, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}; the stack said:\n{log.read_text()[-3000:]}")


def test_up_runs_the_demo_and_stops_cleanly(stack):
    process, url, data_dir, log = stack
    wait_for(lambda: b"MultiFlexi is running" in log.read_bytes(), 120, "the start", log)
    said = log.read_text()
    assert "embedded" in said and f"login: {ADMIN}" in said
    assert PASSWORD not in said  # a given password is never printed

    def finished_demo_job():
        items = get(f"{url}/api/v1/jobs?limit=50")["items"]
        done = [j for j in items if j["state"] in ("success", "failed")]
        return done[0] if done else None

    job = wait_for(finished_demo_job, 90, "the demo job to finish", log)
    assert job["state"] == "success", job
    lines = [line["text"] for line in get(f"{url}/api/v1/jobs/{job['id']}/output")["items"]]
    assert any(f"This is job {job['id']} of Demo company" in line for line in lines), lines

    # a root stack runs jobs as the job user; an ordinary user's says, once, that it cannot
    workers_log = (data_dir / "workers.log").read_text()
    if os.geteuid() == 0:
        assert "jobs run as nobody" in workers_log or "jobs run as multiflexi-job" in workers_log
    else:
        assert workers_log.count("the worker's own user") == 1, workers_log

    env_file = data_dir / "multiflexi.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert oct((data_dir / "master.key").stat().st_mode & 0o777) == "0o600"
    assert "ENCRYPTION_MASTER_KEY=" in env_file.read_text()

    assert processes_mentioning(str(data_dir)), "the stack's processes should be running"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    time.sleep(0.5)
    assert processes_mentioning(str(data_dir)) == []
