"""Settings: env files, their precedence, and the database URL they choose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import make_url

from multiflexi.database import (
    SettingError,
    data_dir,
    database_settings,
    database_url,
    load_environ,
    mask_url,
    read_env_file,
)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- env files ---------------------------------------------------------------------------


def test_env_file_lines_comments_quotes_and_export(tmp_path: Path):
    env = write(
        tmp_path / "multiflexi.env",
        "# MultiFlexi settings\n"
        "\n"
        "DB_CONNECTION=pgsql\n"
        "export DB_HOST = db.example.com\n"
        "DB_PASSWORD='s3cr#t with spaces'\n"
        'DB_USERNAME="multi\\"flexi"\n'
        "EMPTY=\n"
        "URL=http://x/?a=b#frag\n"
        "   # indented comment\n",
    )
    assert read_env_file(env) == {
        "DB_CONNECTION": "pgsql",
        "DB_HOST": "db.example.com",
        "DB_PASSWORD": "s3cr#t with spaces",
        "DB_USERNAME": 'multi"flexi',
        "EMPTY": "",
        "URL": "http://x/?a=b#frag",
    }


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("just words", "expected a KEY=value line"),
        ("1ABC=x", "expected a KEY=value line"),
        ("KEY='unterminated", "does not close"),
    ],
)
def test_a_malformed_env_file_line_is_named(tmp_path: Path, line: str, problem: str):
    env = write(tmp_path / "bad.env", f"GOOD=1\n{line}\n")
    with pytest.raises(SettingError) as error:
        read_env_file(env)
    assert error.value.variable == f"{env}:2"
    assert problem in str(error.value)
    assert "\n" not in str(error.value)


def test_the_process_environment_wins_over_the_env_file(tmp_path: Path):
    env = write(tmp_path / "a.env", "DB_HOST=from-file\nDB_DATABASE=multiflexi\n")
    merged = load_environ(env, {"DB_HOST": "from-environment"}, default_env_file=None)
    assert merged["DB_HOST"] == "from-environment"
    assert merged["DB_DATABASE"] == "multiflexi"


def test_an_explicit_env_file_wins_over_multiflexi_env_file_and_the_default(tmp_path: Path):
    explicit = write(tmp_path / "explicit.env", "SOURCE=explicit\n")
    named = write(tmp_path / "named.env", "SOURCE=named\n")
    default = write(tmp_path / "default.env", "SOURCE=default\n")
    environ = {"MULTIFLEXI_ENV_FILE": str(named)}

    assert load_environ(explicit, environ, default_env_file=default)["SOURCE"] == "explicit"
    assert load_environ(None, environ, default_env_file=default)["SOURCE"] == "named"
    assert load_environ(None, {}, default_env_file=default)["SOURCE"] == "default"
    assert "SOURCE" not in load_environ(None, {}, default_env_file=tmp_path / "absent.env")


def test_a_missing_named_env_file_is_an_error_naming_the_setting(tmp_path: Path):
    missing = tmp_path / "missing.env"
    with pytest.raises(SettingError) as error:
        load_environ(None, {"MULTIFLEXI_ENV_FILE": str(missing)}, default_env_file=None)
    assert error.value.variable == "MULTIFLEXI_ENV_FILE"
    assert str(error.value) == f"MULTIFLEXI_ENV_FILE: {missing}: env file not found"

    with pytest.raises(SettingError) as error:
        load_environ(missing, {}, default_env_file=None)
    assert error.value.variable == "--env-file"


# -- the database URL --------------------------------------------------------------------


def test_without_settings_the_database_is_an_sqlite_file_in_the_data_dir(tmp_path: Path):
    settings = database_settings({"MULTIFLEXI_DATA_DIR": str(tmp_path / "data")})
    assert settings.origin == "default"
    assert settings.url == f"sqlite:///{tmp_path / 'data' / 'multiflexi.sqlite'}"


def test_the_data_dir_default_depends_on_the_user(tmp_path: Path):
    if os.geteuid() == 0:
        assert data_dir({}) == Path("/var/lib/multiflexi")
    else:
        assert data_dir({"HOME": str(tmp_path)}) == tmp_path / ".local/share/multiflexi"
        assert data_dir({"XDG_DATA_HOME": "/xdg"}) == Path("/xdg/multiflexi")
    assert data_dir({"MULTIFLEXI_DATA_DIR": str(tmp_path)}) == tmp_path


def test_database_url_wins_over_the_db_variables():
    environ = {
        "DATABASE_URL": "postgresql://u:p@db1/multiflexi",
        "DB_CONNECTION": "mysql",
        "DB_HOST": "db2",
        "DB_DATABASE": "other",
    }
    settings = database_settings(environ)
    assert settings.origin == "DATABASE_URL"
    assert settings.url == "postgresql+psycopg://u:p@db1/multiflexi"


@pytest.mark.parametrize(
    ("connection", "driver"),
    [
        ("pgsql", "postgresql+psycopg"),
        ("postgresql", "postgresql+psycopg"),
        ("postgres", "postgresql+psycopg"),
        ("mysql", "mysql+pymysql"),
        ("mariadb", "mysql+pymysql"),
        ("PGSQL", "postgresql+psycopg"),
    ],
)
def test_db_connection_names_of_the_original_map_to_drivers(connection: str, driver: str):
    url = make_url(
        database_url(
            {
                "DB_CONNECTION": connection,
                "DB_HOST": "db.example.com",
                "DB_PORT": "6000",
                "DB_DATABASE": "multiflexi",
                "DB_USERNAME": "mf",
                "DB_PASSWORD": "p@ss:w/rd%&?#",
            }
        )
    )
    assert url.drivername == driver
    assert (url.host, url.port, url.database, url.username) == (
        "db.example.com",
        6000,
        "multiflexi",
        "mf",
    )
    assert url.password == "p@ss:w/rd%&?#"


def test_mysql_urls_use_utf8mb4():
    assert make_url(database_url({"DATABASE_URL": "mysql://u@h/db"})).query["charset"] == "utf8mb4"
    url = make_url(database_url({"DB_CONNECTION": "mysql", "DB_DATABASE": "db"}))
    assert url.query["charset"] == "utf8mb4"
    assert url.host == "localhost"


def test_sqlite_db_database_is_relative_to_the_data_dir(tmp_path: Path):
    environ = {"DB_CONNECTION": "sqlite", "MULTIFLEXI_DATA_DIR": str(tmp_path)}
    assert database_url({**environ, "DB_DATABASE": "mf.db"}) == f"sqlite:///{tmp_path}/mf.db"
    assert database_url({**environ, "DB_DATABASE": "/srv/mf.db"}) == "sqlite:////srv/mf.db"
    assert database_url(environ) == f"sqlite:///{tmp_path}/multiflexi.sqlite"


def test_a_postgresql_socket_directory_as_db_host():
    url = make_url(
        database_url({"DB_CONNECTION": "pgsql", "DB_HOST": "/run/pg", "DB_DATABASE": "m"})
    )
    assert url.host is None
    assert url.query["host"] == "/run/pg"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"DB_CONNECTION": "oracle"}, "DB_CONNECTION"),
        ({"DB_HOST": "db", "DB_DATABASE": "x"}, "DB_CONNECTION"),
        ({"DB_CONNECTION": "pgsql"}, "DB_DATABASE"),
        ({"DB_CONNECTION": "pgsql", "DB_DATABASE": "x", "DB_PORT": "54x32"}, "DB_PORT"),
        ({"DB_CONNECTION": "mysql", "DB_DATABASE": "x", "DB_PORT": "70000"}, "DB_PORT"),
        ({"DATABASE_URL": "no scheme at all"}, "DATABASE_URL"),
        ({"DATABASE_URL": "oracle+nosuchdriver://u:secret@h/db"}, "DATABASE_URL"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_the_variable(environ: dict[str, str], variable: str):
    with pytest.raises(SettingError) as error:
        database_settings(environ)
    assert error.value.variable == variable
    message = str(error.value)
    assert message.startswith(f"{variable}: ")
    assert "\n" not in message
    assert "secret" not in message


def test_urls_are_shown_with_the_password_masked():
    settings = database_settings({"DATABASE_URL": "postgresql://mf:hunter2@db/multiflexi"})
    assert "hunter2" in settings.url  # the URL itself must work...
    assert "hunter2" not in settings.masked_url  # ...but is never shown
    assert "hunter2" not in repr(settings)
    assert mask_url("mysql+pymysql://mf:hunter2@db/x") == "mysql+pymysql://mf:***@db/x"
