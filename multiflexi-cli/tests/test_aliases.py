"""The original's spellings keep working: noun:verb, legacy nouns, underscore options."""

import json

import pytest

from multiflexi.cli.main import normalise_argv
from multiflexi.core import companies, runtemplates


@pytest.mark.parametrize(
    ("original", "ours"),
    [
        (["run-template:schedule", "--id", "5"], ["run-template", "schedule", "--id", "5"]),
        (
            ["company-app:assign", "--company_id", "1"],
            ["company-app", "assign", "--company-id", "1"],
        ),
        (["runtemplate:list"], ["run-template", "list"]),
        (["crprototype:list"], ["credential-prototype", "list"]),
        (["company:list", "--format", "json"], ["--format", "json", "company", "list"]),
        (["job:list", "-f", "json"], ["--format", "json", "job", "list"]),
        (["job", "tail", "--id", "3", "-f"], ["job", "tail", "--id", "3", "-f"]),
        (["company:list", "--format=json"], ["--format=json", "company", "list"]),
        (["user:list", "--environment", "/x.env"], ["--env-file", "/x.env", "user", "list"]),
        (["company", "create", "--name", "a_b:c"], ["company", "create", "--name", "a_b:c"]),
        (["company", "get", "--", "--x_y"], ["company", "get", "--", "--x_y"]),
        # an option's value is passed through untouched, whatever it looks like
        (
            ["application", "create", "--cmdparams", "--log_level {X}", "--app_version", "1"],
            ["application", "create", "--cmdparams", "--log_level {X}", "--app_version", "1"],
        ),
        (
            ["company-env:set", "--company_id", "1", "--value", "--my_secret_value"],
            ["company-env", "set", "--company-id", "1", "--value", "--my_secret_value"],
        ),
        (["company-env", "set", "--value=--a_b"], ["company-env", "set", "--value=--a_b"]),
        (["company:list", "--format", "--x_y"], ["--format", "--x_y", "company", "list"]),
        # a word that is no option of the command is left as it is (click reports it)
        (["company", "get", "--no_such_thing"], ["company", "get", "--no_such_thing"]),
        (["no-such-family", "--company_id", "1"], ["no-such-family", "--company_id", "1"]),
        (["job", "tail", "--id", "3", "-f", "json"], ["job", "tail", "--id", "3", "-f", "json"]),
    ],
)
def test_argv_rewriting(original, ours):
    assert normalise_argv(original) == ours


def test_colon_spelling_and_underscore_options_run_the_command(cli, session, actor):
    company = companies.create(session, name="Acme", actor=actor)
    data = cli.json("company:get", "--id", str(company.id))
    assert data["slug"] == "acme"
    # options after the command, in the original's style
    result = cli("company:list", "--format", "json")
    assert result.exit_code == 0
    assert '"acme"' in result.stdout


