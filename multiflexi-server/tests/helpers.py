"""Data the tests share: the planted secrets, a manifest, the common password."""

from __future__ import annotations

import re
from typing import Any

MASTER_KEY = "test-master-key-0123456789-abcdefghijklmnop"
PASSWORD = "correct horse battery"
SECRETS = {
    "company_variable": "PLANTED-company-variable-7f3a",
    "run_template_value": "PLANTED-run-template-value-91cc",
    "credential_value": "PLANTED-credential-value-55e1",
    "type_setting": "PLANTED-type-setting-0b2d",
    "override": "PLANTED-override-c4d8",
    "action_url": "PLANTED-action-url-3b9c",
    "password": PASSWORD,
}
#: the URL of the webhook planted on each run template (its token is a planted secret)
ACTION_URL = f"https://hooks.example/notify?token={SECRETS['action_url']}"

MANIFEST: dict[str, Any] = {
    "$schema": "https://raw.githubusercontent.com/VitexSoftware/php-vitexsoftware-multiflexi-core/refs/heads/main/multiflexi.app.schema.json",
    "name": "Probe",
    "uuid": "6f1c1a4e-0000-4000-8000-00000000a001",
    "description": "Prints what it is given",
    "executable": "/usr/bin/env",
    "version": "1.0.0",
    "topics": ["test"],
    "environment": {
        "REPORT_NAME": {"type": "string", "description": "name", "defval": "report"},
        "API_PASSWORD": {"type": "password", "description": "secret", "required": False},
    },
    "exitCodes": {"0": {"severity": "success", "description": "done"}},
}


def manifest(**changes: Any) -> dict[str, Any]:
    return {**MANIFEST, **changes}


def csrf_of(page: bytes | str) -> str:
    """The session's CSRF token a web page carries in its forms."""
    html = page.decode() if isinstance(page, bytes) else page
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def signed_in(world: Any, login: str) -> Any:
    """A test client with ``login``'s session, signed in through the sign-in form; its
    ``token`` is the session's CSRF token."""
    client = world.client()
    token = csrf_of(client.get("/login").data)
    answer = client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, f"{login} signs in"
    client.token = csrf_of(client.get("/").data)
    return client


def check_page(browser: Any, name: str, ready: str, status: int = 200) -> None:
    """The browser's current page: loaded (``ready`` shown), no serious or critical axe
    violation in either theme, its screenshots ``name-…`` (laptop and phone, light and
    dark), no console error and no planted secret. A page answered with an error
    ``status`` logs that one line (Chromium does for every such document): it is allowed."""
    browser.wait(lambda: browser.has(ready), f"{ready} on the {name} page")
    for theme in ("light", "dark"):
        browser.theme(theme)
        assert browser.accessibility_violations() == [], f"{name} ({theme})"
    browser.screenshot(name)
    errors = browser.console_errors()
    if status != 200:
        own = f"{browser.base}{browser.path} - Failed to load resource: the server responded "
        errors = [e for e in errors if not (e.startswith(own) and f" {status} " in e)]
    assert errors == [], name
    assert "PLANTED-" not in browser.source(), name
