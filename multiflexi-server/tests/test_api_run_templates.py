"""Run templates: create, change, values, credentials, activation, preview, launch."""

from __future__ import annotations

import redis
from rq import Queue

from multiflexi.core import queue


def test_create_change_and_read_a_run_template(world):
    ids = world.ids
    created = world.call(
        "amy",
        "POST",
        "/api/v1/run-templates",
        json={
            "company_id": ids["company_a"],
            "application_id": ids["application"],
            "name": "nightly",
            "interval_code": "daily",
            "values": {"REPORT_NAME": "night"},
        },
    )
    assert created.status_code == 201, created.get_json()
    rt = created.get_json()
    assert (rt["interval_code"], rt["interval"], rt["active"]) == ("d", "daily", True)
    assert rt["values"] == {"REPORT_NAME": "night"}
    changed = world.call(
        "amy",
        "PATCH",
        f"/api/v1/run-templates/{rt['id']}",
        json={"cron": "15 3 * * *", "interval_code": "c", "name": "at 3:15"},
    )
    assert changed.status_code == 200
    assert (changed.get_json()["cron"], changed.get_json()["name"]) == ("15 3 * * *", "at 3:15")
    listed = world.call("amy", "GET", f"/api/v1/run-templates?company_id={ids['company_a']}")
    assert [r["id"] for r in listed.get_json()["items"]] == [ids["rt_a"], rt["id"]]


def test_a_bad_schedule_is_422_and_changes_nothing(world):
    path = f"/api/v1/run-templates/{world.ids['rt_a']}"
    for body in (
        {"interval_code": "fortnightly"},
        {"interval_code": "c", "cron": "61 * * * *"},
        {"executor": "teleport"},
        {"delay": -1},
        {"surprise": 1},
    ):
        response = world.call("alice", "PATCH", path, json=body)
        assert response.status_code == 422, body
    assert world.call("alice", "GET", path).get_json()["interval_code"] == "n"


def test_values_are_checked_against_the_application_fields(world):
    path = f"/api/v1/run-templates/{world.ids['rt_a']}/values"
    bad = world.call("alice", "PATCH", path, json={"values": {"NO_SUCH_FIELD": "1"}})
    assert bad.status_code == 422
    ok = world.call("alice", "PATCH", path, json={"values": {"REPORT_NAME": None}})
    assert ok.status_code == 200 and ok.get_json()["values"] == {"API_PASSWORD": "***"}
    listed = world.call("bob", "GET", f"/api/v1/run-templates/{world.ids['rt_b']}/values")
    assert {v["name"]: v["secret"] for v in listed.get_json()["items"]} == {
        "API_PASSWORD": True,
        "REPORT_NAME": False,
    }


def test_credentials_bind_idempotently_and_only_within_the_company(world):
    ids = world.ids
    base = f"/api/v1/run-templates/{ids['rt_a']}/credentials"
    assert world.call("alice", "DELETE", f"{base}/{ids['credential_a']}").status_code == 200
    assert world.call("alice", "GET", base).get_json()["total"] == 0
    for _ in range(2):
        bound = world.call("alice", "PUT", f"{base}/{ids['credential_a']}")
        assert bound.status_code == 200
        assert bound.get_json()["credential_ids"] == [ids["credential_a"]]
    assert world.call("root", "PUT", f"{base}/{ids['credential_b']}").status_code == 404


def test_activation_and_schedule_preview(world):
    path = f"/api/v1/run-templates/{world.ids['rt_a']}"
    assert world.call("alice", "POST", f"{path}/deactivate").get_json()["active"] is False
    world.call("alice", "PATCH", path, json={"interval_code": "h", "timezone": "UTC"})
    preview = world.call("bob", "GET", f"/api/v1/run-templates/{world.ids['rt_b']}/schedule")
    assert preview.status_code == 200 and preview.get_json()["occurrences"] == []
    hourly = world.call(
        "alice", "GET", f"{path}/schedule?count=3&after=2030-01-01T10:30:00Z"
    ).get_json()
    assert hourly["occurrences"] == [
        "2030-01-01T11:00:00Z",
        "2030-01-01T12:00:00Z",
        "2030-01-01T13:00:00Z",
    ]
    assert world.call("alice", "POST", f"{path}/activate").get_json()["active"] is True


def test_launch_now_answers_202_and_puts_the_job_on_the_queue(world):
    rt = world.ids["rt_a"]
    response = world.call(
        "amy",
        "POST",
        f"/api/v1/run-templates/{rt}/launch",
        json={"overrides": {"REPORT_NAME": "adhoc"}},
    )
    assert response.status_code == 202
    job = response.get_json()
    assert job["state"] == "queued" and job["schedule_type"] == "adhoc-api"
    assert job["launched_by"] == "amy"
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    client = redis.Redis.from_url(world.settings.redis_url)
    assert queue.rq_job_id(job["id"]) in Queue(job["queue"], connection=client).job_ids


def test_launch_later_is_scheduled_and_a_naive_time_is_refused(world):
    path = f"/api/v1/run-templates/{world.ids['rt_a']}/launch"
    later = world.call("alice", "POST", path, json={"at": "2031-05-01T08:00:00+02:00"})
    assert later.status_code == 202
    assert later.get_json()["state"] == "scheduled"
    assert later.get_json()["scheduled_at"] == "2031-05-01T06:00:00Z"
    naive = world.call("alice", "POST", path, json={"at": "2031-05-01T08:00:00"})
    assert naive.status_code == 422


def test_an_inactive_run_template_cannot_be_launched(world):
    rt = world.ids["rt_a"]
    world.call("alice", "POST", f"/api/v1/run-templates/{rt}/deactivate")
    before = world.call("alice", "GET", "/api/v1/jobs").get_json()["total"]
    response = world.call("alice", "POST", f"/api/v1/run-templates/{rt}/launch", json={})
    assert response.status_code == 409
    assert world.call("alice", "GET", "/api/v1/jobs").get_json()["total"] == before


def test_a_run_template_is_found_by_company_and_name(world):
    ids = world.ids
    found = world.call(
        "alice", "GET", f"/api/v1/run-templates?company_id={ids['company_a']}&name=probe alpha"
    ).get_json()
    assert [rt["id"] for rt in found["items"]] == [ids["rt_a"]]
    hidden = world.call("alice", "GET", "/api/v1/run-templates?name=probe beta").get_json()
    assert hidden["total"] == 0
    assert (
        world.call("root", "GET", "/api/v1/run-templates?name=probe beta").get_json()["items"][0][
            "id"
        ]
        == ids["rt_b"]
    )


def test_an_empty_interval_code_is_refused_with_422_and_changes_nothing(world):
    path = f"/api/v1/run-templates/{world.ids['rt_a']}"
    before = world.call("root", "GET", path).get_json()["interval_code"]
    for empty in ("", "   ", None):
        answer = world.call("root", "PATCH", path, json={"interval_code": empty})
        assert answer.status_code == 422, (empty, answer.get_json())
        assert answer.get_json()["errors"][0].startswith("interval_code: must not be empty")
    assert world.call("root", "GET", path).get_json()["interval_code"] == before
