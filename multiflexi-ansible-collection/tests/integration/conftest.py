"""A real MultiFlexi stack (`multiflexi up` in a temporary folder) and playbooks run against it.

Needs the `multiflexi` command of multiflexi-all beside this Python (the nox session
`collection` installs it) and `ansible-playbook`. The stack is started once for the
whole folder; each test uses its own company slugs so that tests do not see each
other's objects.
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
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

COLLECTION = Path(__file__).resolve().parents[2]
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
ADMIN, PASSWORD = "ansible-admin", "ansible-admin-password-4471"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if not found:
        pytest.fail(f"`{name}` is not installed beside {sys.executable} (run `nox -s collection`)")
    return found


@dataclass
class Stack:
    url: str
    data_dir: Path
    log: Path

    def api(self, method: str, path: str, body: dict | None = None):
        """The decoded answer of the real API, as the administrator."""
        token = base64.b64encode(f"{ADMIN}:{PASSWORD}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - the test's own stack
            self.url + "/api/v1" + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Basic {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                text = answer.read()
        except urllib.error.HTTPError as error:
            return {"status": error.code, "body": error.read().decode()}
        return json.loads(text) if text else None


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    base = Path(tempfile.mkdtemp(prefix="mf-ansible-", dir="/tmp"))
    base.chmod(0o755)
    port = _free_port()
    data_dir = base / "data"
    log = base / "up.log"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MULTIFLEXI_", "DB_"))
        and k not in ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_MASTER_KEY")
    }
    env.update(
        MULTIFLEXI_ADMIN_LOGIN=ADMIN,
        MULTIFLEXI_ADMIN_PASSWORD=PASSWORD,
        REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0",
        MULTIFLEXI_TIMEZONE="UTC",
    )
    argv = [_tool("multiflexi"), "up", "--data-dir", str(data_dir), "--port", str(port)]
    with open(log, "wb") as handle:
        process = subprocess.Popen(argv, env=env, stdout=handle, stderr=subprocess.STDOUT)
    found = Stack(f"http://127.0.0.1:{port}", data_dir, log)
    try:
        deadline = time.monotonic() + 120
        while "MultiFlexi is running" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the stack did not start:\n" + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield found
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Played:
    rc: int
    stdout: str
    stats: dict
    results: dict

    def changed(self, task: str) -> bool:
        return bool(self.results[task].get("changed"))


@pytest.fixture(scope="session")
def collections_path() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="mf-collections-"))
    target = root / "ansible_collections" / "multiflexi"
    target.mkdir(parents=True)
    (target / "multiflexi").symlink_to(COLLECTION)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def play(stack, collections_path, tmp_path):
    """``play(playbook, check=False, diff=False, environment=True, **extra_vars)``: run it;
    its stats and results.

    The connection comes from the environment (MULTIFLEXI_URL, MULTIFLEXI_USERNAME,
    MULTIFLEXI_PASSWORD), as a user's would, unless ``environment`` is false. Each
    task's result is kept by its name.
    """

    def run(
        playbook: str,
        *,
        check: bool = False,
        diff: bool = False,
        environment: bool = True,
        **extra_vars,
    ) -> Played:
        record = tmp_path / "record.json"
        record.unlink(missing_ok=True)
        env = dict(os.environ)
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(collections_path),
            ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).resolve().parent / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="record",
            RECORD_FILE=str(record),
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
            ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        )
        for name in [k for k in env if k.startswith("MULTIFLEXI_")]:
            del env[name]
        if environment:
            env.update(
                MULTIFLEXI_URL=stack.url,
                MULTIFLEXI_USERNAME=ADMIN,
                MULTIFLEXI_PASSWORD=PASSWORD,
            )
        argv = [_tool("ansible-playbook"), "-i", "localhost,", "-c", "local"]
        argv += [str(PLAYBOOKS / playbook), "-e", json.dumps(extra_vars)]
        argv += ["--check"] if check else []
        argv += ["--diff"] if diff else []
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        said = done.stdout + done.stderr
        if not record.exists():
            pytest.fail(f"ansible-playbook said:\n{said[-6000:]}")
        report = json.loads(record.read_text())
        return Played(
            done.returncode, said, report["stats"].get("localhost", {}), report["results"]
        )

    return run


@pytest.fixture
def admin() -> tuple[str, str]:
    """(login, password) of the stack's administrator."""
    return ADMIN, PASSWORD
