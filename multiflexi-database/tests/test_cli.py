"""The multiflexi-database command, run as a real process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import make_url

from multiflexi.database import head
from multiflexi.database.testing import free_port

SCRUBBED = ("DATABASE_URL", "MULTIFLEXI_ENV_FILE", "MULTIFLEXI_DATA_DIR")


@dataclass
class Result:
    code: int
    out: str
    err: str


def run(*args: str, env: dict[str, str] | None = None, data_dir: Path) -> Result:
    """Run the command with a clean environment: no DB settings but ``env``."""
    environ = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("DB_")}
    environ["MULTIFLEXI_ENV_FILE"] = os.devnull  # never read /etc/multiflexi/multiflexi.env
    environ["MULTIFLEXI_DATA_DIR"] = str(data_dir)
    environ.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "multiflexi.database.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, variable: str, *secrets: str) -> str:
    assert result.code == 1, result
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"multiflexi-database: error: {variable}: "), lines[0]
    for secret in secrets:
        assert secret not in result.err and secret not in result.out
    return lines[0]


def test_upgrade_check_current_history_and_downgrade_on_the_default_sqlite(tmp_path: Path):
    data = tmp_path / "data"

    before = run("check", data_dir=data)
    assert before.code == 3
    assert before.err.strip() == (
        f"multiflexi-database: the SQLite file {data / 'multiflexi.sqlite'} (the default in the "
        "data directory: neither DATABASE_URL nor DB_CONNECTION is set) does not exist yet: "
        "run `multiflexi-database upgrade` to create it"
    )
    assert not data.exists()  # checking created nothing

    upgraded = run("upgrade", data_dir=data)
    assert upgraded.code == 0, upgraded
    assert upgraded.out.strip().endswith(f"upgraded from empty to {head()}")
    assert (data / "multiflexi.sqlite").is_file()

    assert run("check", data_dir=data).code == 0
    assert run("current", data_dir=data).out.strip() == head()
    assert f"{head()}  " in run("history", data_dir=data).out

    again = run("upgrade", data_dir=data)
    assert again.code == 0
    assert "nothing to do" in again.out

    assert run("downgrade", "base", data_dir=data).code == 0
    assert run("current", data_dir=data).out.strip() == "none"
    assert run("check", data_dir=data).code == 3


def test_check_says_a_newer_database_needs_newer_code(tmp_path: Path):
    db = tmp_path / "mf.sqlite"
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert run("upgrade", env=env, data_dir=tmp_path).code == 0
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'")

    result = run("check", env=env, data_dir=tmp_path)

    assert result.code == 4
    assert result.err.strip().endswith(
        "this database is newer than this code: upgrade multiflexi-database"
    )
    refused = run("upgrade", env=env, data_dir=tmp_path)
    assert refused.code == 1
    assert "newer than this code" in refused.err
    assert run("current", env=env, data_dir=tmp_path).out.strip() == "f0f0f0f0f0f0"


def test_the_environment_wins_over_the_env_file_and_url_wins_over_both(tmp_path: Path):
    from_file, from_env, from_option = (tmp_path / f"{n}.sqlite" for n in ("f", "e", "o"))
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text(f'DATABASE_URL="sqlite:///{from_file}"\n')

    assert run("--env-file", str(env_file), "upgrade", data_dir=tmp_path).code == 0
    assert from_file.exists()

    env = {"DATABASE_URL": f"sqlite:///{from_env}", "MULTIFLEXI_ENV_FILE": str(env_file)}
    assert run("upgrade", env=env, data_dir=tmp_path).code == 0
    assert from_env.exists()

    assert run("--url", f"sqlite:///{from_option}", "upgrade", env=env, data_dir=tmp_path).code == 0
    assert from_option.exists()


def test_a_missing_env_file_is_one_line(tmp_path: Path):
    result = run("--env-file", str(tmp_path / "nope.env"), "check", data_dir=tmp_path)
    assert_one_line_error(result, "--env-file")


def test_an_unreachable_server_names_db_host_and_db_port(tmp_path: Path):
    port = str(free_port())  # nothing listens there
    env = {
        "DB_CONNECTION": "pgsql",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": port,
        "DB_DATABASE": "multiflexi",
        "DB_USERNAME": "multiflexi",
        "DB_PASSWORD": "Tr0ub4dor&3",
    }
    line = assert_one_line_error(run("upgrade", env=env, data_dir=tmp_path), "DB_HOST/DB_PORT")
    assert f"127.0.0.1:{port}" in line
    assert "Tr0ub4dor&3" not in line


def test_an_unreachable_mariadb_in_database_url_names_database_url(tmp_path: Path):
    url = f"mysql://multiflexi:Tr0ub4dor3@127.0.0.1:{free_port()}/multiflexi"
    result = run("check", env={"DATABASE_URL": url}, data_dir=tmp_path)
    line = assert_one_line_error(result, "DATABASE_URL", "Tr0ub4dor3")
    assert "cannot reach the database server" in line


def test_a_wrong_postgresql_password_names_db_username_and_db_password(
    postgresql_url: str, tmp_path: Path
):
    url = make_url(postgresql_url)
    env = {
        "DB_CONNECTION": "pgsql",
        "DB_HOST": str(url.host),
        "DB_PORT": str(url.port),
        "DB_DATABASE": str(url.database),
        "DB_USERNAME": str(url.username),
        "DB_PASSWORD": "wrong-Passw0rd",
    }
    result = run("upgrade", env=env, data_dir=tmp_path)
    line = assert_one_line_error(result, "DB_USERNAME/DB_PASSWORD", "wrong-Passw0rd")
    assert "login refused for user 'postgres'" in line
    # the right password works
    assert run("check", env={**env, "DB_PASSWORD": str(url.password)}, data_dir=tmp_path).code in (
        0,
        3,
    )


def test_an_unknown_postgresql_database_names_db_database(postgresql_url: str, tmp_path: Path):
    url = make_url(postgresql_url)
    env = {
        "DB_CONNECTION": "pgsql",
        "DB_HOST": str(url.host),
        "DB_PORT": str(url.port),
        "DB_DATABASE": "no_such_database",
        "DB_USERNAME": str(url.username),
        "DB_PASSWORD": str(url.password),
    }
    line = assert_one_line_error(
        run("check", env=env, data_dir=tmp_path), "DB_DATABASE", str(url.password)
    )
    assert "no_such_database" in line


def test_a_wrong_mariadb_password_in_database_url_names_database_url(
    mariadb_url: str, tmp_path: Path
):
    wrong = make_url(mariadb_url).set(password="wrong-Passw0rd")
    env = {"DATABASE_URL": wrong.render_as_string(hide_password=False)}
    line = assert_one_line_error(
        run("upgrade", env=env, data_dir=tmp_path), "DATABASE_URL", "wrong-Passw0rd"
    )
    assert "login refused for user 'multiflexi'" in line


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DB_CONNECTION": "oracle", "DB_DATABASE": "x"}, "DB_CONNECTION"),
        ({"DATABASE_URL": "oracle+nosuch://u:Secr3t@h/db"}, "DATABASE_URL"),
        ({"DB_CONNECTION": "pgsql", "DB_DATABASE": "x", "DB_PORT": "huge"}, "DB_PORT"),
    ],
)
def test_wrong_settings_are_one_line_naming_the_variable(
    env: dict[str, str], variable: str, tmp_path: Path
):
    assert_one_line_error(run("upgrade", env=env, data_dir=tmp_path), variable, "Secr3t")


def test_an_unwritable_sqlite_location_names_database_url(tmp_path: Path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/no/such/dir/mf.sqlite"}
    line = assert_one_line_error(run("upgrade", env=env, data_dir=tmp_path), "DATABASE_URL")
    assert "unable to open database file" in line


def test_an_unknown_revision_is_one_line(tmp_path: Path):
    result = run("upgrade", "nonesuch", data_dir=tmp_path)
    assert result.code == 1
    assert result.err.strip() == (
        "multiflexi-database: error: unknown revision 'nonesuch' "
        "(see `multiflexi-database history`)"
    )


def test_check_of_a_mistyped_db_database_names_the_file_and_creates_nothing(tmp_path: Path):
    typo = tmp_path / "typo" / "x.sqlite"
    env = {"DB_CONNECTION": "sqlite", "DB_DATABASE": str(typo)}

    result = run("check", env=env, data_dir=tmp_path / "data")

    assert result.code == 3
    assert result.err.strip() == (
        f"multiflexi-database: the SQLite file {typo} (named by DB_DATABASE) does not exist, "
        f"nor does its directory {typo.parent}: check DB_DATABASE"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_one_character_password_is_not_masked_all_over_the_message(tmp_path: Path):
    port = str(free_port())  # nothing listens there
    env = {
        "DB_CONNECTION": "pgsql",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": port,
        "DB_DATABASE": "multiflexi",
        "DB_USERNAME": "multiflexi",
        "DB_PASSWORD": "o",
    }
    line = assert_one_line_error(run("check", env=env, data_dir=tmp_path), "DB_HOST/DB_PORT")
    assert line == (
        "multiflexi-database: error: DB_HOST/DB_PORT: cannot reach the database server at "
        f'127.0.0.1:{port}: connection failed: connection to server at "127.0.0.1", '
        f"port {port} failed: Connection refused"
    )
