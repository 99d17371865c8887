from __future__ import annotations

from ansible_collections.multiflexi.multiflexi.plugins.modules import company


def test_a_new_company_is_created_then_left_alone(run, server):
    first = run(company, slug="acme", name="ACME", ic="12345678")
    assert first["changed"] is True
    assert first["company"]["slug"] == "acme" and first["id"] == 1
    assert server.writes() == [
        ("POST", "/companies", {"slug": "acme", "name": "ACME", "ic": "12345678"})
    ]

    second = run(company, slug="acme", name="ACME", ic="12345678")
    assert second["changed"] is False
    assert len(server.writes()) == 1


def test_a_number_given_as_an_integer_matches_the_stored_text(run, server):
    server.add("/companies", slug="acme", name="ACME", ic="12345678", enabled=True)
    assert run(company, slug="acme", ic=12345678, enabled="yes")["changed"] is False


def test_only_the_changed_option_is_sent(run, server):
    server.add("/companies", slug="acme", name="ACME", ic="1", email="a@acme.example")
    result = run(company, slug="acme", name="ACME", ic="2", diff=True)
    assert result["changed"] is True
    assert server.writes() == [("PATCH", "/companies/1", {"ic": "2"})]
    assert result["diff"] == {"before": {"ic": "1"}, "after": {"ic": "2"}}
    assert result["company"]["ic"] == "2"


def test_check_mode_changes_nothing_and_says_what_would(run, server):
    server.add("/companies", slug="acme", name="ACME", enabled=True)
    result = run(company, slug="acme", enabled=False, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {"before": {"enabled": True}, "after": {"enabled": False}}
    assert result["company"]["enabled"] is False
    assert server.writes() == []
    assert server.store["/companies"][1]["enabled"] is True

    created = run(company, slug="new", name="New", check=True, diff=True)
    assert created["changed"] is True and server.writes() == []
    assert created["diff"]["before"] == {"state": "absent"}
    assert created["diff"]["after"]["slug"] == "new"


def test_absent_deletes_once(run, server):
    server.add("/companies", slug="acme", name="ACME")
    assert run(company, slug="acme", state="absent", check=True)["changed"] is True
    assert server.store.get("/companies")
    assert run(company, slug="acme", state="absent")["changed"] is True
    assert server.writes() == [("DELETE", "/companies/1", None)]
    assert run(company, slug="acme", state="absent")["changed"] is False


def test_the_original_collections_names_are_accepted(run, server):
    server.add("/companies", slug="acme", name="ACME", ic="1")
    result = run(company, company_id=1, code="acme", ic="1")
    assert result["changed"] is False and result["id"] == 1


def test_an_unknown_id_fails_with_a_clear_message(run, server):
    result = run(company, id=42, name="X", expect_failure=True)
    assert "company 42 not found" in result["msg"]


def test_a_name_shared_by_two_companies_is_refused_naming_both(run, server):
    server.add("/companies", slug="a", name="Same")
    server.add("/companies", slug="b", name="Same")
    result = run(company, name="Same", ic="9", expect_failure=True)
    assert result["msg"] == "more than one company matches name=Same: give its id (one of 1, 2)"
    assert server.writes() == []


def test_the_servers_problem_is_the_tasks_message(run, server):
    server.routes[("POST", "/companies")] = lambda body, query: (
        409,
        '{"title": "Conflict", "status": 409, "detail": "slug acme is taken", "kind": "conflict"}',
    )
    result = run(company, slug="acme", name="ACME", expect_failure=True)
    assert "slug acme is taken" in result["msg"] and result["status"] == 409
