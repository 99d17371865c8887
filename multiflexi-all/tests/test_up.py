"""`multiflexi up` as a real process: the API answers, the demo job succeeds with its output
stored, a component that exits is started again, and however the stack is stopped (SIGTERM,
Ctrl-C, even SIGKILL) no process of it stays behind.

REDIS_URL points at a closed port, so the stack must start its embedded Redis.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

ADMIN, PASSWORD = "ops", "ops-password-7391"
#: generous bounds: the machine that runs the tests may be busy
START = 180.0
STOP = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, body: dict | None = None) -> Any:
    token = base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return json.loads(answer.read())


def answers(url: str) -> bool:
    try:
        call(url)
    except (urllib.error.URLError, OSError):
        return False
    return True


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose command line or environment names the data directory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in text and state != "Z":
            found.append(int(entry.name))
    return found


def children_of(parent: int) -> dict[int, str]:
    """The live child processes of ``parent``: pid -> role (redis, server, scheduler, worker)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) != parent or fields[0] == "Z":
            continue
        words = [a.decode(errors="replace") for a in argv]
        if "redis-server" in words[0]:  # it rewrites its title: "redis-server 127.0.0.1:PORT"
            found[int(entry.name)] = "redis"
        elif "serve" in words:
            found[int(entry.name)] = "server"
        elif "scheduler" in words:
            found[int(entry.name)] = "scheduler"
        elif "worker" in words:
            found[int(entry.name)] = "worker"
    return found


@dataclasses.dataclass
class Stack:
    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log: Path
    handle: IO[bytes]

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def roles(self) -> list[str]:
        return sorted(children_of(self.process.pid).values())

    def pids(self, role: str) -> list[int]:
        return sorted(p for p, r in children_of(self.process.pid).items() if r == role)

    def component_logs(self) -> dict[str, str]:
        logs = sorted(self.data_dir.glob("*.log")) + sorted(self.data_dir.glob("redis/*.log"))
        return {p.name: p.read_text(errors="replace") for p in logs}


def wait_for(condition: Callable[[], Any], timeout: float, what: str, stack: Stack) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; the stack said:\n{stack.said()[-3000:]}")


def stack_environment(**extra: str) -> dict[str, str]:
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
    env.update(extra)
    return env


def program() -> str:
    return shutil.which("multiflexi", path=str(Path(sys.executable).parent)) or "multiflexi"


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """Start ``multiflexi up`` in a data directory of its own; everything is gone afterwards."""
    started: list[Stack] = []

    # a root stack runs its jobs as the job user, which must pass through to the jobs'
    # directories beside the data directory: not under pytest's private tmp_path
    base = Path(tempfile.mkdtemp(prefix="mf-up-", dir="/tmp"))
    base.chmod(0o755)

    def start(*args: str, workers: int = 1, demo: bool = True) -> Stack:
        data_dir = base / f"stack-{len(started)}"
        port = free_port()
        log = tmp_path / f"up-{len(started)}.log"
        handle = open(log, "wb")  # noqa: SIM115 - closed by the fixture
        argv = [program(), "up", "--data-dir", str(data_dir), "--port", str(port)]
        argv += ["--workers", str(workers), *(["--demo"] if demo else []), *args]
        process = subprocess.Popen(
            argv, env=stack_environment(), stdout=handle, stderr=subprocess.STDOUT
        )
        stack = Stack(process, f"http://127.0.0.1:{port}", data_dir, log, handle)
        started.append(stack)
        return stack

    yield start
    for stack in started:
        if stack.process.poll() is None:
            stack.process.kill()
            stack.process.wait()
        for pid in processes_mentioning(str(stack.data_dir)):
            os.kill(pid, signal.SIGKILL)
        stack.handle.close()
    shutil.rmtree(base, ignore_errors=True)


def running(stack: Stack) -> None:
    wait_for(lambda: "MultiFlexi is running" in stack.said(), START, "the start", stack)


def stopped_and_gone(stack: Stack, signum: int = signal.SIGTERM) -> int:
    """Ask the stack to stop; its exit code, once no process of it remains."""
    stack.process.send_signal(signum)
    code = stack.process.wait(timeout=STOP)
    assert processes_mentioning(str(stack.data_dir)) == [], stack.said()
    return code


def test_up_runs_the_demo_and_stops_cleanly(launch):
    stack = launch()
    running(stack)
    said = stack.said()
    assert "embedded" in said and f"login: {ADMIN}" in said
    assert PASSWORD not in said  # a given password is never printed

    def finished_demo_job():
        items = call(f"{stack.url}/api/v1/jobs?limit=50")["items"]
        done = [j for j in items if j["state"] in ("success", "failed")]
        return done[0] if done else None

    job = wait_for(finished_demo_job, 90, "the demo job to finish", stack)
    assert job["state"] == "success", job
    lines = [line["text"] for line in call(f"{stack.url}/api/v1/jobs/{job['id']}/output")["items"]]
    assert any(f"This is job {job['id']} of Demo company" in line for line in lines), lines

    # who runs the jobs is said once at start: the job user for a root stack; for an
    # ordinary user's, that jobs run as that user and can read what it can
    [jobs_line] = [line for line in said.splitlines() if line.startswith("Jobs: ")]
    if os.geteuid() == 0:
        assert "they run as nobody" in jobs_line or "run as multiflexi-job" in jobs_line
        workers_log = (stack.data_dir / "worker-1.log").read_text()
        assert "jobs run as nobody" in workers_log or "jobs run as multiflexi-job" in workers_log
    else:
        assert "the worker's own user" in jobs_line, jobs_line

    env_file = stack.data_dir / "multiflexi.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert oct((stack.data_dir / "master.key").stat().st_mode & 0o777) == "0o600"
    assert "ENCRYPTION_MASTER_KEY=" in env_file.read_text()

    assert stack.roles() == ["redis", "scheduler", "server", "worker"]
    assert stopped_and_gone(stack) == 0
    assert stack.said().rstrip().endswith("Stopped.")
    # an orderly stop leaves no traceback anywhere
    for name, text in {"up": stack.said(), **stack.component_logs()}.items():
        assert "Traceback" not in text, f"{name}:\n{text[-3000:]}"


