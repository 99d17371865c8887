from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import run_template

KINDS = {
    "items": [
        {"name": "webhook", "options": [{"name": "url", "secret": True}]},
        {"name": "reschedule", "options": [{"name": "delay", "secret": False}]},
    ]
}


@pytest.fixture
def world(server):
    """A company, an application with a secret field, and the run template endpoints."""
    server.add("/companies", slug="acme", name="ACME")
    server.add(
        "/applications",
        uuid="u-1",
        name="downloader",
        fields=[{"name": "ACCOUNT", "secret": False}, {"name": "TOKEN", "secret": True}],
    )
    server.add("/credentials", company_id=1, name="Bank", values={})
    server.add("/credentials", company_id=1, name="ERP", values={})
    server.secrets["/run-templates"] = {"values.TOKEN"}
    server.routes[("GET", "/action-kinds")] = lambda body, query: (200, json.dumps(KINDS))
    actions = {}

    def rt(rt_id):
        return server.store["/run-templates"][rt_id]

    def answer(rt_id):
        return 200, json.dumps(server.shown("/run-templates", rt(rt_id)))

    def routes(rt_id):
        def values(body, query):
            rt(rt_id).setdefault("values", {}).update(body["values"])
            return answer(rt_id)

        def bind(cid, on):
            def handler(body, query):
                ids = set(rt(rt_id).get("credential_ids", []))
                ids = ids | {cid} if on else ids - {cid}
                rt(rt_id)["credential_ids"] = sorted(ids)
                return answer(rt_id)

            return handler

        def active(on):
            def handler(body, query):
                rt(rt_id)["active"] = on
                return answer(rt_id)

            return handler

        def get_actions(body, query):
            shown = {"run_template_id": rt_id}
            for mode in ("success", "failure"):
                shown[mode] = [
                    dict(
                        a,
                        options={
                            k: ("***" if a["action"] == "webhook" and k == "url" else v)
                            for k, v in a["options"].items()
                        },
                    )
                    for a in actions.get(mode, [])
                ]
            return 200, json.dumps(shown)

        def put_actions(body, query):
            actions.update(body)
            return get_actions(None, None)

        base = f"/run-templates/{rt_id}"
        server.routes[("PATCH", base + "/values")] = values
        for cid in (3, 4):
            server.routes[("PUT", f"{base}/credentials/{cid}")] = bind(cid, True)
            server.routes[("DELETE", f"{base}/credentials/{cid}")] = bind(cid, False)
        server.routes[("POST", base + "/activate")] = active(True)
        server.routes[("POST", base + "/deactivate")] = active(False)
        server.routes[("GET", base + "/actions")] = get_actions
        server.routes[("PUT", base + "/actions")] = put_actions

    server.rt_routes = routes
    return server


def existing(server, **fields):
    item = server.add(
        "/run-templates",
        **dict(
            dict(
                company_id=1,
                application_id=2,
                name="Import",
                active=True,
                interval_code="d",
                interval="daily",
                values={"ACCOUNT": "123", "TOKEN": "s3cret"},
                credential_ids=[],
            ),
            **fields,
        ),
    )
    server.rt_routes(item["id"])
    return item


BASE = dict(name="Import", company="acme", application="downloader")


def test_a_new_run_template_is_created_then_left_alone(run, world):
    world.next_id = 10
    world.rt_routes(10)
    args = dict(BASE, interval_code="d", config={"ACCOUNT": "123", "TOKEN": "s3cret"})
    first = run(run_template, diff=True, update_secrets="on_create", **args)
    assert first["changed"] is True and first["id"] == 10
    assert world.writes() == [
        (
            "POST",
            "/run-templates",
            {
                "company_id": 1,
                "application_id": 2,
                "name": "Import",
                "interval_code": "d",
                "values": {"ACCOUNT": "123", "TOKEN": "s3cret"},
            },
        )
    ]
    assert first["diff"]["after"]["values"] == {"ACCOUNT": "123", "TOKEN": "*** (new)"}
    assert "s3cret" not in json.dumps(first)
    world.store["/run-templates"][10].update(interval="daily", credential_ids=[], active=True)

    second = run(run_template, update_secrets="on_create", **args)
    assert second["changed"] is False
    assert len(world.writes()) == 1


def test_only_the_changed_pieces_are_sent_and_each_is_in_the_diff(run, world):
    existing(world)
    result = run(
        run_template,
        diff=True,
        update_secrets="on_create",
        interval_code="hourly",
        config={"ACCOUNT": "999", "TOKEN": "other"},
        credentials=["Bank", "4"],
        active=False,
        **BASE,
    )
    assert result["changed"] is True
    assert world.writes() == [
        ("PATCH", "/run-templates/5", {"interval_code": "hourly"}),
        ("PATCH", "/run-templates/5/values", {"values": {"ACCOUNT": "999"}}),
        ("PUT", "/run-templates/5/credentials/3", None),
        ("PUT", "/run-templates/5/credentials/4", None),
        ("POST", "/run-templates/5/deactivate", None),
    ]
    assert result["diff"] == {
        "before": {
            "interval_code": "d",
            "values": {"ACCOUNT": "123"},
            "credential_ids": [],
            "active": True,
        },
        "after": {
            "interval_code": "hourly",
            "values": {"ACCOUNT": "999"},
            "credential_ids": [3, 4],
            "active": False,
        },
    }


