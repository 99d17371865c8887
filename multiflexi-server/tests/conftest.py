"""Shared fixtures of the server's tests.

- A migrated SQLite file, settings, a real Redis and helpers to run the server's
  commands as real processes (scheduler daemon, serve, ops tests).
- ``world``: a populated MultiFlexi behind the Flask test client, two companies
  and users of each role, with the ids and API tokens the API tests use. Every
  secret it plants starts with ``PLANTED-`` so a test can search every response.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
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
from multiflexi.core import (
    actions,
    audit,
    companies,
    config,
    credentials,
    jobs,
    manifests,
    models,
    runtemplates,
    tokens,
    users,
)
from multiflexi.core.audit import Actor
from multiflexi.core.testing import redis_server
from multiflexi.server import create_app
from multiflexi.server.testing import Browser, serve

sys.path.insert(0, str(Path(__file__).parent))  # the tests' own helpers module

from helpers import ACTION_URL, MASTER_KEY, PASSWORD, SECRETS, manifest

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


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """argon2 at its lowest cost: the same code paths, a fraction of the time."""
    from argon2 import PasswordHasher

    default = users.PASSWORD_HASHER
    users.PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    yield
    users.PASSWORD_HASHER = default


@dataclasses.dataclass
class World:
    """What the populated database holds, by role: ids, tokens, the app and its client."""

    app: Any
    settings: config.Settings
    ids: dict[str, int]
    tokens: dict[str, str]

    def client(self):
        return self.app.test_client()

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def basic(self, login: str, password: str = PASSWORD) -> dict[str, str]:
        raw = base64.b64encode(f"{login}:{password}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}

    def call(self, who: str, method: str, path: str, **kwargs: Any):
        headers = {**self.headers(who), **kwargs.pop("headers", {})}
        return self.client().open(path, method=method, headers=headers, **kwargs)

    def path_values(self) -> dict[str, Any]:
        """A value for every path parameter of the document: objects of company A, root's."""
        ids = self.ids
        return {
            "company_id": ids["company_a"],
            "run_template_id": ids["rt_a"],
            "credential_id": ids["credential_a"],
            "credential_type_id": ids["ctype_a"],
            "job_id": ids["job_a"],
            "task_id": ids["task_a"],
            "artifact_id": ids["artifact_a"],
            "application_id": ids["application"],
            "app_id": ids["application"],
            "prototype_id": ids["prototype"],
            "user_id": ids["alice"],
            "token_id": ids["token_alice"],
            "name": "COMPANY_PLAIN",
        }

    def fill(self, path: str, values: dict[str, Any] | None = None) -> str:
        """A documented path with its {parameters} replaced (by default, path_values)."""
        values = self.path_values() if values is None else values
        for name, value in values.items():
            path = path.replace("{" + name + "}", str(value))
        assert "{" not in path, f"no value for a parameter of {path}"
        return path

    def dump(self) -> list[str]:
        """Every row of the database as SQL text, to prove that nothing changed."""
        import sqlite3

        with sqlite3.connect(self.settings.database_url.removeprefix("sqlite:///")) as db:
            return list(db.iterdump())

    def session(self):
        engine = config.create_engine(self.settings.database_url)
        return config.session_factory(engine, self.settings)()


def _settings(tmp_path, redis_url: str) -> config.Settings:
    environ = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'multiflexi.sqlite'}",
        "MULTIFLEXI_DATA_DIR": str(tmp_path),
        "ENCRYPTION_MASTER_KEY": MASTER_KEY,
        "MULTIFLEXI_TIMEZONE": "Europe/Prague",
        "REDIS_URL": redis_url,
        "MULTIFLEXI_SECRET_KEY": "test-secret-key",
    }
    return config.load_settings(environ=environ, env_file=os.devnull)


