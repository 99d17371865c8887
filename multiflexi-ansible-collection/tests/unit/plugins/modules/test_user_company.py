from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import user_company


@pytest.fixture
def roles(server):
    """A server with user jane (1), company acme (2), and the membership endpoints."""
    server.add("/users", login="jane", email="jane@acme.example")
    server.add("/companies", slug="acme", name="ACME")
    held: dict[tuple[int, int], str] = {}

    def memberships(body, query):
        items = [{"company_id": c, "role": r} for (c, u), r in held.items() if u == 1]
        return 200, json.dumps({"items": items, "total": len(items), "limit": 500, "offset": 0})

    def grant(body, query):
        held[(2, 1)] = body["role"]
        return 200, json.dumps({"company_id": 2, "user_id": 1, "role": body["role"]})

    def revoke(body, query):
        held.pop((2, 1), None)
        return 204, ""

    server.routes[("GET", "/users/1/companies")] = memberships
    server.routes[("PUT", "/companies/2/users/1")] = grant
    server.routes[("DELETE", "/companies/2/users/1")] = revoke
    return held


def test_a_role_is_given_once(run, server, roles):
    first = run(user_company, user="jane", company="acme", role="manager", diff=True)
    assert first["changed"] is True and roles == {(2, 1): "manager"}
    assert first["diff"]["before"] == {"state": "absent"}
    assert first["assignment"]["role"] == "manager"
    second = run(user_company, user="jane", company="acme", role="manager")
    assert second["changed"] is False
    assert server.writes() == [("PUT", "/companies/2/users/1", {"role": "manager"})]


def test_a_new_role_replaces_the_old_with_a_diff(run, server, roles):
    roles[(2, 1)] = "viewer"
    result = run(user_company, user="1", company="2", role="admin", diff=True)
    assert result["changed"] is True and roles[(2, 1)] == "admin"
    assert result["diff"] == {"before": {"role": "viewer"}, "after": {"role": "admin"}}


def test_check_mode_writes_nothing(run, server, roles):
    result = run(user_company, user="jane", company="acme", check=True)
    assert result["changed"] is True and server.writes() == [] and roles == {}


def test_absent_takes_it_away_once(run, server, roles):
    roles[(2, 1)] = "viewer"
    assert run(user_company, email="jane@acme.example", company="acme", state="absent")["changed"]
    assert roles == {}
    assert not run(user_company, user="jane", company="acme", state="absent")["changed"]


def test_the_original_collections_names_are_accepted(run, server, roles):
    roles[(2, 1)] = "viewer"
    assert run(user_company, login="jane", company_id=2)["changed"] is False
    assert run(user_company, user_id=1, company_id="acme")["changed"] is False


def test_unknown_user_or_company_fails_clearly(run, server, roles):
    assert run(user_company, user="joe", company="acme", expect_failure=True)["msg"] == (
        "user joe not found (give its id or login)"
    )
    assert run(user_company, user="jane", company="9", expect_failure=True)["msg"] == (
        "company 9 not found (give its id or slug)"
    )
    assert run(user_company, email="x@y.example", company="acme", expect_failure=True)["msg"] == (
        "no user has the e-mail address x@y.example"
    )
    assert server.writes() == []
