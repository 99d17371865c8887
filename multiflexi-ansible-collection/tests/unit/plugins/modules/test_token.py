from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import token

VALUE = "mf_the-Secret-Token-Value-123"


@pytest.fixture
def tokens(server):
    """A server with user jane (1) and a token endpoint that answers the value once."""
    server.add("/users", login="jane")
    made: dict[int, dict] = {}

    def create(body, query):
        item = dict(body, id=100 + len(made), user_id=body.get("user_id", 1), revoked_at=None)
        item["prefix"] = "mf_the"
        made[item["id"]] = item
        return 201, json.dumps(dict(item, token=VALUE))

    def listing(body, query):
        items = [
            t
            for t in made.values()
            if t["user_id"] == int(query.get("user_id", 1)) and not t["revoked_at"]
        ]
        return 200, json.dumps({"items": items, "total": len(items), "limit": 500, "offset": 0})

    server.routes[("POST", "/tokens")] = create
    server.routes[("GET", "/tokens")] = listing
    for i in range(100, 105):

        def revoke(body, query, i=i):
            made[i]["revoked_at"] = "2026-01-01T00:00:00Z"
            return 200, json.dumps(made[i])

        def get(body, query, i=i):
            return (200, json.dumps(made[i])) if i in made else (404, "{}")

        server.routes[("DELETE", f"/tokens/{i}")] = revoke
        server.routes[("GET", f"/tokens/{i}")] = get
    return made


def test_created_once_and_the_value_returned_only_then(run, server, tokens):
    first = run(token, name="deploy", expires_in=3600, diff=True)
    assert first["changed"] is True and first["token"] == VALUE and first["id"] == 100
    assert "token" not in first["api_token"]
    assert server.writes() == [("POST", "/tokens", {"name": "deploy", "expires_in": 3600})]
    assert VALUE not in json.dumps(first["diff"])

    second = run(token, name="deploy", expires_in=3600)
    assert second["changed"] is False and "token" not in second and second["id"] == 100
    assert len(server.writes()) == 1


def test_for_another_user_by_login(run, server, tokens):
    result = run(token, name="ci", user="jane")
    assert server.writes() == [("POST", "/tokens", {"name": "ci", "user_id": 1})]
    assert result["changed"] is True


def test_check_mode_creates_nothing_and_returns_no_value(run, server, tokens):
    result = run(token, name="deploy", check=True, diff=True)
    assert result["changed"] is True and "token" not in result and server.writes() == []
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": {"name": "deploy", "state": "present"},
    }


def test_absent_revokes_by_name_or_id_once(run, server, tokens):
    run(token, name="a")
    run(token, name="b")
    gone = run(token, name="a", state="absent", diff=True)
    assert gone["changed"] is True and gone["revoked"] == [100]
    assert gone["diff"]["after"] == {"state": "absent"}
    assert run(token, name="a", state="absent")["changed"] is False
    assert run(token, token_id=101, state="absent")["revoked"] == [101]
    assert run(token, id=101, state="absent")["changed"] is False
    assert [w[:2] for w in server.writes() if w[0] == "DELETE"] == [
        ("DELETE", "/tokens/100"),
        ("DELETE", "/tokens/101"),
    ]


def test_a_revoked_name_is_created_again(run, server, tokens):
    run(token, name="a")
    run(token, name="a", state="absent")
    again = run(token, name="a")
    assert again["changed"] is True and again["id"] == 101


def test_the_original_collections_names_and_clear_failures(run, server, tokens):
    assert run(token, name="x", user_id="1")["changed"] is True
    assert "user joe not found" in run(token, name="x", user="joe", expect_failure=True)["msg"]
    failed = run(token, id=104, expect_failure=True)
    assert "name" in failed["msg"]
    tokens[101] = dict(tokens[100], id=101)
    failed = run(token, name="x", user="1", expect_failure=True)
    assert failed["msg"] == "more than one active token is called x: give its id (one of 100, 101)"