def test_company_app_assign_with_the_originals_options(cli, session, actor, fixtures):
    app_id = cli.json("application", "import-json", "--file", str(fixtures["sleep"]))[
        "application_id"
    ]
    company = companies.create(session, name="Acme", actor=actor)
    result = cli(
        "company-app:assign",
        "--company_id",
        str(company.id),
        "--app_id",
        str(app_id),
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    rt_id = json.loads(result.stdout)["runtemplate_id"]
    assert runtemplates.get(session, rt_id).application_id == app_id


def test_legacy_text_format_name_means_table(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    result = cli("company:list", "--format", "text")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("id")


def test_an_option_value_that_looks_like_an_option_is_stored_as_given(cli, session, actor):
    created = cli.json(
        "application",
        "create",
        "--name",
        "dashy",
        "--executable",
        "prog",
        "--cmdparams",
        "--log_level {X}",
    )
    got = cli.json("application", "get", "--id", str(created["application_id"]))
    assert got["cmdparams"] == "--log_level {X}"
    company = companies.create(session, name="Acme", actor=actor)
    cli.json(
        "company-env:set",
        "--company_id",
        str(company.id),
        "--name",
        "P2",
        "--value",
        "--my_secret_value",
    )
    listed = cli.json("company-env", "list", "--company-id", str(company.id))
    assert listed == [{"name": "P2", "value": "--my_secret_value", "secret": False}]


def test_an_unknown_underscore_option_is_reported_as_given(cli):
    result = cli("company", "get", "--no_such_thing")
    assert result.exit_code == 2
    assert "--no_such_thing" in result.stderr


def test_run_template_commands_take_the_advertised_runtemplate_id(live_cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    # the root help's example: run-template:schedule --runtemplate_id 5
    help_text = live_cli("--help").stdout
    assert "run-template:schedule --runtemplate_id" in help_text
    scheduled = live_cli.json("run-template:schedule", "--runtemplate_id", rt)
    assert scheduled["runtemplate_id"] == sleep_rt["rt_id"]
    assert live_cli.json("run-template", "get", "--runtemplate-id", rt)["id"] == sleep_rt["rt_id"]
    preview = live_cli("run-template", "preview", "--runtemplate-id", rt)
    assert preview.exit_code == 0, preview.stderr


def test_every_run_template_command_about_one_takes_runtemplate_id():
    from click.testing import CliRunner

    from multiflexi.cli.main import main

    data = json.loads(CliRunner().invoke(main, ["describe"]).stdout)
    for name, command in data["commands"].items():
        names = [n for p in command["parameters"] for n in p.get("names", [])]
        if name.startswith("run-template ") and "--id" in names:
            assert "--runtemplate-id" in names, name


def test_audit_list_takes_the_company_by_slug_like_every_command(cli, session, actor):
    company = companies.create(session, name="Acme", actor=actor)
    companies.create(session, name="Other", actor=actor)
    by_slug = cli.json("audit", "list", "--company", "acme")
    by_id = cli.json("audit", "list", "--company-id", str(company.id))
    assert [e["company_id"] for e in by_slug] == [company.id]
    assert by_slug == by_id
    assert cli("audit", "list", "--company", "nobody").exit_code == 3


def test_credential_type_create_takes_the_originals_class(cli, sleep_rt, fixtures):
    cli.json("credential-prototype", "import-json", "--file", str(fixtures["prototype"]))
    created = cli.json(
        "credential-type:create",
        "--company_id",
        str(sleep_rt["company_id"]),
        "--name",
        "probe",
        "--class",
        "Probe",
    )
    got = cli.json("credential-type", "get", "--id", str(created["credential_type_id"]))
    assert got["prototype_code"] == "Probe"


@pytest.mark.parametrize("option", ["--plaintext", "--password"])
def test_user_create_takes_a_password_on_the_command_line_with_a_warning(cli, session, option):
    from multiflexi.core import users

    secret = "pw-on-the-line-0815"
    result = cli("--format", "json", "user:create", "--login", "ops", option, secret)
    assert result.exit_code == 0, result.stderr
    assert "warning: a password on the command line is visible" in result.stderr
    assert "--ask-password" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert users.authenticate(session, "ops", secret, address="192.0.2.10").login == "ops"
    changed = cli("user", "update", "--login", "ops", option, secret + "-new")
    assert changed.exit_code == 0, changed.stderr
    session.expire_all()
    assert users.authenticate(session, "ops", secret + "-new", address="192.0.2.10").login == "ops"


def test_a_password_hash_is_refused_as_a_password(cli, session):
    bcrypt = "$2y$10$abcdefghijklmnopqrstuuN5bq3s1oF2G4k7x0t8vQwK1Zb9m2Lq"
    result = cli("user", "create", "--login", "ops", "--password", bcrypt)
    assert result.exit_code == 2
    assert "not a hash" in result.stderr
    assert bcrypt not in result.stderr
    both = cli("user", "create", "--login", "ops", "--password", "x" * 12, "--ask-password")
    assert both.exit_code == 2


@pytest.mark.parametrize("where", ["before", "after"])
def test_the_originals_short_e_names_the_env_file(cli, tmp_path, where):
    import multiflexi.database as database

    other = tmp_path / "other.sqlite"
    database.upgrade(f"sqlite:///{other}")
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{other}\n")
    del cli.env["DATABASE_URL"]
    cli.json("-e", str(env_file), "company", "create", "--name", "Elsewhere")
    args = (
        ["-e", str(env_file), "company", "list"]
        if where == "before"
        else ["company:list", "-e", str(env_file)]
    )
    assert [c["name"] for c in cli.json(*args)] == ["Elsewhere"]