def populate(session, settings) -> tuple[dict[str, int], dict[str, str]]:
    system = Actor.system("tests")
    ids: dict[str, int] = {}
    plain: dict[str, str] = {}
    people = {
        "root": dict(is_admin=True),
        "alice": {},  # admin of company A
        "amy": {},  # manager of company A
        "bob": {},  # viewer of company B
        "brenda": {},  # admin of company B
        "nobody": {},  # no role anywhere
    }
    for login, extra in people.items():
        user = users.create(session, login, actor=system, password=PASSWORD, **extra)
        ids[login] = user.id
        token, plain[login] = tokens.create(session, user.id, f"{login}'s token", actor=system)
        ids[f"token_{login}"] = token.id
    result = manifests.import_manifest(session, manifest(), actor=system)
    ids["application"] = result.application_id
    proto = manifests.import_credential_prototype(
        session,
        {
            "uuid": "6f1c1a4e-0000-4000-8000-00000000c001",
            "code": "probe_api",
            "name": "Probe API",
            "version": "1.0",
            "fields": [
                {"keyword": "PROBE_URL", "type": "url", "name": "URL"},
                {"keyword": "PROBE_TOKEN", "type": "password", "name": "Token"},
            ],
        },
        actor=system,
    )
    ids["prototype"] = proto.prototype_id
    for key, slug, admin, other in (("a", "alpha", "alice", "amy"), ("b", "beta", "brenda", "bob")):
        company = companies.create(session, name=f"Company {slug}", slug=slug, actor=system)
        ids[f"company_{key}"] = company.id
        users.grant(session, company.id, ids[admin], "admin", actor=system)
        users.grant(
            session, company.id, ids[other], "manager" if key == "a" else "viewer", actor=system
        )
        companies.set_variable(
            session,
            company.id,
            "COMPANY_SECRET",
            SECRETS["company_variable"],
            secret=True,
            actor=system,
        )
        companies.set_variable(session, company.id, "COMPANY_PLAIN", "visible", actor=system)
        rt = runtemplates.create(
            session,
            company=company.id,
            app_id=result.application_id,
            actor=system,
            name=f"probe {slug}",
            values={"API_PASSWORD": SECRETS["run_template_value"], "REPORT_NAME": "weekly"},
        )
        ids[f"rt_{key}"] = rt.id
        ctype = credentials.create_type(
            session,
            company=company.id,
            name=f"probe api {slug}",
            actor=system,
            prototype_ref=proto.prototype_id,
            settings={"SIGNING_KEY": SECRETS["type_setting"]},
        )
        ids[f"ctype_{key}"] = ctype.id
        credential = credentials.create(
            session,
            company=company.id,
            credential_type_id=ctype.id,
            name=f"probe login {slug}",
            values={
                "PROBE_URL": "https://probe.example",
                "PROBE_TOKEN": SECRETS["credential_value"],
            },
            actor=system,
        )
        ids[f"credential_{key}"] = credential.id
        runtemplates.bind_credential(session, rt.id, credential.id, actor=system)
        actions.put_action(session, rt.id, "failure", "webhook", {"url": ACTION_URL}, actor=system)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
        job = jobs.launch(
            session,
            rt.id,
            actor=system,
            at=later,
            overrides={"EXTRA": SECRETS["override"]},
            secret_overrides=["EXTRA"],
        )
        ids[f"job_{key}"] = job.id
        done = jobs.launch(session, rt.id, actor=system, at=later)
        done.state = "success"
        done.exit_code = 0
        done.finished_at = dt.datetime.now(dt.UTC)
        done.environment = {"API_PASSWORD": "***", "REPORT_NAME": "weekly"}
        done.command = ["/usr/bin/env"]
        for seq, text in enumerate(["first line", "second line", "third line"], start=1):
            session.add(models.JobOutputLine(job_id=done.id, seq=seq, stream="stdout", text=text))
        artifact = models.Artifact(
            job_id=done.id, name="report.csv", content_type="text/csv", size=4, content=b"a,b\n"
        )
        session.add(artifact)
        # an SLA task of the run template: A's fulfilled by the job done, B's missed
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=2)
        task = models.Task(
            run_template_id=rt.id,
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            deadline=start + dt.timedelta(minutes=30),
            state="fulfilled" if key == "a" else "missed",
            attempts=1 if key == "a" else 0,
            fulfilled_at=start + dt.timedelta(minutes=5) if key == "a" else None,
            created_at=start,
        )
        session.add(task)
        session.flush()
        if key == "a":
            done.task_id = task.id
        session.commit()
        ids[f"task_{key}"] = task.id
        ids[f"done_{key}"] = done.id
        ids[f"artifact_{key}"] = artifact.id
    return ids, plain


@pytest.fixture
def world(tmp_path, redis_url) -> World:
    settings = _settings(tmp_path, redis_url)
    engine = config.create_engine(settings.database_url)
    models.Base.metadata.create_all(engine)
    with config.session_factory(engine, settings)() as session:
        ids, plain = populate(session, settings)
    engine.dispose()
    app = create_app(settings)
    app.config["TESTING"] = True
    return World(app=app, settings=settings, ids=ids, tokens=plain)


# -- the web UI in a real browser ----------------------------------------------------------


#: axe-core, vendored for the accessibility checks (not shipped in the wheel)
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
#: where the browser tests' screenshots go (ignored by git)
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (see multiflexi.server.testing)."""
    browser = Browser(axe=AXE, screenshots=SCREENSHOTS)
    yield browser
    browser.quit()


@pytest.fixture
def site(world):
    """The world's app served over HTTP on a loopback port; yields its base URL."""
    with serve(world.app) as url:
        yield url


@pytest.fixture
def browser(chromium, site):
    """The browser pointed at this test's site, signed out, with no console errors left."""
    chromium.base = site
    chromium.open("/login")
    chromium.sign_out()
    chromium.console_errors()
    yield chromium
    chromium.sign_out()
