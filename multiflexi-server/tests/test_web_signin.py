"""The web UI's sign-in, sessions, CSRF, first administrator and error pages."""

from __future__ import annotations

import re

import sqlalchemy as sa
from helpers import PASSWORD, csrf_of

from multiflexi.core import models, throttle
from multiflexi.server.testing import LAPTOP, PHONE
from multiflexi.server.web.base import CONTENT_SECURITY_POLICY


def sign_in(client, login: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").data)
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def test_every_page_asks_to_sign_in_first_and_comes_back_after(world):
    client = world.client()
    answer = client.get("/?x=1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?next=/?x%3D1"
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200 and b'name="next" value="/?x=1"' in page.data
    token = csrf_of(page.data)
    signed = client.post(
        "/login",
        data={"login": "alice", "password": PASSWORD, "csrf_token": token, "next": "/?x=1"},
    )
    assert signed.status_code == 303 and signed.headers["Location"] == "/?x=1"
    assert client.get("/").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_and_secure_behind_https(world):
    client = world.client()
    answer = sign_in(client, "alice")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = world.app.test_client()
    token = csrf_of(https.get("/login", base_url="https://localhost").data)
    secure = https.post(
        "/login",
        base_url="https://localhost",
        data={"login": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert secure.status_code == 303
    assert "Secure" in secure.headers["Set-Cookie"]


def test_a_wrong_password_says_so_and_a_repeated_one_is_held_back(world):
    client = world.client()
    wrong = sign_in(client, "alice", "not it")
    assert wrong.status_code == 401
    assert b"Wrong login or password." in wrong.data
    assert client.get("/").status_code == 302  # still signed out
    for _ in range(throttle.MAX_FAILURES):
        last = sign_in(client, "alice", "not it")
    assert last.status_code == 429
    assert int(last.headers["Retry-After"]) > 0
    # the right password waits too, and the API's Basic auth obeys the same count
    assert sign_in(client, "alice").status_code == 429
    api = world.client().get("/api/v1/me", headers=world.basic("alice"))
    assert api.status_code == 429


def test_a_form_without_the_session_token_changes_nothing(world):
    client = world.client()
    sign_in(client, "alice")
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert b"Form expired" in refused.data
    assert client.get("/").status_code == 200  # still signed in
    forged = client.post("/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    token = csrf_of(client.get("/").data)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/").status_code == 302


def test_sign_in_never_sends_anyone_to_another_site(world):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        client = world.client()
        token = csrf_of(client.get("/login").data)
        answer = client.post(
            "/login",
            data={"login": "alice", "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert answer.headers["Location"] == "/", target


def test_a_new_installation_offers_to_create_the_first_administrator(tmp_path, world):
    with world.session() as session:
        session.execute(sa.delete(models.ApiToken))
        session.execute(sa.delete(models.CompanyUser))
        session.execute(sa.delete(models.User))
        session.commit()
    client = world.client()
    page = client.get("/login")
    assert b'id="createAdmin"' in page.data
    form = client.get("/setup")
    token = csrf_of(form.data)
    mismatch = client.post(
        "/setup",
        data={
            "login": "boss",
            "password": "long enough 1",
            "password_again": "other",
            "csrf_token": token,
        },
    )
    assert mismatch.status_code == 422 and b"the two passwords differ" in mismatch.data
    made = client.post(
        "/setup",
        data={
            "login": "boss",
            "password": "long enough 1",
            "password_again": "long enough 1",
            "csrf_token": token,
        },
    )
    assert made.status_code == 303
    assert client.get("/").status_code == 200  # signed in as the new administrator
    with world.session() as session:
        boss = session.scalars(sa.select(models.User)).one()
        assert boss.login == "boss" and boss.is_admin
    # once an account exists, nobody else becomes the first administrator
    other = world.client()
    assert b"createAdmin" not in other.get("/login").data
    assert other.get("/setup").status_code == 302


def test_unknown_pages_answer_an_html_page_and_the_api_keeps_its_problems(world):
    client = world.client()
    sign_in(client, "alice")
    page = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert b'data-testid="error-page"' in page.data
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_pages_carry_a_content_security_policy_without_inline_scripts(world):
    answer = world.client().get("/login")
    assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert not re.search(rb"<script(?![^>]*\bsrc=)", answer.data), "no inline <script>"
    assert not re.search(rb"\son[a-z]+=", answer.data), "no inline event handlers"
    assert b" style=" not in answer.data


# -- in a real browser ----------------------------------------------------------------------


def test_signing_in_and_out_in_a_browser(browser):
    browser.open("/")
    assert browser.path.startswith("/login")
    browser.fill({"login": "alice", "password": "nope"})
    browser.submit("login-submit")
    assert "Wrong login or password." in browser.find("login-error").text
    # a refused form answers 401 (so scripts and probes see it): the one console line
    assert [e for e in browser.console_errors() if "401" not in e] == []
    browser.screenshot("login")
    browser.sign_in("alice", PASSWORD)
    assert browser.path == "/"
    assert browser.find("signed-in-as").text == "alice"
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    browser.screenshot("dashboard")
    browser.find("logout").click()
    browser.wait(lambda: browser.path.startswith("/login"), "the sign-in page")
    browser.open("/")
    assert browser.path.startswith("/login")


def test_the_theme_button_cycles_and_the_choice_is_kept(browser):
    browser.sign_in("alice", PASSWORD)
    html = browser.driver.find_element("tag name", "html")
    assert html.get_attribute("data-theme") == "system"
    browser.find("theme-toggle").click()
    assert html.get_attribute("data-theme") == "light"
    browser.find("theme-toggle").click()
    assert html.get_attribute("data-theme") == "dark"
    browser.open("/")
    html = browser.driver.find_element("tag name", "html")
    assert html.get_attribute("data-theme") == "dark"
    assert browser.console_errors() == []


def test_the_menu_shows_on_a_laptop_and_opens_from_its_button_on_a_phone(browser):
    browser.sign_in("alice", PASSWORD)
    dashboard = browser.find("menu-dashboard")
    assert dashboard.is_displayed()
    assert not browser.find("menu-toggle").is_displayed()
    browser.driver.set_window_size(*PHONE)
    try:
        assert not browser.find("menu-dashboard").is_displayed()
        toggle = browser.find("menu-toggle")
        assert toggle.get_attribute("aria-expanded") == "false"
        toggle.click()
        assert browser.find("menu-dashboard").is_displayed()
        assert toggle.get_attribute("aria-expanded") == "true"
        browser.screenshot("menu-open")
    finally:
        browser.driver.set_window_size(*LAPTOP)
