"""Authentication: Bearer tokens, HTTP Basic, the session cookie; refusals that echo nothing."""

from __future__ import annotations

import base64

from helpers import PASSWORD

from multiflexi.core import tokens, users
from multiflexi.core.audit import Actor
from multiflexi.server import openapi as spec


def test_every_operation_but_the_public_ones_refuses_an_anonymous_caller(world):
    client = world.client()
    refused = 0
    for op in spec.operations():
        if op.public:
            continue
        path = op.path
        for name, _ in op.path_parameters():
            path = path.replace("{" + name + "}", "1" if name != "name" else "X")
        response = client.open(path, method=op.method, json={} if op.body else None)
        assert response.status_code == 401, (op.method, op.path)
        assert response.mimetype == "application/problem+json"
        assert "Bearer" in response.headers["WWW-Authenticate"]
        refused += 1
    assert refused >= 70


def test_a_bad_token_or_password_is_refused_without_repeating_it(world):
    client = world.client()
    forged = "mfx_" + "A" * 43
    attempts = {
        forged: {"Authorization": f"Bearer {forged}"},
        "wrong-password-xyz": world.basic("alice", "wrong-password-xyz"),
        "no-such-login-qq": world.basic("no-such-login-qq"),
        "garbage%%%": {"Authorization": "Basic garbage%%%"},
        "Digest-thing": {"Authorization": "Digest-thing abc"},
    }
    for sent, headers in attempts.items():
        response = client.get("/api/v1/companies", headers=headers)
        assert response.status_code == 401
        body = response.get_data(as_text=True)
        assert sent not in body
        assert headers["Authorization"].split(" ", 1)[1] not in body


def test_a_token_and_basic_credentials_both_identify_the_user(world):
    for headers in (world.headers("alice"), world.basic("alice")):
        response = world.client().get("/api/v1/me", headers=headers)
        assert response.status_code == 200
        me = response.get_json()
        assert me["login"] == "alice"
        assert me["roles"] == {str(world.ids["company_a"]): "admin"}


def test_a_revoked_token_or_a_disabled_user_stops_working_at_once(world):
    ids = world.ids
    assert world.call("amy", "GET", "/api/v1/me").status_code == 200
    revoked = world.call("amy", "DELETE", f"/api/v1/tokens/{ids['token_amy']}")
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert world.call("amy", "GET", "/api/v1/me").status_code == 401
    disabled = world.call("root", "PATCH", f"/api/v1/users/{ids['alice']}", json={"enabled": False})
    assert disabled.status_code == 200
    assert world.call("alice", "GET", "/api/v1/me").status_code == 401
    assert world.client().get("/api/v1/me", headers=world.basic("alice")).status_code == 401


def test_an_expired_token_is_refused(world):
    with world.session() as session:
        user = users.get_by_login(session, "nobody")
        import datetime as dt

        _, plain = tokens.create(
            session,
            user.id,
            "short",
            actor=Actor.system(),
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
        )
        token = tokens.list(session, user_id=user.id).items[-1]
        token.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        session.commit()
    response = world.client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401


def test_a_session_login_works_for_reading_and_needs_the_csrf_token_for_changes(world):
    client = world.client()
    wrong = client.post("/api/v1/auth/login", json={"login": "alice", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert "nope-nope" not in wrong.get_data(as_text=True)
    assert client.get("/api/v1/me").status_code == 401

    login = client.post("/api/v1/auth/login", json={"login": "alice", "password": PASSWORD})
    assert login.status_code == 200
    assert "HttpOnly" in login.headers["Set-Cookie"]
    csrf = login.get_json()["csrf_token"]
    assert login.get_json()["user"]["login"] == "alice"
    assert client.get("/api/v1/me").get_json()["login"] == "alice"

    path = f"/api/v1/companies/{world.ids['company_a']}"
    assert client.patch(path, json={"name": "Alpha renamed"}).status_code == 401
    assert client.get(path).get_json()["name"] == "Company alpha"
    changed = client.patch(path, json={"name": "Alpha renamed"}, headers={"X-CSRF-Token": csrf})
    assert changed.status_code == 200 and changed.get_json()["name"] == "Alpha renamed"

    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_a_token_is_shown_once_and_then_works(world):
    created = world.call("bob", "POST", "/api/v1/tokens", json={"name": "laptop"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    data = created.get_json()
    plain = data["token"]
    assert plain.startswith(data["prefix"])
    again = world.call("bob", "GET", f"/api/v1/tokens/{data['id']}").get_json()
    assert "token" not in again and again["prefix"] == data["prefix"]
    listed = world.call("bob", "GET", "/api/v1/tokens").get_data(as_text=True)
    assert plain not in listed
    me = world.client().get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert me.get_json()["login"] == "bob"


def test_basic_credentials_are_decoded_with_a_colon_in_the_password(world):
    ids = world.ids
    new = "pass:with:colons"
    assert (
        world.call(
            "bob", "PUT", f"/api/v1/users/{ids['bob']}/password", json={"password": new}
        ).status_code
        == 200
    )
    raw = base64.b64encode(f"bob:{new}".encode()).decode()
    response = world.client().get("/api/v1/me", headers={"Authorization": f"Basic {raw}"})
    assert response.status_code == 200
