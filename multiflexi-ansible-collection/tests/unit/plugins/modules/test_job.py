from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import (
    job,
    job_info,
    run_template_info,
)


@pytest.fixture
def world(server):
    server.add("/companies", slug="acme", name="ACME")
    server.add("/applications", uuid="u-1", name="app", fields=[{"name": "PASS", "secret": True}])
    server.add("/run-templates", company_id=1, application_id=2, name="Import", active=True)
    launched = []

    def launch(body, query):
        launched.append(body)
        item = server.add("/jobs", state="queued", run_template_id=3, exit_code=None, company_id=1)
        return 202, json.dumps(item)

    server.routes[("POST", "/run-templates/3/launch")] = launch
    server.launched = launched
    return server


def finishes_after(server, job_id, looks, state="success", exit_code=0):
    """The job ends after ``looks`` reads; its output has two lines."""
    seen = []

    def get(body, query):
        seen.append(1)
        item = server.store["/jobs"][job_id]
        if len(seen) >= looks:
            item.update(state=state, exit_code=exit_code)
        return 200, json.dumps(item)

    def output(body, query):
        after = int(query.get("after", 0))
        lines = [{"seq": 1, "text": "hello\n"}, {"seq": 2, "text": "done\n"}]
        items = [line for line in lines if line["seq"] > after]
        return 200, json.dumps(
            {"items": items, "next_after": items[-1]["seq"] if items else after, "finished": True}
        )

    server.routes[("GET", f"/jobs/{job_id}")] = get
    server.routes[("GET", f"/jobs/{job_id}/output")] = output


def test_a_launch_by_natural_key_waits_for_the_end_and_returns_the_output(run, world):
    finishes_after(world, 4, looks=2)
    result = run(
        job,
        run_template="Import",
        company="acme",
        env={"PASS": "pw", "N": "1"},
        wait=True,
        interval=0.01,
    )
    assert result["changed"] is True and result["id"] == 4
    assert result["state"] == "success" and result["exit_code"] == 0
    assert result["output"] == "hello\ndone"
    assert world.launched == [{"overrides": {"PASS": "pw", "N": "1"}, "secret_overrides": ["PASS"]}]


def test_each_run_launches_again_and_check_mode_launches_nothing(run, world):
    assert run(job, runtemplate_id=3, check=True)["changed"] is True
    assert world.launched == []
    first = run(job, runtemplate_id="3")
    second = run(job, runtemplate_id="3", scheduled="now")
    assert first["changed"] and second["changed"] and first["state"] == "queued"
    assert len(world.launched) == 2 and first["id"] != second["id"]


def test_a_wait_that_times_out_fails_naming_the_job_and_its_state(run, world):
    finishes_after(world, 4, looks=10**6)
    result = run(job, run_template="3", wait=True, timeout=0, expect_failure=True)
    assert result["msg"] == "job 4 did not end within 0 s: it is queued"
    assert result["id"] == 4 and result["state"] == "queued"


def test_an_unknown_run_template_fails_clearly(run, world):
    result = run(job, run_template="Nope", company="acme", expect_failure=True)
    assert result["msg"] == "run template Nope not found in company acme"
    assert run(job, run_template="99", expect_failure=True)["msg"] == "run template 99 not found"
    assert world.launched == []


def test_job_info_by_id_with_output_and_by_run_template(run, world):
    run(job, run_template="3")
    finishes_after(world, 4, looks=1)
    one = run(job_info, id=4, output=True)
    assert one["jobs"][0]["id"] == 4 and one["jobs"][0]["output"] == "hello\ndone"
    listed = run(job_info, run_template="Import", company="acme", state=["success"], limit=5)
    assert [j["id"] for j in listed["jobs"]] == [4]
    asked = [r for r in world.requests if r[1] == "/jobs"][-1]
    assert asked[0] == "GET"
    assert run(job_info, job_id=42)["jobs"] == []


def test_run_template_info_with_its_schedule(run, world):
    world.routes[("GET", "/run-templates/3/schedule")] = lambda body, query: (
        200,
        json.dumps({"run_template_id": 3, "schedule": "daily", "occurrences": ["2024-01-02"]}),
    )
    found = run(run_template_info, company="acme", name="Import")
    assert found["changed"] is False
    assert found["run_templates"][0]["id"] == 3
    assert found["run_templates"][0]["schedule"] == {
        "schedule": "daily",
        "occurrences": ["2024-01-02"],
    }
    assert (
        run(run_template_info, runtemplate_id=3, schedule_count=0)["run_templates"][0]["name"]
        == "Import"
    )
    assert run(run_template_info, company="acme", name="Other")["run_templates"] == []
