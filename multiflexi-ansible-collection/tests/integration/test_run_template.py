from __future__ import annotations

import uuid

MANIFEST = {
    "name": "Ansible probe",
    "description": "Prints its environment",
    "executable": "/usr/bin/env",
    "version": "1.0.0",
    "environment": {
        "REPORT_NAME": {"type": "string", "description": "name", "required": True},
        "API_PASSWORD": {"type": "password", "description": "secret", "required": False},
    },
}
PASSWORD = "ansible-rt-secret-5521"


def test_a_run_template_as_code_and_a_job_that_runs(play, stack):
    app_uuid = str(uuid.uuid4())
    imported = stack.api("POST", "/applications", dict(MANIFEST, uuid=app_uuid))
    assert imported.get("created"), imported
    company = stack.api("POST", "/companies", {"name": "RT as code", "slug": "it-rt"})
    assert company.get("id"), company
    given = dict(slug="it-rt", app_uuid=app_uuid, api_password=PASSWORD)

    first = play("run_template.yml", **given)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.changed("Run template")
    rt_id = first.results["Run template"]["id"]
    rt = stack.api("GET", f"/run-templates/{rt_id}")
    assert rt["interval_code"] == "d" and rt["values"]["REPORT_NAME"] == "nightly"
    assert rt["values"]["API_PASSWORD"] == "***" and rt["max_attempts"] == 2
    actions = stack.api("GET", f"/run-templates/{rt_id}/actions")
    assert [a["action"] for a in actions["success"]] == ["reschedule"]
    found = first.results["Read back"]["run_templates"]
    assert [r["id"] for r in found] == [rt_id] and len(found[0]["schedule"]["occurrences"]) == 2
    assert PASSWORD not in first.stdout

    again = play("run_template.yml", **given)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]

    checked = play("run_template.yml", rt_interval="hourly", check=True, diff=True, **given)
    assert checked.results["Run template"]["diff"] == {
        "before": {"interval_code": "d"},
        "after": {"interval_code": "hourly"},
    }
    assert stack.api("GET", f"/run-templates/{rt_id}")["interval_code"] == "d"

    changed = play("run_template.yml", rt_interval="hourly", **given)
    assert changed.changed("Run template")
    assert stack.api("GET", f"/run-templates/{rt_id}")["interval_code"] == "h"

    launched = play("run_template.yml", rt_interval="hourly", launch=True, **given)
    assert launched.rc == 0, launched.stdout[-3000:]
    job = launched.results["Launch"]
    assert job["changed"] and job["state"] == "success" and job["exit_code"] == 0
    assert "REPORT_NAME=nightly" in job["output"] and "EXTRA_VALUE=one-time" in job["output"]
    assert PASSWORD not in launched.stdout
    assert job["id"] in [j["id"] for j in launched.results["Jobs"]["jobs"]]

    gone = play("run_template.yml", rt_state="absent", **given)
    assert gone.changed("Run template")
    assert stack.api("GET", f"/run-templates/{rt_id}")["status"] == 404
    assert not play("run_template.yml", rt_state="absent", **given).changed("Run template")
    stack.api("DELETE", f"/companies/{company['id']}")
