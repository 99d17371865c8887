"""Fixtures of the executor's tests: a migrated SQLite file per test, a real Redis server.

Every test gets its own database (a copy of one migrated at the start of the
session), its own MULTIFLEXI_TMP and a flushed Redis database.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from pathlib import Path

import pytest
from redis import Redis

import multiflexi.database as database
from multiflexi.core import audit, companies, config, runtemplates
from multiflexi.core.models import (
    Application,
    ApplicationArtifact,
    ApplicationExitCode,
    ApplicationField,
)
from multiflexi.core.testing import redis_server
from multiflexi.database.testing import drop_database, new_database, postgresql_server
from multiflexi.executor import tasks
from multiflexi.executor.defaults import ExecutorSettings

MASTER_KEY = "test-master-key-0123456789-abcdefghijklmnop"
ACTOR = audit.Actor("tester", source="test")
SECRET = "s3cr3t-Pa55w0rd-XYZ"
SCRIPTS = Path(__file__).parent / "scripts"


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


@pytest.fixture(scope="session")
def migrated(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite"
    database.upgrade(f"sqlite:///{path}")
    return path


def pytest_configure(config):
    config.addinivalue_line("markers", "postgresql: run the test on a PostgreSQL database")


@pytest.fixture(scope="session")
def postgresql_url():
    with postgresql_server() as url:
        yield url


@pytest.fixture
def database_url(request, tmp_path, migrated):
    """A migrated SQLite file; a new PostgreSQL database for tests marked ``postgresql``."""
    if request.node.get_closest_marker("postgresql"):
        url = new_database(request.getfixturevalue("postgresql_url"))
        database.upgrade(url)
        yield url
        drop_database(url)
        return
    db = tmp_path / "multiflexi.sqlite"
    shutil.copyfile(migrated, db)
    yield f"sqlite:///{db}"


@pytest.fixture
def environ(tmp_path, database_url, redis_url):
    return {
        "DATABASE_URL": database_url,
        "MULTIFLEXI_DATA_DIR": str(tmp_path / "data"),
        "MULTIFLEXI_TMP": str(tmp_path / "tmp"),
        "ENCRYPTION_MASTER_KEY": MASTER_KEY,
        "MULTIFLEXI_TIMEZONE": "Europe/Prague",
        "REDIS_URL": redis_url,
        "MULTIFLEXI_JOB_LEASE": "3",
        "MULTIFLEXI_KILL_GRACE": "1",
        "MULTIFLEXI_STOP_GRACE": "1",
        # jobs run as the tests' own user here (test_isolation runs them as another one):
        # the tests' files (this interpreter, tmp_path) are private to that user
        "MULTIFLEXI_JOB_USER": pwd.getpwuid(os.geteuid()).pw_name,
    }


@pytest.fixture
def settings(environ):
    return config.load_settings(environ=environ, env_file=os.devnull)


@pytest.fixture
def context(settings, redis):
    ctx = tasks.make_context(settings, worker="test-host:1:1", redis=redis)
    assert ctx.options == ExecutorSettings.from_environ(settings.environ)
    yield ctx
    ctx.sessions.kw["bind"].dispose()


@pytest.fixture
def session(context):
    with context.sessions() as s:
        yield s


def make_app(session, name, executable, cmdparams=None, *, exit_codes=(), artifacts=(), **extra):
    """An application as a manifest import leaves it (API_TOKEN is a secret field)."""
    app = Application(name=name, executable=executable, cmdparams=cmdparams, version="1.0", **extra)
    app.fields.append(ApplicationField(name="API_TOKEN", type="password", secret=True, position=0))
    app.fields.append(
        ApplicationField(name="GREETING", type="string", default_value="hello", position=1)
    )
    app.fields.append(ApplicationField(name="RESULT_FILE", type="string", position=2))
    for code, description, severity, retry in exit_codes:
        app.exit_codes.append(
            ApplicationExitCode(
                exit_code=code, lang="en", description=description, severity=severity, retry=retry
            )
        )
    for position, (pattern, kind) in enumerate(artifacts):
        app.artifacts.append(ApplicationArtifact(pattern=pattern, type=kind, position=position))
    session.add(app)
    session.commit()
    return app


@pytest.fixture
def make_rt(session):
    """A run template of a new application running ``python3 <script> ...``."""
    counter = {"n": 0}
    company = companies.create(session, name="Acme", actor=ACTOR)

    def make(
        script=None,
        args="",
        *,
        executable=None,
        exit_codes=(),
        artifacts=(),
        values=None,
        app_extra=None,
        **settings,
    ):
        counter["n"] += 1
        app = make_app(
            session,
            f"app{counter['n']}",
            executable or sys.executable,
            args if executable else f"{SCRIPTS / script} {args}".strip(),
            exit_codes=exit_codes,
            artifacts=artifacts,
            **(app_extra or {}),
        )
        return runtemplates.create(
            session,
            company=company.id,
            app_id=app.id,
            actor=ACTOR,
            values={"API_TOKEN": SECRET, **(values or {})},
            **settings,
        )

    return make
