"""The key that signs session cookies outlives a restart and is shared by every server
process of one installation (MULTIFLEXI_SECRET_KEY, else the data directory's key file)."""

from __future__ import annotations

import dataclasses

from test_web_signin import sign_in

from multiflexi.core import config
from multiflexi.server import create_app


def _app_without_a_key(world, data_dir):
    environ = {k: v for k, v in world.settings.environ.items() if k != "MULTIFLEXI_SECRET_KEY"}
    settings = dataclasses.replace(world.settings, data_dir=data_dir, environ=environ)
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "signed in: the session cookie is set"
    return cookie.value


def test_two_servers_on_one_data_directory_accept_each_others_sessions(world, tmp_path):
    data_dir = tmp_path / "shared"
    first = _app_without_a_key(world, data_dir)
    key_file = data_dir / config.SESSION_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600  # only the server's user reads it
    client = first.test_client()
    assert sign_in(client, "alice").status_code == 303
    cookie = _session_cookie(client)

    # a second process (or the same server after a restart) on the same data directory
    second = _app_without_a_key(world, data_dir).test_client()
    second.set_cookie("session", cookie)
    page = second.get("/")
    assert page.status_code == 200
    assert b'data-testid="signed-in-as">alice<' in page.data

    # another installation does not take the cookie: it asks to sign in
    stranger = _app_without_a_key(world, tmp_path / "elsewhere").test_client()
    stranger.set_cookie("session", cookie)
    assert stranger.get("/").status_code == 302
    assert key_file.read_text() != (tmp_path / "elsewhere" / config.SESSION_KEY_FILE).read_text()
