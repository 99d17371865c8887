"""The original's lookups: company get --ic/--name, user get --email, company-app list."""

from __future__ import annotations

import json

import pytest

from multiflexi.core import companies, users

COMPANY_KEYS = {"id", "name", "slug", "ic", "email", "enabled", "created_at", "updated_at"}
ASSIGNMENT_KEYS = {
    "company_id",
    "company_name",
    "company_slug",
    "app_id",
    "app_name",
    "app_uuid",
    "assigned_at",
}


def _no_traceback(result):
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


# -- company get --ic / --name ------------------------------------------------------------


def test_company_get_by_ic(cli, session, actor):
    acme = companies.create(session, name="Acme s.r.o.", ic="12345678", actor=actor)
    companies.create(session, name="Other", ic="87654321", actor=actor)
    found = cli.json("company", "get", "--ic", "12345678")
    assert set(found) == COMPANY_KEYS
    assert (found["id"], found["ic"]) == (acme.id, "12345678")


def test_company_get_by_exact_name_in_the_originals_spelling(cli, session, actor):
    acme = companies.create(session, name="Acme s.r.o.", actor=actor)
    companies.create(session, name="acme s.r.o.", slug="acme-lower", actor=actor)
    assert cli.json("company:get", "--name", "Acme s.r.o.")["id"] == acme.id


@pytest.mark.parametrize("option", ["--ic", "--name"])
def test_company_get_of_an_unknown_key_is_exit_3(cli, session, actor, option):
    companies.create(session, name="Acme", ic="12345678", actor=actor)
    result = cli("--format", "json", "company", "get", option, "nothing")
    assert result.exit_code == 3
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["kind"] == "not_found"
    assert "'nothing' not found" in error["message"]


def test_company_get_of_a_shared_ic_is_exit_1_listing_the_ids(cli, session, actor):
    first = companies.create(session, name="Acme", ic="12345678", actor=actor)
    second = companies.create(session, name="Acme again", ic="12345678", actor=actor)
    result = cli("company", "get", "--ic", "12345678")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        f"Error: company with IC '12345678' is not unique: ids {first.id}, {second.id} match;"
        " choose one by id"
    )
    _no_traceback(result)


def test_company_get_of_a_shared_name_is_a_json_error_in_json_mode(cli, session, actor):
    first = companies.create(session, name="Acme", slug="acme1", actor=actor)
    second = companies.create(session, name="Acme", slug="acme2", actor=actor)
    result = cli("--format", "json", "company", "get", "--name", "Acme")
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["kind"] == "ambiguous"
    assert error["exit_code"] == 1
    assert f"ids {first.id}, {second.id}" in error["message"]


@pytest.mark.parametrize(
    "args",
    [[], ["--id", "1", "--slug", "acme"], ["--ic", "12345678", "--name", "Acme"], ["--ic", ""]],
)
def test_company_get_takes_exactly_one_key(cli, session, actor, args):
    companies.create(session, name="Acme", ic="12345678", actor=actor)
    result = cli("company", "get", *args)
    assert result.exit_code == 2
    assert "give one of --id, --slug, --ic or --name" in result.stderr


def test_company_get_by_id_and_slug_still_work(cli, session, actor):
    acme = companies.create(session, name="Acme", actor=actor)
    assert cli.json("company", "get", "--id", str(acme.id))["slug"] == "acme"
    assert cli.json("company", "get", "--slug", "acme")["id"] == acme.id


# -- user get --email ---------------------------------------------------------------------


def test_user_get_by_email_ignores_letter_case(cli, session, actor):
    alice = users.create(session, "alice", actor=actor, email="Alice@Example.com")
    users.create(session, "bob", actor=actor, email="bob@example.com")
    found = cli.json("user", "get", "--email", "alice@example.com")
    assert (found["id"], found["login"]) == (alice.id, "alice")
    assert "password_hash" not in found


def test_user_get_of_an_unknown_email_is_exit_3(cli, session, actor):
    users.create(session, "alice", actor=actor, email="alice@example.com")
    result = cli("--format", "json", "user", "get", "--email", "carol@example.com")
    assert result.exit_code == 3
    assert json.loads(result.stderr)["message"] == (
        "user with e-mail 'carol@example.com' not found"
    )


