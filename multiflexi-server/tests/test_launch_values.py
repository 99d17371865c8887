"""One-time launch values fill required fields (main API and the original's POST job/);
run template names per company and application; the assignment a creation makes."""

from __future__ import annotations

from helpers import MANIFEST, manifest

from multiflexi.core import jobenv, jobs, runtemplates

BASE = "/api/VitexSoftware/MultiFlexi/1.0.0"
TOKEN = "one-time-token-9b1e"


def require_token(world) -> None:
    """A newer Probe requires API_TOKEN and ERP_USER; the run templates have neither."""
    environment = {
        **MANIFEST["environment"],
        "API_TOKEN": {"type": "password", "required": True},
        "ERP_USER": {"type": "string", "required": True},
    }
    response = world.call(
        "root", "POST", "/api/v1/applications", json=manifest(environment=environment)
    )
    assert response.status_code in (200, 201), response.get_json()


def jobs_total(world) -> int:
    return world.call("root", "GET", "/api/v1/jobs").get_json()["total"]


def test_the_launch_gives_the_missing_required_values(world):
    require_token(world)
    rt = world.ids["rt_a"]
    path = f"/api/v1/run-templates/{rt}/launch"
    before = jobs_total(world)
    refused = world.call("amy", "POST", path, json={"overrides": {"ERP_USER": "clerk"}})
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["missing"] == ["API_TOKEN"]
    assert problem["errors"] == ["API_TOKEN: required"]
    assert jobs_total(world) == before
    launched = world.call(
        "amy", "POST", path, json={"overrides": {"ERP_USER": "clerk", "API_TOKEN": TOKEN}}
    )
    assert launched.status_code == 202, launched.get_json()
    assert TOKEN not in launched.get_data(as_text=True)
    with world.session() as session:
        job = jobs.get(session, launched.get_json()["id"])
        assert jobenv.overrides_of(session, job)[0]["API_TOKEN"] == TOKEN
        # for that job only: the run template still lacks it
        assert jobenv.missing_required(session, runtemplates.get(session, rt)) == [
            "API_TOKEN",
            "ERP_USER",
        ]


def test_post_job_of_the_original_gives_them_in_env(world):
    require_token(world)
    rt = world.ids["rt_a"]
    before = jobs_total(world)
    refused = world.call("alice", "POST", f"{BASE}/job/", json={"runtemplate_id": rt})
    assert refused.status_code == 422
    problem = refused.get_json()
    assert problem["missing"] == ["API_TOKEN", "ERP_USER"]
    assert "API_TOKEN: required" in problem["error"] and "ERP_USER: required" in problem["error"]
    assert jobs_total(world) == before
    launched = world.call(
        "alice",
        "POST",
        f"{BASE}/job/",
        json={"runtemplate_id": rt, "env": {"API_TOKEN": TOKEN, "ERP_USER": "clerk"}},
    )
    assert launched.status_code == 201, launched.get_json()
    assert jobs_total(world) == before + 1


def test_a_second_run_template_of_the_same_name_is_a_conflict(world):
    ids = world.ids
    body = {
        "company_id": ids["company_a"],
        "application_id": ids["application"],
        "name": "probe alpha",
    }
    response = world.call("alice", "POST", "/api/v1/run-templates", json=body)
    assert response.status_code == 409
    assert response.get_json()["detail"] == (
        f"run template 'probe alpha' of application Probe already exists in company alpha "
        f"(id {ids['rt_a']}); choose another name or change that one"
    )


def test_creation_says_when_it_assigned_the_application(world):
    ids = world.ids
    imported = world.call(
        "root",
        "POST",
        "/api/v1/applications",
        json=manifest(name="Other", uuid="6f1c1a4e-0000-4000-8000-00000000a002"),
    )
    app_id = imported.get_json()["application"]["id"]
    body = {"company_id": ids["company_a"], "application_id": app_id}
    first = world.call("alice", "POST", "/api/v1/run-templates", json=body)
    assert first.status_code == 201
    assert first.get_json()["assigned_application"] is True
    second = world.call("alice", "POST", "/api/v1/run-templates", json=body)
    assert (second.get_json()["assigned_application"], second.get_json()["name"]) == (
        False,
        "Other 2",
    )
    read = world.call("alice", "GET", f"/api/v1/run-templates/{first.get_json()['id']}")
    assert read.get_json()["assigned_application"] is False
