"""Users, tokens, the audit log and the status summary."""

from __future__ import annotations

from helpers import PASSWORD


def test_an_administrator_creates_users_and_others_see_only_themselves(world):
    created = world.call(
        "root",
        "POST",
        "/api/v1/users",
        json={"login": "dora", "password": PASSWORD, "email": "d@example.com"},
    )
    assert created.status_code == 201
    assert "password" not in created.get_data(as_text=True)
    assert world.call("root", "POST", "/api/v1/users", json={"login": "dora"}).status_code == 409
    assert (
        world.call(
            "root", "POST", "/api/v1/users", json={"login": "eve", "password": "short"}
        ).status_code
        == 422
    )
    assert world.call("alice", "POST", "/api/v1/users", json={"login": "x"}).status_code == 403
    mine = world.call("alice", "GET", "/api/v1/users").get_json()
    assert [u["login"] for u in mine["items"]] == ["alice"]
    assert world.call("alice", "GET", f"/api/v1/users/{world.ids['bob']}").status_code == 404
    everyone = world.call("root", "GET", "/api/v1/users").get_json()
    assert everyone["total"] == 7
    assert world.call("root", "GET", "/api/v1/users?login=dora").get_json()["total"] == 1


def test_a_user_changes_their_own_details_but_not_their_rights(world):
    me = f"/api/v1/users/{world.ids['bob']}"
    assert world.call("bob", "PATCH", me, json={"first_name": "Bob"}).status_code == 200
    assert world.call("bob", "PATCH", me, json={"is_admin": True}).status_code == 403
    assert world.call("root", "GET", me).get_json()["is_admin"] is False


def test_the_last_administrator_cannot_be_removed(world):
    root = f"/api/v1/users/{world.ids['root']}"
    assert world.call("root", "PATCH", root, json={"is_admin": False}).status_code == 409
    assert world.call("root", "DELETE", root).status_code == 409
    assert world.call("root", "GET", "/api/v1/me").get_json()["is_admin"] is True


def test_tokens_of_other_users_are_invisible(world):
    ids = world.ids
    assert world.call("bob", "GET", f"/api/v1/tokens/{ids['token_alice']}").status_code == 404
    assert world.call("bob", "GET", f"/api/v1/tokens?user_id={ids['alice']}").status_code == 404
    theirs = world.call("root", "GET", f"/api/v1/tokens?user_id={ids['alice']}").get_json()
    assert [t["id"] for t in theirs["items"]] == [ids["token_alice"]]


def test_company_admins_read_their_companys_audit_rows_only(world):
    ids = world.ids
    world.call("alice", "PATCH", f"/api/v1/companies/{ids['company_a']}", json={"ic": "12345678"})
    rows = world.call("alice", "GET", f"/api/v1/audit?company_id={ids['company_a']}").get_json()
    assert rows["items"][0]["action"] == "update" and rows["items"][0]["actor"] == "alice"
    assert {r["company_id"] for r in rows["items"]} == {ids["company_a"]}
    assert world.call("alice", "GET", "/api/v1/audit").status_code == 403
    assert (
        world.call("amy", "GET", f"/api/v1/audit?company_id={ids['company_a']}").status_code == 403
    )
    assert (
        world.call("alice", "GET", f"/api/v1/audit?company_id={ids['company_b']}").status_code
        == 404
    )


def test_status_reports_versions_jobs_and_queues(world):
    status = world.call("root", "GET", "/api/v1/status")
    assert status.status_code == 200
    data = status.get_json()
    assert data["versions"]["multiflexi-server"]
    assert data["jobs"] == {"scheduled": 2, "success": 2}
    assert data["redis_error"] is None and data["queues"] is not None
    assert world.call("alice", "GET", "/api/v1/status").status_code == 403
