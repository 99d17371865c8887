"""Sign-in abuse: failed logins are throttled per client address and login (429, Retry-After).

One rule (the core's) for HTTP Basic, the login endpoint and the compatibility
layer; the account is never locked for everyone, so a stranger cannot lock a
global administrator out; the counts are shared by every server process.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

import pytest
from helpers import PASSWORD

from multiflexi.core import audit, throttle, users
from multiflexi.database.testing import free_port

STRANGER = "203.0.113.66"
HOME = "192.0.2.10"
COMPAT = "/api/VitexSoftware/MultiFlexi/1.0.0"


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def get_me(world, login: str, password: str, address: str, path: str = "/api/v1/me"):
    return world.client().get(
        path, headers=basic(login, password), environ_base={"REMOTE_ADDR": address}
    )


def log_in(world, login: str, password: str, address: str):
    return world.client().post(
        "/api/v1/auth/login",
        json={"login": login, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def guess(world, login: str, address: str, times: int = throttle.MAX_FAILURES) -> None:
    for number in range(times):
        assert get_me(world, login, f"guess number {number}", address).status_code == 401


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["kind"] == "throttled"
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= throttle.WINDOW.total_seconds()
    assert str(retry_after) in body["detail"]
    assert "root" not in response.get_data(as_text=True)
    assert "WWW-Authenticate" not in response.headers


def test_a_stranger_guessing_basic_credentials_is_held_back_and_the_admin_is_not(world):
    guess(world, "root", STRANGER)
    # the stranger is refused even with the right password, and told how long to wait
    assert_throttled(get_me(world, "root", PASSWORD, STRANGER))
    assert_throttled(log_in(world, "root", PASSWORD, STRANGER))
    # the global administrator works on from anywhere else, with Basic and with the form
    assert get_me(world, "root", PASSWORD, HOME).status_code == 200
    assert log_in(world, "root", PASSWORD, HOME).status_code == 200
    # the stranger's other logins are merely wrong
    assert get_me(world, "alice", "wrong", STRANGER).status_code == 401
    # tokens are not affected at all
    assert world.client().get("/api/v1/me", headers=world.headers("root")).status_code == 200


def test_the_login_endpoint_and_the_compat_layer_apply_the_same_count(world):
    for number in range(throttle.MAX_FAILURES):
        response = log_in(world, "alice", f"guess number {number}", STRANGER)
        assert response.status_code == 401
    assert_throttled(get_me(world, "alice", PASSWORD, STRANGER, f"{COMPAT}/apps.json"))
    assert_throttled(log_in(world, "alice", PASSWORD, STRANGER))
    assert get_me(world, "alice", PASSWORD, HOME, f"{COMPAT}/apps.json").status_code == 200


def test_an_unknown_login_is_throttled_alike(world):
    guess(world, "nobody-here", STRANGER)
    assert_throttled(get_me(world, "nobody-here", "x", STRANGER))


def test_a_new_password_set_by_the_administrator_lifts_the_throttle(world):
    guess(world, "bob", STRANGER)
    assert_throttled(get_me(world, "bob", PASSWORD, STRANGER))
    changed = world.call(
        "root",
        "PUT",
        f"/api/v1/users/{world.ids['bob']}/password",
        json={"password": "bob's new one"},
    )
    assert changed.status_code == 200
    assert get_me(world, "bob", "bob's new one", STRANGER).status_code == 200


def test_the_openapi_document_declares_429_where_credentials_are_checked(world):
    doc = world.client().get("/api/v1/openapi.json").get_json()
    me = doc["paths"]["/api/v1/me"]["get"]["responses"]
    assert "Retry-After" in me["429"]["headers"]
    assert "429" in doc["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert "429" not in doc["paths"]["/api/v1/openapi.json"]["get"]["responses"]
    for path, methods in doc["paths"].items():
        for method, entry in methods.items():
            if entry.get("security") != []:
                assert "429" in entry["responses"], (method, path)


def http_get_me(port: int, login: str, password: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/me", headers=basic(login, password)
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - local server
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def two_servers(spawn, env_file, session, wait_for):
    """Two `multiflexi-server serve` processes on one database, and a user to guess at."""
    users.create(session, "boss", actor=audit.Actor.cli(), password="boss password!", is_admin=True)
    ports = [free_port(), free_port()]
    servers = [
        spawn("--env-file", str(env_file), "serve", "--port", str(port), "--threads", "2")
        for port in ports
    ]

    def answering(port: int, server) -> bool:
        assert server.popen.poll() is None, server.output()
        try:
            return http_get_me(port, "", "") == 401
        except OSError:
            return False

    for port, server in zip(ports, servers, strict=True):
        wait_for(
            lambda port=port, server=server: answering(port, server), what="the server", timeout=60
        )
    return ports


def test_server_processes_share_the_count(two_servers):
    first, second = two_servers
    # each process sees half of the failures; together they reach the limit
    for number in range(throttle.MAX_FAILURES):
        port = first if number % 2 else second
        assert http_get_me(port, "boss", f"guess number {number}") == 401
    assert http_get_me(first, "boss", "boss password!") == 429
    assert http_get_me(second, "boss", "boss password!") == 429
