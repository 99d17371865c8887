"""Output formats, the streams data and errors go to, and the exit codes."""

import json

import yaml

from multiflexi.core import companies, models
from multiflexi.core.testing import count


def test_json_lists_have_the_documented_keys(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    data = cli.json("company", "list")
    assert [c["slug"] for c in data] == ["acme"]
    assert list(data[0]) == [
        "id",
        "name",
        "slug",
        "ic",
        "email",
        "enabled",
        "created_at",
        "updated_at",
    ]


def test_creating_answers_with_the_originals_key(cli, session, actor):
    data = cli.json("company", "create", "--name", "Beta Ltd")
    assert data["company_id"] == companies.get(session, "beta_ltd").id


def test_yaml_is_the_same_data(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    result = cli("--format", "yaml", "company", "list")
    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)[0]["slug"] == "acme"


def test_format_comes_from_the_environment(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    cli.env["MULTIFLEXI_FORMAT"] = "json"
    result = cli("company", "list")
    assert json.loads(result.stdout)[0]["slug"] == "acme"


def test_a_table_off_a_terminal_is_plain_text_with_a_header(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    result = cli("company", "list")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["id", "slug", "name", "ic", "email", "enabled"]
    assert lines[1].split()[:3] == ["1", "acme", "Acme"]
    assert "\x1b[" not in result.stdout  # no colours into a pipe


def test_not_found_is_exit_3_with_one_line_on_stderr(cli):
    result = cli("company", "get", "--id", "42")
    assert result.exit_code == 3
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["Error: company 42 not found"]


def test_in_json_mode_an_error_is_a_json_object_on_stderr(cli):
    result = cli("--format", "json", "run-template", "get", "--id", "7")
    assert result.exit_code == 3
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["status"] == "error"
    assert error["kind"] == "not_found"
    assert error["exit_code"] == 3
    assert "run template 7" in error["message"]


def test_a_usage_error_is_exit_2_and_json_in_json_mode(cli):
    result = cli("--format", "json", "company", "get", "--bogus")
    assert result.exit_code == 2
    assert json.loads(result.stderr)["kind"] == "usage"


def test_an_unknown_command_is_a_usage_error(cli):
    result = cli("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.stderr


def test_a_validation_error_is_exit_1_and_changes_nothing(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    result = cli("--format", "json", "company", "create", "--name", "Other", "--slug", "acme")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["kind"] == "conflict"
    assert count(session, models.Company) == 1


def test_bad_email_lists_the_violation(cli, session, actor):
    result = cli("--format", "json", "company", "create", "--name", "X", "--email", "nope")
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["kind"] == "validation"
    assert any("email" in line for line in error["errors"])
    assert count(session, models.Company) == 0


def test_audit_list_shows_who_did_what_through_the_cli(cli):
    company_id = cli.json("company", "create", "--name", "Audited")["company_id"]
    entries = cli.json("audit", "list", "--entity-type", "company")
    assert [(e["action"], e["entity_id"]) for e in entries] == [("create", str(company_id))]
    assert entries[0]["actor"].startswith("cli:")
    assert entries[0]["source"] == "cli"


def test_a_bad_time_names_the_option_that_was_given(cli):
    result = cli("audit", "list", "--since", "garbage")
    assert result.exit_code == 2
    assert "'--since'" in result.stderr
    assert "--at" not in result.stderr
    assert "garbage" in result.stderr
    as_json = cli("--format", "json", "audit", "list", "--since", "garbage")
    error = json.loads(as_json.stderr)
    assert (error["kind"], error["exit_code"]) == ("usage", 2)
    assert "'--since'" in error["message"]


def test_a_bad_schedule_time_names_the_originals_option_too(cli, sleep_rt):
    result = cli("run-template:schedule", "--id", str(sleep_rt["rt_id"]), "--schedule_time", "x")
    assert result.exit_code == 2
    assert "'--schedule-time'" in result.stderr
