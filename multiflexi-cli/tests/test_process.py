"""The installed ``multiflexi-cli`` run as a real process: exit codes, streams, JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _executable() -> str:
    beside = Path(sys.executable).with_name("multiflexi-cli")
    found = str(beside) if beside.exists() else shutil.which("multiflexi-cli")
    if found is None:
        pytest.fail("multiflexi-cli is not installed in this environment")
    return found


def run(env, *args, input=None):
    return subprocess.run(
        [_executable(), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        check=False,
    )


def test_version(env):
    done = run(env, "--version")
    assert done.returncode == 0
    assert done.stdout.startswith("multiflexi-cli ")
    assert done.stderr == ""


def test_create_and_list_as_json_on_stdout_only(env):
    created = run(env, "--format", "json", "company", "create", "--name", "Proc Co")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["company_id"] == 1
    listed = run(env, "company:list", "--format", "json")
    assert listed.returncode == 0
    assert [c["slug"] for c in json.loads(listed.stdout)] == ["proc_co"]
    assert listed.stderr == ""


def test_not_found_exit_3_error_on_stderr_only(env):
    done = run(env, "--format", "json", "job", "get", "--id", "99")
    assert done.returncode == 3
    assert done.stdout == ""
    assert json.loads(done.stderr)["kind"] == "not_found"


def test_usage_error_exit_2(env):
    done = run(env, "company", "create")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Missing option '--name'" in done.stderr


def test_missing_setting_one_line_exit_1_no_traceback(env):
    broken = {**env, "DATABASE_URL": "", "DB_CONNECTION": "sybase"}
    done = run(broken, "company", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "DB_CONNECTION" in done.stderr


def test_bad_manifest_file_no_traceback(env, tmp_path):
    bad = tmp_path / "bad.app.json"
    bad.write_text("[1, 2]")
    done = run(env, "application", "import-json", "--file", str(bad))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "must be a JSON object" in done.stderr


def test_table_output_goes_to_a_pipe_as_plain_text(env):
    run(env, "company", "create", "--name", "Piped")
    done = run(env, "company", "list")
    assert done.returncode == 0
    assert done.stdout.splitlines()[0].split()[:2] == ["id", "slug"]
    assert "\x1b[" not in done.stdout


def test_completion_through_the_environment_variable(env):
    done = run(
        {**env, "_MULTIFLEXI_CLI_COMPLETE": "bash_source"},
    )
    assert done.returncode == 0
    assert "_multiflexi_cli_completion" in done.stdout


def run_without_terminal(env, *args, input=None):
    """Like run, in a new session: no controlling terminal, as under cron or a CI runner."""
    return subprocess.run(
        [_executable(), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        check=False,
        start_new_session=True,
    )


@pytest.fixture
def company_with_a_credential_type(env, fixtures):
    assert run(env, "encryption", "init").returncode == 0
    assert run(env, "company", "create", "--name", "Piped").returncode == 0
    prototype = run(
        env, "credential-prototype", "import-json", "--file", str(fixtures["prototype"])
    )
    assert prototype.returncode == 0, prototype.stderr
    created = run(
        env,
        "--format",
        "json",
        "credential-type",
        "create",
        "--company-id",
        "piped",
        "--name",
        "probe",
        "--prototype",
        "Probe",
    )
    assert created.returncode == 0, created.stderr
    return json.loads(created.stdout)["credential_type_id"]


def test_a_secret_read_from_a_piped_stdin_gives_no_getpass_warning(
    env, company_with_a_credential_type, session, actor
):
    from multiflexi.core import companies, credentials

    done = run_without_terminal(
        env,
        "company-env",
        "set",
        "--company-id",
        "piped",
        "--name",
        "TOKEN",
        "--secret",
        input="piped-s3cret\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert companies.variable_values(session, "piped")["TOKEN"] == ("piped-s3cret", True)
    done = run_without_terminal(
        env,
        "--format",
        "json",
        "credential",
        "create",
        "--company-id",
        "piped",
        "--credential-type-id",
        str(company_with_a_credential_type),
        "--name",
        "main",
        "--field",
        "PROBE_ENDPOINT=https://probe.example",
        input="k-piped-123\n",
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "getpass" not in done.stderr
    assert done.stderr == ""
    credential_id = json.loads(done.stdout)["credential_id"]
    revealed = credentials.reveal(session, credential_id, actor=actor)
    assert revealed["PROBE_API_KEY"] == "k-piped-123"


def test_an_empty_piped_stdin_for_a_secret_is_one_line_exit_2(env, company_with_a_credential_type):
    done = run_without_terminal(
        env,
        "company-env",
        "set",
        "--company-id",
        "piped",
        "--name",
        "TOKEN",
        "--secret",
        input="",
    )
    assert done.returncode == 2
    assert "Value of TOKEN: no value" in done.stderr
    assert "Traceback" not in done.stderr and "getpass" not in done.stderr