def test_an_interval_by_name_matches_its_code(run, world):
    existing(world)
    assert run(run_template, interval_code="daily", **BASE)["changed"] is False
    assert run(run_template, interv="d", **BASE)["changed"] is False


def test_a_secret_value_is_sent_again_with_always_and_shown_redacted(run, world):
    existing(world)
    result = run(run_template, diff=True, config={"TOKEN": "new-one"}, **BASE)
    assert result["changed"] is True
    assert world.writes() == [
        ("PATCH", "/run-templates/5/values", {"values": {"TOKEN": "new-one"}})
    ]
    assert result["diff"] == {
        "before": {"values": {"TOKEN": "***"}},
        "after": {"values": {"TOKEN": "*** (new)"}},
    }
    assert "new-one" not in json.dumps(result)
    kept = run(run_template, config={"TOKEN": "new-one"}, update_secrets="on_create", **BASE)
    assert kept["changed"] is False


def test_a_short_plain_value_does_not_mask_the_ids_in_the_result(run, world, monkeypatch):
    from ansible.module_utils import basic
    from ansible.module_utils.common.parameters import remove_values

    from ...conftest import Exited

    def exit_json(self, **result):  # as Ansible does: every no_log value masked
        raise Exited(remove_values(result, self.no_log_values), failed=False)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    existing(world, values={"ACCOUNT": "5", "TOKEN": "s3cret"})
    result = run(run_template, config={"ACCOUNT": "5", "TOKEN": "s3cret"}, **BASE)
    assert result["id"] == 5 and result["run_template"]["values"] == {
        "ACCOUNT": "5",
        "TOKEN": "***",
    }
    assert "s3cret" not in json.dumps(result)


def test_check_mode_changes_nothing_and_says_what_would(run, world):
    existing(world)
    result = run(
        run_template, check=True, diff=True, delay=30, credentials=["ERP"], active=False, **BASE
    )
    assert result["changed"] is True and world.writes() == []
    assert result["diff"]["after"] == {"delay": 30, "credential_ids": [4], "active": False}
    assert result["run_template"]["active"] is False
    created = run(run_template, check=True, diff=True, **dict(BASE, name="New"))
    assert created["changed"] is True and world.writes() == []
    assert created["diff"]["before"] == {"state": "absent"}


def test_actions_compared_per_list_with_secret_options(run, world):
    existing(world)
    hook = {"action": "webhook", "options": {"url": "https://h.example/x"}}
    result = run(run_template, diff=True, actions={"failure": [hook]}, **BASE)
    assert result["changed"] is True
    assert world.writes() == [
        (
            "PUT",
            "/run-templates/5/actions",
            {"failure": [dict(hook, enabled=True)]},
        )
    ]
    assert result["diff"]["after"]["actions"]["failure"][0]["options"]["url"] == "*** (new)"
    assert "h.example" not in json.dumps(result)
    again = run(run_template, actions={"failure": [hook]}, update_secrets="on_create", **BASE)
    assert again["changed"] is False
    plain = {"action": "reschedule", "options": {"delay": 60}}
    moved = run(run_template, actions={"success": [plain]}, **BASE)
    assert moved["changed"] is True and moved["actions"]["success"][0]["options"] == {"delay": 60}
    assert run(run_template, actions={"success": [plain]}, **BASE)["changed"] is False


def test_absent_deletes_once(run, world):
    existing(world)
    assert run(run_template, state="absent", check=True, **BASE)["changed"] is True
    assert world.writes() == []
    assert run(run_template, state="absent", **BASE)["changed"] is True
    assert world.writes() == [("DELETE", "/run-templates/5", None)]
    assert run(run_template, state="absent", **BASE)["changed"] is False


def test_the_original_collections_names_are_accepted(run, world):
    existing(world)
    same = run(run_template, runtemplate_id=5, interv="d", executor=None, values={"ACCOUNT": "123"})
    assert same["changed"] is False and same["id"] == 5
    by_key = run(run_template, name="Import", company_id="1", app_uuid="u-1", interv="d")
    assert by_key["changed"] is False and by_key["id"] == 5


def test_unknown_or_ambiguous_keys_fail_clearly(run, world):
    existing(world)
    assert run(run_template, expect_failure=True, **dict(BASE, company="nope"))["msg"] == (
        "company nope not found (give its id or slug)"
    )
    msg = run(run_template, credentials=["Nope"], expect_failure=True, **BASE)["msg"]
    assert msg == "credential Nope not found in company 1"
    world.add("/credentials", company_id=1, name="Bank", values={})
    msg = run(run_template, credentials=["Bank"], expect_failure=True, **BASE)["msg"]
    assert msg == "more than one credential is called Bank: give its id (one of 3, 6)"
    existing(world)  # a second run template of the same name (the fake server allows it)
    msg = run(run_template, delay=1, expect_failure=True, **BASE)["msg"]
    assert "more than one run template matches" in msg
    assert run(run_template, id=99, delay=1, expect_failure=True)["msg"] == (
        "run template 99 not found"
    )
    assert world.writes() == []
