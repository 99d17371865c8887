from __future__ import annotations

import json

from ansible_collections.multiflexi.multiflexi.plugins.modules import user

PASSWORD = "Very-Secret-Pass-4412"


def test_created_then_unchanged_and_the_password_never_shown(run, server):
    args = dict(login="jane", email="jane@acme.example", first_name="Jane", password=PASSWORD)
    first = run(user, diff=True, **args)
    assert first["changed"] is True and first["id"] == 1
    assert server.writes() == [
        (
            "POST",
            "/users",
            {
                "login": "jane",
                "email": "jane@acme.example",
                "first_name": "Jane",
                "password": PASSWORD,
            },
        )
    ]
    assert first["diff"]["after"]["password"] == "*** (new)"
    assert PASSWORD not in json.dumps(first)

    second = run(user, **args)
    assert second["changed"] is False and len(server.writes()) == 1


def test_only_the_changed_option_is_sent_with_a_diff(run, server):
    server.add("/users", login="jane", email="a@x.example", enabled=True, is_admin=False)
    result = run(user, login="jane", email="b@x.example", enabled=True, diff=True)
    assert result["changed"] is True
    assert server.writes() == [("PATCH", "/users/1", {"email": "b@x.example"})]
    assert result["diff"] == {"before": {"email": "a@x.example"}, "after": {"email": "b@x.example"}}


def test_update_password_always_sets_it_and_reports_changed(run, server):
    server.routes[("PUT", "/users/1/password")] = lambda body, query: (200, "{}")
    server.add("/users", login="jane", enabled=True)
    result = run(user, login="jane", password=PASSWORD, update_password="always", diff=True)
    assert result["changed"] is True
    assert server.writes() == [("PUT", "/users/1/password", {"password": PASSWORD})]
    assert result["diff"] == {"before": {"password": "***"}, "after": {"password": "*** (new)"}}
    assert PASSWORD not in json.dumps(result)
    assert run(user, login="jane", password=PASSWORD)["changed"] is False


def test_check_mode_writes_nothing(run, server):
    server.add("/users", login="jane", enabled=True)
    changed = run(user, login="jane", enabled=False, check=True, diff=True)
    assert changed["changed"] is True and changed["user"]["enabled"] is False
    created = run(user, login="joe", password=PASSWORD, check=True, diff=True)
    assert created["changed"] is True and created["diff"]["before"] == {"state": "absent"}
    reset = run(user, login="jane", password=PASSWORD, update_password="always", check=True)
    assert reset["changed"] is True
    assert server.writes() == [] and server.store["/users"][1]["enabled"] is True


def test_the_original_collections_names_are_accepted(run, server):
    server.add("/users", login="jane", first_name="Jane", last_name="Doe")
    result = run(user, user_id=1, firstname="Jane", lastname="Doe")
    assert result["changed"] is False and result["id"] == 1


def test_unknown_id_and_a_new_login_fail_clearly(run, server):
    server.add("/users", login="jane")
    assert "user 42 not found" in run(user, id=42, expect_failure=True)["msg"]
    failed = run(user, id=1, login="janet", expect_failure=True)
    assert failed["msg"] == "user 1 has the login jane: a login cannot change"
    assert server.writes() == []


def test_absent_deletes_once(run, server):
    server.add("/users", login="jane")
    assert run(user, login="jane", state="absent")["changed"] is True
    assert run(user, login="jane", state="absent")["changed"] is False
    assert server.writes() == [("DELETE", "/users/1", None)]


def test_the_servers_refusal_is_the_message(run, server):
    server.add("/users", login="root", is_admin=True, enabled=True)
    server.routes[("PATCH", "/users/1")] = lambda body, query: (
        409,
        '{"title": "Conflict", "status": 409, "detail": "the last administrator stays enabled"}',
    )
    failed = run(user, login="root", enabled=False, expect_failure=True)
    assert "the last administrator stays enabled" in failed["msg"]
