"""Shared fixtures: a migrated SQLite database per test, the CLI run through CliRunner.

Tests arrange data through multiflexi-core (the same functions the CLI calls)
and act through the command line, as a user or a script would.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import multiflexi.database as database
from multiflexi.cli.main import main
from multiflexi.core import audit, config
from multiflexi.core.testing import redis_server

MASTER_KEY = "cli-test-master-key-0123456789-abcdefghijkl"
FIXTURES = Path(__file__).parent / "fixtures"
APPS = FIXTURES / "apps"
SLEEP_MANIFEST = APPS / "VitexSoftware__multiflexi-web5__sleep.multiflexi.app.json"
PROTOTYPE = (
    FIXTURES
    / "credentials"
    / "VitexSoftware__multiflexi-probe__probe.multiflexi.credprototype.json"
)
ACTOR = audit.Actor("test-arrange", source="test")
#: a Redis URL nobody listens on
DEAD_REDIS = "redis://127.0.0.1:1/0"


@dataclass
class Cli:
    """Runs ``multiflexi-cli`` in-process with a fixed environment."""

    env: dict[str, str]

    def __call__(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        environ = {**self.env}
        return runner.invoke(
            main,
            list(args),
            env=environ,
            input=input,
            catch_exceptions=False,
            prog_name="multiflexi-cli",
        )

    def json(self, *args: str, input: str | None = None) -> Any:
        result = self("--format", "json", *args, input=input)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once (through multiflexi.database), copied per test."""
    path = tmp_path_factory.mktemp("template") / "multiflexi.sqlite"
    database.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def env(tmp_path: Path, migrated_file: Path) -> dict[str, str]:
    target = tmp_path / "multiflexi.sqlite"
    shutil.copyfile(migrated_file, target)
    url = f"sqlite:///{target}"
    return {
        "DATABASE_URL": url,
        "MULTIFLEXI_DATA_DIR": str(tmp_path),
        "ENCRYPTION_MASTER_KEY": MASTER_KEY,
        "MULTIFLEXI_TIMEZONE": "Europe/Prague",
        "REDIS_URL": DEAD_REDIS,
        "MULTIFLEXI_ENV_FILE": "",
        "MULTIFLEXI_FORMAT": "",
    }


@pytest.fixture
def cli(env: dict[str, str]) -> Cli:
    return Cli(env)


@pytest.fixture
def session(env: dict[str, str]) -> Iterator[Any]:
    """A core session on the same database, to arrange data and to check what changed."""
    settings = config.load_settings(environ=env, env_file=os.devnull)
    engine = config.create_engine(settings.database_url)
    with config.session_factory(engine, settings)() as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def live_env(env: dict[str, str], redis_url: str) -> dict[str, str]:
    from redis import Redis

    client = Redis.from_url(redis_url)
    client.flushall()
    client.close()
    return {**env, "REDIS_URL": redis_url}


@pytest.fixture
def live_cli(live_env: dict[str, str]) -> Cli:
    return Cli(live_env)


@pytest.fixture
def encryption_ready(cli: Cli) -> None:
    result = cli("encryption", "init")
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def sleep_rt(cli: Cli, encryption_ready: None) -> dict[str, int]:
    """The Sleep application imported, a company, and an active run template of it."""
    app_id = cli.json("application", "import-json", "--file", str(SLEEP_MANIFEST))["application_id"]
    company_id = cli.json("company", "create", "--name", "Acme")["company_id"]
    rt_id = cli.json(
        "run-template",
        "create",
        "--name",
        "nap",
        "--company-id",
        str(company_id),
        "--app-id",
        str(app_id),
    )["runtemplate_id"]
    return {"app_id": app_id, "company_id": company_id, "rt_id": rt_id}


@pytest.fixture
def actor() -> audit.Actor:
    return ACTOR


@pytest.fixture
def fixtures() -> dict[str, Path]:
    return {"apps": APPS, "sleep": SLEEP_MANIFEST, "prototype": PROTOTYPE}