def test_each_component_that_exits_is_started_again(launch):
    stack = launch(workers=2)
    running(stack)
    whole = ["redis", "scheduler", "server", "worker", "worker"]
    assert stack.roles() == whole

    def replaced(role: str, signum: int, line: str) -> None:
        [old, *_] = stack.pids(role)
        os.kill(old, signum)
        wait_for(lambda: line in stack.said(), 30, f"the line about the {role}", stack)
        wait_for(
            lambda: stack.roles() == whole and old not in stack.pids(role),
            60,
            f"a new {role}",
            stack,
        )

    # a worker stopped by SIGTERM drains (exit 0) and is replaced all the same
    replaced("worker", signal.SIGTERM, "exited with code 0; starting it again in 1 s")
    replaced("worker", signal.SIGKILL, "was killed by SIGKILL; starting it again")
    replaced("redis", signal.SIGKILL, "redis was killed by SIGKILL; starting it again in 1 s")
    replaced("scheduler", signal.SIGKILL, "scheduler was killed by SIGKILL")
    replaced("server", signal.SIGKILL, "server was killed by SIGKILL")
    wait_for(lambda: answers(f"{stack.url}/api/v1/jobs?limit=1"), 60, "the API again", stack)

    # the restarted set still runs jobs
    template = call(f"{stack.url}/api/v1/jobs?limit=1")["items"][0]["run_template_id"]
    job = call(f"{stack.url}/api/v1/run-templates/{template}/launch", {})

    def finished() -> dict | None:
        state = call(f"{stack.url}/api/v1/jobs/{job['id']}")
        return state if state["state"] in ("success", "failed") else None

    assert wait_for(finished, 120, "the job launched after the restarts", stack)["state"] == (
        "success"
    )
    assert stack.process.poll() is None, "only a signal stops the stack"
    assert stopped_and_gone(stack) == 0


def _moment_reached(stack: Stack, moment: str) -> bool:
    if moment == "redis answers":
        return "Redis:" in stack.said()
    if moment == "components starting":
        return (stack.data_dir / "worker-1.log").exists()
    return "MultiFlexi is running" in stack.said()


@pytest.mark.parametrize(
    ("signum", "moment"),
    [
        (signal.SIGTERM, 0.0),
        (signal.SIGINT, 0.4),
        (signal.SIGINT, "redis answers"),
        (signal.SIGTERM, "components starting"),
        (signal.SIGINT, "components starting"),
        (signal.SIGINT, "running"),
    ],
    ids=["term-at-once", "int-0.4s", "int-redis-up", "term-starting", "int-starting", "int-run"],
)
def test_a_stop_at_any_moment_leaves_no_process(launch, signum, moment):
    stack = launch()
    if isinstance(moment, float):
        time.sleep(moment)
    else:
        wait_for(lambda: _moment_reached(stack, moment), START, moment, stack)
    code = stopped_and_gone(stack, signum)
    if isinstance(moment, str):  # the stack's handlers are in place: an orderly stop
        assert code == 0, stack.said()
        for name, text in {"up": stack.said(), **stack.component_logs()}.items():
            assert "Traceback" not in text, f"{name}:\n{text[-3000:]}"


@pytest.mark.parametrize("moment", ["components starting", "running"])
def test_children_die_with_a_killed_stack(launch, moment):
    """What nox does on Ctrl-C by default (SIGINT, 0.3 s later SIGTERM, 0.2 s later SIGKILL),
    and a plain SIGKILL: the children go too (they get SIGTERM from the kernel)."""
    stack = launch()
    wait_for(lambda: _moment_reached(stack, moment), START, moment, stack)
    if moment == "components starting":
        stack.process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        stack.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
    stack.process.kill()
    stack.process.wait()
    wait_for(
        lambda: not processes_mentioning(str(stack.data_dir)),
        STOP,
        "the children to end",
        stack,
    )


def test_a_port_in_use_is_one_line_and_starts_nothing(tmp_path):
    data_dir = tmp_path / "stack-data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [program(), "up", "--data-dir", str(data_dir), "--port", str(port), "--demo"],
            env=stack_environment(),
            capture_output=True,
            text=True,
            timeout=STOP,
        )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"port {port}" in lines[0] and "--port" in lines[0]
    assert not data_dir.exists()
    assert processes_mentioning(str(data_dir)) == []
