"""Shared fixtures of the server's tests: a migrated SQLite file, a real Redis, processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

import multiflexi.database as database
from multiflexi.core import audit, companies, config, models, runtemplates
from multiflexi.core.testing import redis_server

MASTER_KEY = "test-master-key-0123456789-abcdefghijklmnop"
ACTOR = audit.Actor("tester", source="test")
#: variables of the developer's shell that must not leak into the processes under test
FOREIGN = ("DATABASE_URL", "REDIS_URL", "ENCRYPTION_MASTER_KEY", "MULTIFLEXI_", "DB_")


@pytest.fixture(scope="session")
def redis_url():
    with redis_server() as url:
        yield url


@pytest.fixture
def redis(redis_url):
    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


def write_env(path: Path, **values: str) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


@pytest.fixture
def database_url(tmp_path) -> str:
    """A SQLite file migrated to head."""
    url = f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"
    database.upgrade(url)
    return url


@pytest.fixture
def env_file(tmp_path, database_url, redis_url) -> Path:
    return write_env(
        tmp_path / "multiflexi.env",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MULTIFLEXI_DATA_DIR=str(tmp_path),
        ENCRYPTION_MASTER_KEY=MASTER_KEY,
        MULTIFLEXI_TIMEZONE="UTC",
    )


@pytest.fixture
def settings(env_file) -> config.Settings:
    return config.load_settings(env_file=env_file, environ={})


@pytest.fixture
def session(settings):
    engine = config.create_engine(settings.database_url)
    with config.session_factory(engine, settings)() as s:
        yield s
    engine.dispose()


@pytest.fixture
def make_rt(session) -> Callable[..., models.RunTemplate]:
    """Active run templates of one application and company, with the given schedule."""
    app = models.Application(name="probe", executable="/bin/true", version="1.0")
    session.add(app)
    session.commit()
    company = companies.create(session, name="Acme", actor=ACTOR)

    def make(last_schedule: dt.datetime | None = None, **settings: object) -> models.RunTemplate:
        rt = runtemplates.create(
            session, company=company.id, app_id=app.id, actor=ACTOR, **settings
        )
        if last_schedule is not None:
            rt.last_schedule = last_schedule
            session.commit()
        return rt

    return make


def clean_environ(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    environ.update(extra)
    return environ


@pytest.fixture
def process_environ() -> Callable[..., dict[str, str]]:
    """The environment for a process under test: this one's, minus MultiFlexi settings."""
    return clean_environ


def command(name: str) -> list[str]:
    """A console script of this venv, else the module behind it."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "multiflexi.server.cli"]


class Process:
    """A command under test, with its output in a file."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=clean_environ()
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            raise


@pytest.fixture
def spawn(tmp_path) -> Iterator[Callable[..., Process]]:
    """Start ``multiflexi-server ARGS...``; every process is stopped at the end."""
    started: list[Process] = []

    def start(*args: str) -> Process:
        log = tmp_path / f"process-{len(started)}.log"
        process = Process([*command("multiflexi-server"), *args], log)
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(Exception):
            process.stop(signal.SIGKILL, timeout=10)


def _wait_for(condition: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy; its value, or a failure after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    return _wait_for
