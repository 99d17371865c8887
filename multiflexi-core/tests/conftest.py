"""Shared fixtures of the core's tests: a real SQLite database per test."""

from __future__ import annotations

import os

import pytest
from argon2 import PasswordHasher
from redis import Redis

from multiflexi.core import config, models, users
from multiflexi.core.testing import redis_server
from multiflexi.database.testing import drop_database, new_database, postgresql_server

MASTER_KEY = "test-master-key-0123456789-abcdefghijklmnop"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """argon2id at a small cost, so the suite stays fast; the algorithm is the same."""
    monkeypatch.setattr(
        users, "PASSWORD_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def redis_url():
    """A throwaway redis-server for the session (skips when it is not installed)."""
    with redis_server() as url:
        yield url


@pytest.fixture
def redis(redis_url):
    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgresql_url():
    """A throwaway PostgreSQL server for the session (skips when it is not installed)."""
    with postgresql_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Every database-touching test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"
        return
    url = new_database(request.getfixturevalue("postgresql_url"))
    yield url
    drop_database(url)


@pytest.fixture
def settings(tmp_path, database_url):
    environ = {
        "DATABASE_URL": database_url,
        "MULTIFLEXI_DATA_DIR": str(tmp_path),
        "ENCRYPTION_MASTER_KEY": MASTER_KEY,
        "MULTIFLEXI_TIMEZONE": "Europe/Prague",
        "REDIS_URL": os.environ.get("MULTIFLEXI_TEST_REDIS_URL", "redis://127.0.0.1:1/0"),
    }
    return config.load_settings(environ=environ, env_file=os.devnull)


@pytest.fixture
def engine(settings):
    engine = config.create_engine(settings.database_url)
    models.Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine, settings):
    with config.session_factory(engine, settings)() as s:
        yield s


@pytest.fixture
def app(session):
    """An application with typed fields, as a manifest import would leave it."""
    application = models.Application(
        name="probe", executable="/usr/bin/env", cmdparams="--ignore-environment", version="1.0"
    )
    for position, (name, ftype, extra) in enumerate(
        [
            ("REPORT_NAME", "string", {"default_value": "report"}),
            ("LIMIT", "integer", {}),
            ("VERBOSE", "bool", {"default_value": "false"}),
            ("NOTIFY", "email", {}),
            ("ENDPOINT", "url", {"required": True}),
            ("MODE", "set", {"options": ["fast", "thorough"]}),
            ("API_PASSWORD", "password", {}),
        ]
    ):
        application.fields.append(
            models.ApplicationField(name=name, type=ftype, position=position, **extra)
        )
    session.add(application)
    session.commit()
    return application