def test_user_get_of_a_shared_email_is_exit_1_listing_the_ids(cli, session, actor):
    first = users.create(session, "alice", actor=actor, email="shared@example.com")
    second = users.create(session, "alice2", actor=actor, email="shared@example.com")
    result = cli("user:get", "--email", "shared@example.com")
    assert result.exit_code == 1
    assert f"ids {first.id}, {second.id} match" in result.stderr
    _no_traceback(result)


@pytest.mark.parametrize(
    "args", [[], ["--id", "1", "--login", "alice"], ["--login", "alice", "--email", "a@b.cz"]]
)
def test_user_get_takes_exactly_one_key(cli, session, actor, args):
    users.create(session, "alice", actor=actor, email="a@b.cz")
    result = cli("user", "get", *args)
    assert result.exit_code == 2
    assert "give one of --id, --login or --email" in result.stderr


# -- company-app list across companies ----------------------------------------------------


@pytest.fixture
def assigned(cli, session, actor, fixtures):
    """Companies beta and alpha (created in that order); beta has two applications."""
    imported = cli.json("application", "import-json", "--file", str(fixtures["apps"]))
    ids = sorted(i["application_id"] for i in imported)
    beta = companies.create(session, name="Beta", actor=actor)
    alpha = companies.create(session, name="Alpha", actor=actor)
    companies.assign_application(session, beta.id, ids[1], actor=actor)
    companies.assign_application(session, alpha.id, ids[0], actor=actor)
    companies.assign_application(session, beta.id, ids[0], actor=actor)
    return {"apps": ids, "alpha": alpha.id, "beta": beta.id}


def _pairs(rows):
    return [(r["company_slug"], r["app_id"]) for r in rows]


def test_company_app_list_without_a_company_lists_every_assignment(cli, assigned):
    first_app, second_app = assigned["apps"][:2]
    rows = cli.json("company-app", "list")
    assert _pairs(rows) == [("beta", first_app), ("beta", second_app), ("alpha", first_app)]
    assert all(set(r) == ASSIGNMENT_KEYS for r in rows)
    assert rows[2]["company_id"] == assigned["alpha"]
    assert rows[2]["company_name"] == "Alpha"
    assert rows[2]["app_uuid"]
    assert rows[2]["app_name"]


def test_company_app_list_across_companies_is_paged(cli, assigned):
    rows = cli.json("company-app", "list", "--limit", "1", "--offset", "1")
    assert _pairs(rows) == [("beta", assigned["apps"][1])]


def test_company_app_list_filters_by_application_in_the_originals_spelling(cli, assigned):
    first_app = assigned["apps"][0]
    rows = cli.json("company-app:list", "--app_id", str(first_app))
    assert _pairs(rows) == [("beta", first_app), ("alpha", first_app)]
    uuid = rows[0]["app_uuid"]
    assert cli.json("company-app", "list", "--app-uuid", uuid) == rows


def test_company_app_list_of_a_company_keeps_the_application_keys(cli, assigned):
    first_app, second_app = assigned["apps"][:2]
    rows = cli.json("company-app", "list", "--company-id", "beta")
    assert [r["id"] for r in rows] == [first_app, second_app]
    assert set(rows[0]) == {
        "id",
        "uuid",
        "name",
        "title",
        "version",
        "executable",
        "enabled",
        "tags",
        "requirements",
    }
    narrowed = cli.json("company-app", "list", "--company-id", "beta", "--app-id", str(second_app))
    assert [r["id"] for r in narrowed] == [second_app]


def test_company_app_list_of_unknown_filters_is_exit_3(cli, assigned):
    assert cli("company-app", "list", "--company-id", "nobody").exit_code == 3
    assert cli("company-app", "list", "--app-id", "999").exit_code == 3


def test_company_app_list_across_companies_as_a_table(cli, assigned):
    result = cli("company-app", "list")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["company_id", "company_slug", "company_name", "app_id", "app_name"]
    assert len(lines) == 4
