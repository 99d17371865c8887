"""The web UI's run template pages: list, page, configuration, credentials, schedule,
activation, clone, delete and launch; access by role; no secret in any page."""

from __future__ import annotations

import re

from helpers import PASSWORD


def _csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page carries the session's CSRF token"
    return found.group(1).decode()


def signed_in(world, login: str):
    client = world.client()
    token = _csrf(client.get("/login").data)
    answer = client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303
    return client


def test_smoke(world):
    client = signed_in(world, "alice")
    page = client.get("/run-templates")
    assert page.status_code == 200, page.data.decode()[:3000]
    rt = world.ids["rt_a"]
    page = client.get(f"/run-templates/{rt}")
    assert page.status_code == 200, page.data.decode()[-3000:]
    open("/tmp/rtsmoke/detail.html", "wb").write(page.data)
    open("/tmp/rtsmoke/list.html", "wb").write(client.get("/run-templates").data)
    page = client.get(f"/run-templates/{rt}/launch")
    assert page.status_code == 200, page.data.decode()[-3000:]
    page = client.get(f"/run-templates/{rt}/delete")
    assert page.status_code == 200, page.data.decode()[-3000:]
    page = client.get(f"/run-templates/{rt}/preview?interval_code=c&cron=*/5+*+*+*+*")
    assert page.status_code == 200, page.data.decode()[-3000:]
    open("/tmp/rtsmoke/preview.html", "wb").write(page.data)
