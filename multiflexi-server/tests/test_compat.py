"""The original API's paths and shapes (reference: upstream-cli-api.md section 2.7)."""

from __future__ import annotations

import redis
from rq import Queue

from multiflexi.core import queue

BASE = "/api/VitexSoftware/MultiFlexi/1.0.0"
APP_KEYS = {
    "id",
    "enabled",
    "image",
    "name",
    "description",
    "executable",
    "DatCreate",
    "DatUpdate",
    "setup",
    "cmdparams",
    "deploy",
    "homepage",
    "requirements",
    "ociimage",
    "version",
    "code",
    "uuid",
    "topics",
    "resultfile",
    "artifacts",
    "deffile",
    "helmchart",
    "environment",
    "exitCodes",
    "tags",
}
RUN_TEMPLATE_KEYS = {
    "id",
    "app_id",
    "company_id",
    "interv",
    "prepared",
    "success",
    "fail",
    "name",
    "delay",
    "executor",
    "active",
    "cron",
    "last_schedule",
    "next_schedule",
    "note",
    "DatCreate",
    "DatSave",
    "successfull_jobs_count",
    "failed_jobs_count",
}
JOB_KEYS = {
    "id",
    "app_id",
    "begin",
    "end",
    "company_id",
    "exitcode",
    "stdout",
    "stderr",
    "launched_by",
    "env",
    "command",
    "schedule",
    "executor",
    "runtemplate_id",
    "task_id",
    "app_version",
}
COMPANY_KEYS = {
    "id",
    "enabled",
    "settings",
    "logo",
    "name",
    "code",
    "ic",
    "DatCreate",
    "DatUpdate",
    "customer",
    "email",
}


def test_ping_is_open(world):
    response = world.client().get(f"{BASE}/ping.json")
    assert response.status_code == 200
    assert response.get_json() == {"ping": [{"ping": "pong"}]}


def test_other_paths_need_basic_or_a_token(world):
    assert world.client().get(f"{BASE}/apps.json").status_code == 401
    basic = world.client().get(f"{BASE}/apps.json", headers=world.basic("bob"))
    assert basic.status_code == 200


def test_apps_are_an_object_keyed_by_id_with_environment_and_exit_codes(world):
    apps = world.call("bob", "GET", f"{BASE}/apps.json").get_json()
    app_id = str(world.ids["application"])
    assert list(apps) == [app_id]
    assert set(apps[app_id]) == APP_KEYS
    one = world.call("bob", "GET", f"{BASE}/app/{app_id}.json").get_json()
    assert one["environment"]["REPORT_NAME"] == {
        "type": "string",
        "description": "name",
        "defval": "report",
        "required": False,
    }
    assert one["exitCodes"]["0"]["severity"] == "success"
    assert one["enabled"] is True and one["topics"] == "test"


def test_companies_are_an_array_of_visible_companies(world):
    companies = world.call("alice", "GET", f"{BASE}/companies.json").get_json()
    assert isinstance(companies, list)
    assert [c["code"] for c in companies] == ["alpha"]
    assert set(companies[0]) == COMPANY_KEYS


def test_run_templates_and_jobs_are_keyed_by_id_in_the_original_shape(world):
    ids = world.ids
    rts = world.call("bob", "GET", f"{BASE}/runtemplates.json").get_json()
    assert list(rts) == [str(ids["rt_b"])]
    rt = world.call("bob", "GET", f"{BASE}/runtemplate/{ids['rt_b']}.json").get_json()
    assert set(rt) == RUN_TEMPLATE_KEYS
    assert rt["active"] is True and rt["interv"] == "n"
    jobs = world.call("bob", "GET", f"{BASE}/jobs.json").get_json()
    assert sorted(jobs) == sorted([str(ids["job_b"]), str(ids["done_b"])])
    job = world.call("bob", "GET", f"{BASE}/job/{ids['done_b']}.json").get_json()
    assert set(job) == JOB_KEYS
    assert job["stdout"] == "first line\nsecond line\nthird line"
    assert job["exitcode"] == 0 and job["env"]["API_PASSWORD"] == "***"
    assert job["command"] == "/usr/bin/env"
    assert world.call("bob", "GET", f"{BASE}/job/{ids['done_a']}.json").status_code == 404


def test_status_has_the_original_members(world):
    status = world.call("root", "GET", f"{BASE}/status.json").get_json()["status"]
    assert {
        "version",
        "companies",
        "apps",
        "runtemplates",
        "credentials",
        "database",
        "daemon",
        "timestamp",
    } <= set(status)
    assert (status["companies"], status["runtemplates"], status["database"]) == (2, 2, "sqlite")


def test_post_job_launches_like_the_original(world):
    ids = world.ids
    response = world.call(
        "alice",
        "POST",
        f"{BASE}/job/",
        json={"runtemplate_id": ids["rt_a"], "scheduled": "now", "env": {"REPORT_NAME": "compat"}},
    )
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) == {"job_id", "runtemplate_id", "scheduled", "executor", "schedule_type"}
    client = redis.Redis.from_url(world.settings.redis_url)
    assert queue.rq_job_id(data["job_id"]) in Queue("default", connection=client).job_ids
    later = world.call(
        "alice",
        "POST",
        f"{BASE}/job/",
        json={"runtemplate_id": ids["rt_a"], "scheduled": "2031-01-02 03:04:05"},
    )
    assert later.get_json()["scheduled"] == "2031-01-02 03:04:05"


def test_a_refusal_reads_as_it_always_has(world):
    from multiflexi.core.errors import MissingRequired
    from multiflexi.server.compat import views

    with world.app.test_request_context(f"{BASE}/job/"):
        answer = views._core_error(MissingRequired("job not launched", ["API_TOKEN"]))
    body = answer.get_json()
    assert answer.status_code == 422
    assert body["detail"] == body["error"] == "job not launched: API_TOKEN: required"
    assert body["errors"] == ["API_TOKEN: required"] and body["missing"] == ["API_TOKEN"]
    assert "fields" not in body


def test_post_job_errors_keep_the_original_error_member(world):
    ids = world.ids
    missing = world.call("alice", "POST", f"{BASE}/job/", json={})
    assert missing.status_code == 400 and missing.get_json()["error"]
    bad_date = world.call(
        "alice",
        "POST",
        f"{BASE}/job/",
        json={"runtemplate_id": ids["rt_a"], "scheduled": "tomorrow"},
    )
    assert bad_date.status_code == 400
    assert (
        world.call("alice", "POST", f"{BASE}/job/", json={"runtemplate_id": 999}).status_code == 404
    )
    world.call("alice", "POST", f"/api/v1/run-templates/{ids['rt_a']}/deactivate")
    inactive = world.call("alice", "POST", f"{BASE}/job/", json={"runtemplate_id": ids["rt_a"]})
    assert inactive.status_code == 409 and "not active" in inactive.get_json()["error"]
    assert (
        world.call("bob", "POST", f"{BASE}/job/", json={"runtemplate_id": ids["rt_b"]}).status_code
        == 403
    )
