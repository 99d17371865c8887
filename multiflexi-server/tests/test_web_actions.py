"""The run template page's actions after success and failure: add, change (a secret kept when
left blank), reorder, enable, disable, remove; each problem beside its input; a viewer sees
the lists only and is refused; another company's run template answers 404."""

from __future__ import annotations

import re

from helpers import ACTION_URL, PASSWORD
from test_web_runtemplates import post, signed_in

from multiflexi.core import actions, audit, runtemplates

SYSTEM = audit.Actor.system("tests")
NEW_URL = "https://hooks.example/ops?token=PLANTED-web-action-url-90fe"


def second_rt(world, company: str = "a") -> int:
    with world.session() as session:
        rt = runtemplates.clone(session, world.ids[f"rt_{company}"], actor=SYSTEM, name="second")
        return rt.id


def lists(world, rt_id: int) -> dict[str, list[tuple[str, bool, dict]]]:
    with world.session() as session:
        found = actions.list_actions(session, SYSTEM, rt_id)
        return {m: [(a.action, a.enabled, a.options) for a in v] for m, v in found.items()}


def sealed_url(world, rt_id: int, mode: str) -> str:
    with world.session() as session:
        rows = runtemplates.enabled_actions(session, rt_id, (mode,))
        hook = next(r for r in rows if r.action == "webhook")
        return actions.resolved_options(session, hook.options, hook.secrets)["url"]


def changeable(world) -> list[str]:
    return [row for row in world.dump() if '"run_template_actions"' in row or '"audit' in row]


def test_a_manager_adds_a_webhook_and_a_chain_and_the_url_stays_secret(world):
    client = signed_in(world, "amy")
    rt_id = world.ids["rt_a"]
    target = second_rt(world)
    page = client.get(f"/run-templates/{rt_id}").data.decode()
    assert 'data-testid="add-action-success"' in page and 'data-testid="add-action-failure"' in page
    assert 'data-testid="action-failure-webhook"' in page
    assert f'<option value="{target}"' in page and f'<option value="{rt_id}"' not in page
    answer = post(
        client,
        f"/run-templates/{rt_id}/actions/success",
        **{
            "success.kind": "webhook",
            "success.webhook.url": NEW_URL,
            "success.webhook.timeout": "7",
            "success.webhook.include_output": "false",
        },
    )
    assert answer.status_code == 303 and answer.location.endswith(f"/run-templates/{rt_id}#actions")
    answer = post(
        client,
        f"/run-templates/{rt_id}/actions/success",
        **{"success.kind": "chain", "success.chain.run_template_id": str(target)},
    )
    assert answer.status_code == 303
    assert lists(world, rt_id)["success"] == [
        ("webhook", True, {"include_output": False, "timeout": 7, "url": "***"}),
        ("chain", True, {"run_template_id": target}),
    ]
    assert sealed_url(world, rt_id, "success") == NEW_URL
    page = client.get(f"/run-templates/{rt_id}")
    html = page.data.decode()
    assert "Action Launch another run template saved." in html
    assert "PLANTED-" not in html
    assert 'data-testid="stored-success.webhook.url"' in html  # blank keeps it
    row = re.search(r'data-testid="action-success-webhook".*?</li>', html, re.S).group(0)
    assert "secret" in row and "timeout" in row
    chain = re.search(r'data-testid="action-success-chain".*?</li>', html, re.S).group(0)
    assert f'<a href="/run-templates/{target}">second</a>' in chain  # the target by name


