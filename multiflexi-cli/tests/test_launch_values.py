"""One-time launch values: they fill required fields, and stay out of sight.

The Sleep application gains two required fields (a newer manifest, imported over
the old one) that its run template has no value for; the launch gives them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from multiflexi.core import config, jobenv, jobs, models, runtemplates
from multiflexi.core.testing import count, database_bytes

TOKEN = "tok-4f9a-one-time-SECRET"
PASSWORD = "pw-77c1-from-stdin-SECRET"


@pytest.fixture
def needs_token(cli, sleep_rt, tmp_path: Path, fixtures) -> dict[str, int]:
    """The Sleep application now requires API_TOKEN (a password) and ERP_USER."""
    manifest = json.loads(fixtures["sleep"].read_text())
    manifest["environment"]["API_TOKEN"] = {"type": "password", "required": True}
    manifest["environment"]["ERP_USER"] = {"type": "string", "required": True}
    newer = tmp_path / "sleep-2.multiflexi.app.json"
    newer.write_text(json.dumps(manifest))
    result = cli("application", "import-json", "--file", str(newer))
    assert result.exit_code == 0, result.stderr
    return sleep_rt


def _engine_of(env: dict[str, str]):
    settings = config.load_settings(environ=env, env_file=os.devnull)
    return config.create_engine(settings.database_url)


def test_a_launch_lacking_required_values_names_every_one(cli, session, needs_token):
    rt = str(needs_token["rt_id"])
    result = cli("run-template", "schedule", "--id", rt)
    assert result.exit_code == 1
    assert "API_TOKEN: required" in result.stderr and "ERP_USER: required" in result.stderr
    result = cli("--format", "json", "run-template", "schedule", "--id", rt, "--env", "ERP_USER=u")
    error = json.loads(result.stderr)
    assert (error["kind"], error["missing"]) == ("validation", ["API_TOKEN"])
    assert error["errors"] == ["API_TOKEN: required"]
    assert count(session, models.Job) == 0


def test_env_values_fill_required_fields_for_that_job_only(cli, session, needs_token):
    rt_id = needs_token["rt_id"]
    answer = cli.json(
        "run-template",
        "schedule",
        "--id",
        str(rt_id),
        "--env",
        f"API_TOKEN={TOKEN}",
        "--env",
        "ERP_USER=clerk",
        "--at",
        "+1h",
    )
    job = jobs.get(session, answer["job_id"])
    environment = jobenv.assemble(session, runtemplates.get(session, rt_id), job=job)
    assert environment.as_dict()["API_TOKEN"] == TOKEN
    assert environment.as_dict()["ERP_USER"] == "clerk"
    # the run template itself still lacks them
    assert jobenv.missing_required(session, runtemplates.get(session, rt_id)) == [
        "API_TOKEN",
        "ERP_USER",
    ]


def test_env_help_says_the_value_shows_in_the_process_list(cli):
    result = cli("run-template", "schedule", "--help")
    text = " ".join(result.stdout.split())
    assert "visible in the process list (ps)" in text
    assert "--env-file" in text and "--secret-stdin" in text


def test_values_from_a_file_and_from_stdin_reach_the_job_and_nowhere_else(
    cli, env, session, needs_token, tmp_path: Path
):
    rt_id = needs_token["rt_id"]
    values = tmp_path / "launch.env"
    values.write_text(f"# one-time values\nERP_USER=clerk\nAPI_TOKEN='{TOKEN}'\n")
    shown = []
    result = cli(
        "--format",
        "json",
        "run-template",
        "schedule",
        "--id",
        str(rt_id),
        "--env-file",
        str(values),
        "--secret-stdin",
        "ERP_PASSWORD",
        "--at",
        "+1h",
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.stderr
    shown.append(result.stdout + result.stderr)
    job_id = json.loads(result.stdout)["job_id"]
    job = jobs.get(session, job_id)
    assert jobenv.overrides_of(session, job) == (
        {"ERP_USER": "clerk", "API_TOKEN": TOKEN, "ERP_PASSWORD": PASSWORD},
        {"ERP_PASSWORD"},
    )
    environment = jobenv.assemble(session, runtemplates.get(session, rt_id), job=job)
    assert environment.as_dict()["ERP_PASSWORD"] == PASSWORD
    # both are secrets of the job: masked in its output, redacted in its record
    assert {TOKEN, PASSWORD} <= set(environment.secrets())
    for command in (("job", "get", "--id", str(job_id)), ("job", "list")):
        result = cli("--format", "json", *command)
        assert result.exit_code == 0, result.stderr
        shown.append(result.stdout + result.stderr)
    for text in shown:
        assert TOKEN not in text and PASSWORD not in text
    stored = database_bytes(_engine_of(env))
    assert TOKEN.encode() not in stored and PASSWORD.encode() not in stored


def test_a_value_given_twice_or_an_empty_stdin_is_refused_and_launches_nothing(
    cli, session, needs_token, tmp_path: Path
):
    rt = str(needs_token["rt_id"])
    result = cli(
        "run-template", "schedule", "--id", rt, "--env", "X=1", "--secret-stdin", "X", input="v"
    )
    assert result.exit_code == 2
    assert "--secret-stdin X: also given by --env or --env-file" in result.stderr
    result = cli("run-template", "schedule", "--id", rt, "--secret-stdin", "API_TOKEN", input="")
    assert result.exit_code == 2
    assert "stdin gave no value" in result.stderr
    broken = tmp_path / "broken.env"
    broken.write_text("API_TOKEN=ok\nnot a pair\n")
    result = cli("run-template", "schedule", "--id", rt, "--env-file", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:2" in result.stderr and "KEY=value" in result.stderr
    assert "ok" not in result.stderr.replace("broken", "")
    assert count(session, models.Job) == 0
