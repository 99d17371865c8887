"""Which database the CLI works on, and what a wrong setting looks like (one line, exit 1)."""

import json

import pytest

import multiflexi.database as database


def _one_error_line(result):
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_env_file_selects_the_database(cli, tmp_path):
    other = tmp_path / "other.sqlite"
    database.upgrade(f"sqlite:///{other}")
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{other}\n")
    del cli.env["DATABASE_URL"]
    assert cli.json("--env-file", str(env_file), "company", "create", "--name", "Elsewhere")
    names = [c["name"] for c in cli.json("--env-file", str(env_file), "company", "list")]
    assert names == ["Elsewhere"]
    # the default database (the data directory's file) did not get it
    cli.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"
    assert cli.json("company", "list") == []


def test_the_environment_wins_over_the_env_file(cli, tmp_path):
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text("DATABASE_URL=sqlite:////nonexistent/dir/x.sqlite\n")
    assert cli.json("--env-file", str(env_file), "company", "list") == []


def test_a_missing_env_file_is_one_line(cli, tmp_path):
    result = cli("--env-file", str(tmp_path / "missing.env"), "company", "list")
    assert result.exit_code == 1
    assert _one_error_line(result).startswith("Error: --env-file")


def test_an_unknown_db_connection_is_one_line_naming_the_variable(cli):
    del cli.env["DATABASE_URL"]
    cli.env["DB_CONNECTION"] = "oracle"
    result = cli("company", "list")
    assert result.exit_code == 1
    assert "DB_CONNECTION" in _one_error_line(result)


def test_a_server_database_without_a_name_is_one_line(cli):
    del cli.env["DATABASE_URL"]
    cli.env.update({"DB_CONNECTION": "mysql", "DB_DATABASE": ""})
    result = cli("--format", "json", "company", "list")
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["kind"] == "configuration"
    assert error["message"].startswith("DB_DATABASE")


def test_an_unmigrated_database_says_what_to_run(cli, tmp_path):
    cli.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = cli("company", "list")
    assert result.exit_code == 1
    assert "upgrade" in _one_error_line(result)


def test_an_unreachable_database_server_is_one_line(cli):
    cli.env["DATABASE_URL"] = "postgresql://mf:secret-pw@127.0.0.1:1/mf"
    result = cli("company", "list")
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "secret-pw" not in result.stderr
    assert line.startswith("Error: DATABASE_URL: ")


def test_a_bad_timezone_setting_is_one_line(cli):
    cli.env["MULTIFLEXI_TIMEZONE"] = "Mars/Olympus"
    result = cli("company", "list")
    assert result.exit_code == 1
    assert "MULTIFLEXI_TIMEZONE" in _one_error_line(result)


@pytest.mark.parametrize("command", [["db", "current"], ["db", "check"]])
def test_db_commands_work_on_an_unmigrated_database(cli, tmp_path, command):
    cli.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    result = cli("--format", "json", *command)
    if command[1] == "current":
        assert result.exit_code == 0
        assert json.loads(result.stdout)["current"] is None
    else:
        assert result.exit_code == 1
        assert json.loads(result.stdout)["state"] == "empty"


def test_db_upgrade_then_check(cli, tmp_path):
    cli.env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    upgraded = cli.json("db", "upgrade")
    assert upgraded["before"] is None
    assert upgraded["after"] == database.head()
    assert cli.json("db", "check")["state"] == "current"
    assert cli.json("company", "list") == []
