"""The API of a run template's actions: GET and PUT /run-templates/{id}/actions, the kinds."""

from __future__ import annotations

from helpers import ACTION_URL, SECRETS

from multiflexi.core import actions, audit, runtemplates
from multiflexi.core.redaction import REDACTED


def changeable(world) -> list[str]:
    """The rows a change of actions writes: the actions and the audit log."""
    return [row for row in world.dump() if '"run_template_actions"' in row or '"audit' in row]


def path(world, key: str = "rt_a") -> str:
    return f"/api/v1/run-templates/{world.ids[key]}/actions"


def test_the_lists_show_a_secret_url_redacted(world):
    response = world.call("amy", "GET", path(world))
    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "run_template_id": world.ids["rt_a"],
        "success": [],
        "failure": [
            {
                "action": "webhook",
                "enabled": True,
                "position": 0,
                "options": {"url": REDACTED},
                "known": True,
            }
        ],
    }
    one = world.call("amy", "GET", path(world) + "?mode=failure").get_json()
    assert one["success"] is None and one["failure"] == body["failure"]
    assert SECRETS["action_url"] not in response.get_data(as_text=True)


def test_put_replaces_the_given_lists_keeps_the_other_and_a_blank_secret(world):
    second = world.call(
        "alice",
        "POST",
        "/api/v1/run-templates",
        json={
            "company_id": world.ids["company_a"],
            "application_id": world.ids["application"],
            "name": "next one",
        },
    )
    assert second.status_code == 201, second.get_json()
    next_id = second.get_json()["id"]
    response = world.call(
        "amy",
        "PUT",
        path(world),
        json={
            "success": [
                {"action": "chain", "options": {"run_template_id": next_id}},
                {"action": "reschedule", "options": {"delay": 120}, "enabled": False},
            ]
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [(a["action"], a["enabled"], a["options"]) for a in body["success"]] == [
        ("chain", True, {"run_template_id": next_id}),
        ("reschedule", False, {"delay": 120}),
    ]
    assert body["failure"][0]["options"] == {"url": REDACTED}  # untouched
    # sending back what was shown (***) keeps the sealed URL; a new timeout is taken
    again = world.call(
        "amy",
        "PUT",
        path(world) + "?mode=failure",
        json={"failure": [{"action": "webhook", "options": {"url": REDACTED, "timeout": 3}}]},
    )
    assert again.status_code == 200
    assert again.get_json()["failure"][0]["options"] == {"url": REDACTED, "timeout": 3}
    with world.session() as session:
        rows = actions.list_actions(session, audit.Actor.cli(), world.ids["rt_a"])
        assert [a.action for a in rows["success"]] == ["chain", "reschedule"]
        (hook,) = runtemplates.enabled_actions(session, world.ids["rt_a"], ("failure",))
        assert actions.resolved_options(session, hook.options, hook.secrets) == {
            "url": ACTION_URL,
            "timeout": 3,
        }


def test_each_problem_is_named_on_its_field_and_nothing_changes(world):
    before = changeable(world)
    response = world.call(
        "alice",
        "PUT",
        path(world),
        json={
            "success": [
                {"action": "webhook", "options": {"url": "not a url"}},
                {"action": "chain", "options": {"run_template_id": world.ids["rt_b"]}},
                {"action": "launch-rockets"},
            ],
            "failure": [{"action": "chain", "options": {"run_template_id": world.ids["rt_a"]}}],
        },
    )
    assert response.status_code == 422
    problem = response.get_json()
    fields = {e["field"]: e["message"] for e in problem["fields"]}
    assert fields["success.0.url"] == "must be an http:// or https:// address"
    # another company's run template: not found for alice, as for a missing one
    assert fields["success.1.run_template_id"] == f"run template {world.ids['rt_b']} not found"
    assert fields["success.2.action"].startswith("no action named 'launch-rockets'")
    assert fields["failure.0.run_template_id"] == "a run template cannot chain to itself"
    assert changeable(world) == before
    # ?mode= takes that list only
    other = world.call("alice", "PUT", path(world) + "?mode=success", json={"failure": []})
    assert other.status_code == 422
    assert changeable(world) == before


def test_a_viewer_reads_but_cannot_change_and_another_company_gets_404(world):
    before = changeable(world)
    assert world.call("bob", "GET", path(world, "rt_b")).status_code == 200
    refused = world.call("bob", "PUT", path(world, "rt_b"), json={"failure": []})
    assert refused.status_code == 403
    for who, method in (("bob", "GET"), ("bob", "PUT"), ("nobody", "GET")):
        answer = world.call(who, method, path(world), json={"success": []})
        assert answer.status_code == 404, (who, method)
    assert changeable(world) == before


def test_the_catalogue_lists_each_kind_with_its_options(world):
    response = world.call("nobody", "GET", "/api/v1/action-kinds")
    assert response.status_code == 200
    kinds = {k["name"]: k for k in response.get_json()["items"]}
    assert list(kinds)[:4] == ["webhook", "chain", "reschedule", "deactivate"]
    url = kinds["webhook"]["options"][0]
    assert (url["name"], url["type"], url["required"], url["secret"]) == ("url", "url", True, True)
    assert kinds["reschedule"]["options"][0]["default"] == 3600