def test_a_blank_secret_keeps_the_stored_url_when_other_options_change(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    answer = post(
        client,
        f"/run-templates/{rt_id}/actions/failure",
        **{"failure.kind": "webhook", "failure.webhook.url": "", "failure.webhook.timeout": "3"},
    )
    assert answer.status_code == 303
    assert lists(world, rt_id)["failure"] == [("webhook", True, {"timeout": 3, "url": "***"})]
    assert sealed_url(world, rt_id, "failure") == ACTION_URL


def test_each_problem_shows_beside_its_input_and_nothing_changes(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    before = changeable(world)
    cases = [
        (
            {
                "success.kind": "webhook",
                "success.webhook.url": "ftp://x",
                "success.webhook.timeout": "soon",
            },
            {
                "success.webhook.url": "must be an http:// or https:// address",
                "success.webhook.timeout": "must be a whole number",
            },
        ),
        ({"success.kind": "webhook"}, {"success.webhook.url": "required"}),
        (
            {"success.kind": "chain", "success.chain.run_template_id": str(rt_id)},
            {"success.chain.run_template_id": "a run template cannot chain to itself"},
        ),
        (
            {"success.kind": "chain", "success.chain.run_template_id": str(world.ids["rt_b"])},
            {"success.chain.run_template_id": f"run template {world.ids['rt_b']} not found"},
        ),
        ({"success.kind": ""}, {"success.kind": "choose a kind of action"}),
    ]
    for form, expected in cases:
        answer = post(client, f"/run-templates/{rt_id}/actions/success", **form)
        assert answer.status_code == 422, form
        html = answer.data.decode()
        for field, message in expected.items():
            shown = re.search(rf'data-testid="error-{re.escape(field)}">([^<]*)<', html)
            assert shown and shown.group(1).startswith(message), (field, html[-3000:])
            assert f'id="f-{field}"' in html
    # the URL typed is never written back into the page
    answer = post(
        client,
        f"/run-templates/{rt_id}/actions/success",
        **{
            "success.kind": "webhook",
            "success.webhook.url": NEW_URL,
            "success.webhook.timeout": "x",
        },
    )
    assert answer.status_code == 422 and b"PLANTED-" not in answer.data
    assert changeable(world) == before


def test_the_controls_reorder_disable_enable_and_remove(world):
    client = signed_in(world, "alice")
    rt_id = world.ids["rt_a"]
    for kind, extra in (("reschedule", {"failure.reschedule.delay": "60"}), ("deactivate", {})):
        answer = post(
            client, f"/run-templates/{rt_id}/actions/failure", **{"failure.kind": kind}, **extra
        )
        assert answer.status_code == 303

    def order():
        return [(a, e) for a, e, _ in lists(world, rt_id)["failure"]]

    assert order() == [("webhook", True), ("reschedule", True), ("deactivate", True)]
    base = f"/run-templates/{rt_id}/actions/failure"
    assert post(client, f"{base}/deactivate", op="up").status_code == 303
    assert order() == [("webhook", True), ("deactivate", True), ("reschedule", True)]
    assert post(client, f"{base}/webhook", op="down").status_code == 303
    assert post(client, f"{base}/reschedule", op="disable").status_code == 303
    assert order() == [("deactivate", True), ("webhook", True), ("reschedule", False)]
    html = client.get(f"/run-templates/{rt_id}").data.decode()
    assert 'data-testid="action-failure-reschedule-enable"' in html
    assert 'data-testid="action-failure-deactivate-up"' not in html  # first: no "Up"
    assert post(client, f"{base}/reschedule", op="enable").status_code == 303
    assert post(client, f"{base}/deactivate", op="remove").status_code == 303
    assert order() == [("webhook", True), ("reschedule", True)]
    assert sealed_url(world, rt_id, "failure") == ACTION_URL
    assert post(client, f"{base}/chain", op="remove").status_code == 404
    assert post(client, f"{base}/webhook", op="explode").status_code == 422
    assert post(client, f"/run-templates/{rt_id}/actions/later/webhook", op="up").status_code == 422


def test_a_viewer_sees_the_lists_without_controls_and_is_refused(world):
    client = signed_in(world, "bob")
    rt_id = world.ids["rt_b"]
    html = client.get(f"/run-templates/{rt_id}").data.decode()
    assert 'data-testid="action-failure-webhook"' in html and "PLANTED-" not in html
    for control in ("add-action-", "save-action-", "action-failure-webhook-"):
        assert f'data-testid="{control}' not in html, control
    before = changeable(world)
    base = f"/run-templates/{rt_id}/actions/failure"
    assert post(client, base, **{"failure.kind": "deactivate"}).status_code == 403
    assert post(client, f"{base}/webhook", op="remove").status_code == 403
    # another company's run template is not found, by any address
    for path in (
        f"/run-templates/{world.ids['rt_a']}/actions/failure",
        f"/run-templates/{world.ids['rt_a']}/actions/failure/webhook",
    ):
        assert post(client, path, op="remove", **{"failure.kind": "deactivate"}).status_code == 404
    assert changeable(world) == before


# -- in a real browser ---------------------------------------------------------------------------


def test_adding_a_webhook_and_a_chain_in_a_browser(browser, world):
    from selenium.webdriver.support.ui import Select

    rt_id = world.ids["rt_a"]
    target = second_rt(world)
    browser.sign_in("alice", PASSWORD)
    browser.open(f"/run-templates/{rt_id}")
    # only the chosen kind's options show
    assert not browser.find("field-success.webhook.url").is_displayed()
    Select(browser.find("field-success.kind")).select_by_value("webhook")
    browser.wait(lambda: browser.find("field-success.webhook.url").is_displayed(), "its options")
    assert not browser.find("field-success.chain.run_template_id").is_displayed()
    assert browser.find("field-success.webhook.url").get_attribute("type") == "password"
    browser.fill({"success.webhook.url": NEW_URL, "success.webhook.timeout": "5"})
    browser.submit("save-action-success")
    browser.wait(lambda: "saved" in browser.find("flash").text, "the flash")
    assert browser.has("action-success-webhook")
    Select(browser.find("field-success.kind")).select_by_value("chain")
    browser.wait(
        lambda: browser.find("field-success.chain.run_template_id").is_displayed(), "its options"
    )
    Select(browser.find("field-success.chain.run_template_id")).select_by_value(str(target))
    browser.submit("save-action-success")
    browser.wait(lambda: browser.has("action-success-chain"), "the chain in the list")
    assert [(a, e) for a, e, _ in lists(world, rt_id)["success"]] == [
        ("webhook", True),
        ("chain", True),
    ]
    assert sealed_url(world, rt_id, "success") == NEW_URL
    assert "PLANTED-" not in browser.source()
    assert browser.console_errors() == []
    assert browser.accessibility_violations() == []
    Select(browser.find("field-failure.kind")).select_by_value("webhook")
    browser.screenshot("runtemplate-actions", at="actions")
    browser.screenshot("runtemplate-actions-form", at="add-action-failure")
