"""The audit log's page: who reads it (the API's rule), its filters (who, what, action,
company, time), links to the objects its entries are about, no secret, and in a browser
(axe, console, screenshots, the filter form)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from helpers import PASSWORD, signed_in

from multiflexi.core import audit, companies, models

ROW = re.compile(
    r'data-testid="audit-row" data-entry-id="(\d+)" data-entity-type="([^"]+)"'
    r' data-action="([^"]+)"'
)


def rows(page: str) -> list[tuple[str, str]]:
    return [(kind, action) for _, kind, action in ROW.findall(page)]


@pytest.fixture
def changes(world):
    """Changes made by alice through the web pages (so the log has a web actor), and an
    old entry dated ten days back."""
    alice = signed_in(world, "alice")
    alice.post("/profile", data={"csrf_token": alice.token, "first_name": "Alice"})
    alice.post("/profile/tokens", data={"csrf_token": alice.token, "name": "ci", "expires": "30"})
    with world.session() as session:
        company = companies.get(session, world.ids["company_a"])
        companies.update(session, company.id, {"email": "a@example.org"}, actor=_actor("alice"))
        old = session.query(models.AuditEntry).order_by(models.AuditEntry.id).first()
        old.at = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
        session.commit()
        return old.id


def _actor(login):
    from multiflexi.core.audit import Actor

    return Actor(name=login, source="test")


def test_who_reads_the_log_follows_the_apis_rule(world):
    root, alice, brenda = (signed_in(world, who) for who in ("root", "alice", "brenda"))
    assert root.get("/audit").status_code == 200
    # a company admin reads their company's rows (their only company is the default)
    assert alice.get("/audit").status_code == 200
    a, b = world.ids["company_a"], world.ids["company_b"]
    assert alice.get(f"/audit?company_id={a}").status_code == 200
    assert alice.get(f"/audit?company_id={b}").status_code == 404  # not hers: unseen
    assert brenda.get(f"/audit?company_id={a}").status_code == 404
    for who in ("amy", "bob", "nobody"):  # a manager, a viewer, no role
        client = signed_in(world, who)
        assert client.get("/audit").status_code == 403, who
        assert client.get(f"/audit?company_id={a}").status_code in (403, 404), who
        assert 'data-testid="menu-audit"' not in client.get("/").text, who
    for client in (root, alice, brenda):
        assert 'data-testid="menu-audit"' in client.get("/").text


def test_a_company_admin_sees_only_their_companys_rows(world, changes):
    alice = signed_in(world, "alice")
    page = alice.get("/audit").text
    companies_shown = set(re.findall(r'data-testid="audit-company">([^<]+)<', page))
    assert companies_shown == {"Company alpha"}
    options = re.findall(r'<option value="(\d*)"', page.split('id="f-company_id"')[1])
    assert options == [str(world.ids["company_a"])], "only her company is offered"
    whole = signed_in(world, "root").get("/audit").text
    assert '<option value="" selected>' in whole  # all companies, for the administrator
    assert {"Company alpha", "Company beta"} <= set(
        re.findall(r'data-testid="audit-company">([^<]+)<', whole)
    )


def test_the_filters_narrow_the_entries(world, changes):
    root = signed_in(world, "root")
    everything = root.get("/audit?" + "&".join(["offset=0"]))
    assert everything.status_code == 200
    total = int(re.search(r'data-testid="audit-count">(\d+)', everything.text).group(1))
    assert total > 20

    by_alice = rows(root.get("/audit?actor=alice").text)
    assert set(by_alice) == {("user", "update"), ("api_token", "create"), ("company", "update")}
    tokens = rows(root.get("/audit?entity_type=api_token").text)
    assert {kind for kind, _ in tokens} == {"api_token"} and len(tokens) == 7
    created = rows(root.get("/audit?entity_type=api_token&action=create&actor=alice").text)
    assert created == [("api_token", "create")]
    assert rows(root.get("/audit?action=nothing-like-this").text) == []
    assert "No entry matches these filters." in root.get("/audit?actor=nobody-at-all").text

    b = world.ids["company_b"]
    in_b = root.get(f"/audit?company_id={b}").text
    assert set(re.findall(r'data-testid="audit-company">([^<]+)<', in_b)) == {"Company beta"}

    today = dt.date.today()
    old = root.get(f"/audit?to={(today - dt.timedelta(days=5)).isoformat()}").text
    assert [int(i) for i, *_ in ROW.findall(old)] == [changes]
    recent = root.get(f"/audit?from={(today - dt.timedelta(days=1)).isoformat()}").text
    assert str(changes) not in [i for i, *_ in ROW.findall(recent)]
    assert len(ROW.findall(recent)) == min(50, total - 1)


def test_a_wrong_date_is_shown_beside_its_field(world):
    root = signed_in(world, "root")
    answer = root.get("/audit?from=yesterday")
    assert answer.status_code == 422
    assert 'data-testid="error-from"' in answer.text and "YYYY-MM-DD" in answer.text
    for far in ("to=9999-12-31", "from=0001-01-01"):
        assert root.get(f"/audit?{far}").status_code == 422, far


def test_the_log_is_paged_and_each_page_keeps_the_filters(world):
    with world.session() as session:
        for n in range(30):
            audit.record(session, _actor("tests"), "check", "credential", n)
        session.commit()
    root = signed_in(world, "root")
    first = root.get("/audit?actor=tests").text
    assert len(ROW.findall(first)) == 50
    following = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "actor=tests" in following and "offset=50" in following
    second = root.get(following).text
    assert set(ROW.findall(first)).isdisjoint(ROW.findall(second))


def test_entries_link_to_their_objects_pages_that_exist(world, changes):
    root = signed_in(world, "root")
    page = root.get("/audit?entity_type=run_template").text
    assert f'href="/run-templates/{world.ids["rt_a"]}" data-testid="audit-object"' in page
    users_page = root.get("/audit?entity_type=user").text
    assert f'href="/users/{world.ids["alice"]}" data-testid="audit-object"' in users_page
    # a company admin gets no link to a user's page (it is the administrators')
    alice = signed_in(world, "alice").get("/audit").text
    assert 'href="/users/' not in alice.split('data-testid="audit-list"')[1]
    # the details say what changed
    details = root.get("/audit?actor=alice&entity_type=company").text
    assert '<dt>changed</dt><dd>["email"]</dd>' in details


def test_no_planted_secret_on_the_audit_pages(world, changes):
    for who, query in (("root", ""), ("root", "?entity_type=company_variable"), ("alice", "")):
        text = signed_in(world, who).get(f"/audit{query}").text
        assert "PLANTED-" not in text and PASSWORD not in text
        for plain in world.tokens.values():
            assert plain not in text


def test_the_audit_page_in_a_browser(browser, world, changes):
    browser.sign_in("root", PASSWORD)
    browser.open("/audit")
    browser.wait(lambda: browser.has("audit-row"), "the log's entries")
    for theme in ("light", "dark"):
        browser.theme(theme)
        assert browser.accessibility_violations() == [], theme
    browser.screenshot("audit")
    assert browser.console_errors() == []
    browser.fill({"actor": "alice"})
    browser.submit("audit-filter-submit")
    browser.wait(lambda: "actor=alice" in browser.path, "the filtered log")
    shown = {e.text for e in browser.find_all('[data-testid="audit-actor"]')}
    assert shown == {"alice (test)", "alice (web)"}
    browser.screenshot("audit-filtered")
    assert browser.console_errors() == []
    assert "PLANTED-" not in browser.source()
