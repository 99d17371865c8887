from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import company_app

UUID = "97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95"


@pytest.fixture
def world(server):
    """ACME (1) and the probe application (2); PUT assigns with a default run template."""
    company = server.add("/companies", slug="acme", name="ACME")
    app = server.add("/applications", uuid=UUID, name="Probe")
    api_path = f"/companies/{company['id']}/applications/{app['id']}"

    def assign(body, query):
        server.add("/company-applications", company_id=company["id"], application_id=app["id"])
        rt = server.add("/run-templates", company_id=company["id"], application_id=app["id"])
        answer = dict(company_id=1, application_id=2, run_template_id=rt["id"], created=True)
        return 201, json.dumps(answer)

    def unassign(body, query):
        server.store["/company-applications"].clear()
        removed = len(server.store.get("/run-templates", {}))
        server.store.get("/run-templates", {}).clear()
        return 200, json.dumps({"id": app["id"], "removed_run_templates": removed})

    server.routes[("PUT", api_path)] = assign
    server.routes[("DELETE", api_path)] = unassign
    return company, app


def test_an_assignment_is_made_once_and_returns_its_run_template(run, server, world):
    first = run(company_app, company="acme", application_uuid=UUID)
    assert first["changed"] is True
    assert (first["company_id"], first["application_id"], first["run_template_id"]) == (1, 2, 4)
    assert server.writes() == [("PUT", "/companies/1/applications/2", None)]
    second = run(company_app, company="acme", application_uuid=UUID)
    assert second["changed"] is False and second["run_template_id"] == 4
    assert len(server.writes()) == 1


def test_check_mode_and_diff_say_what_would_happen(run, server, world):
    result = run(company_app, company="acme", application_name="Probe", check=True, diff=True)
    assert result["changed"] is True and result["run_template_id"] is None
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": {"company": "acme", "application": "Probe", "state": "present"},
    }
    assert server.writes() == []


def test_the_original_collections_names_are_accepted(run, server, world):
    assert run(company_app, company_id=1, app_id=2)["changed"] is True
    assert run(company_app, company_id=1, app_uuid=UUID)["changed"] is False


def test_absent_unassigns_once(run, server, world):
    run(company_app, company="acme", app_id=2)
    checked = run(company_app, company="acme", app_id=2, state="absent", check=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["after"] == {"state": "absent"}
    assert len(server.writes()) == 1
    gone = run(company_app, company="acme", app_id=2, state="absent")
    assert gone["changed"] is True and gone["removed_run_templates"] == 1
    assert run(company_app, company="acme", app_id=2, state="absent")["changed"] is False


def test_an_unknown_company_or_application_fails_clearly(run, server, world):
    result = run(company_app, company="nope", app_id=2, expect_failure=True)
    assert result["msg"] == "company nope not found"
    result = run(company_app, company="acme", app_uuid="nope", expect_failure=True)
    assert result["msg"] == "application nope not found"
    assert server.writes() == []


def test_an_ambiguous_application_name_fails_naming_the_ids(run, server, world):
    server.add("/applications", uuid="other", name="Probe")
    result = run(company_app, company="acme", application_name="Probe", expect_failure=True)
    assert result["msg"] == (
        "more than one application matches name=Probe: give its id (one of 2, 3)"
    )
