"""The original's spellings keep working: noun:verb, legacy nouns, underscore options."""

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
    import json

    rt_id = json.loads(result.stdout)["runtemplate_id"]
    assert runtemplates.get(session, rt_id).application_id == app_id


def test_legacy_text_format_name_means_table(cli, session, actor):
    companies.create(session, name="Acme", actor=actor)
    result = cli("company:list", "--format", "text")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("id")
