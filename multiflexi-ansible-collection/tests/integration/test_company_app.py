from __future__ import annotations

import json

UUID = "5a0e3c1e-7d55-4b8e-9a41-2f0c7e1b9a22"
MANIFEST = {
    "uuid": UUID,
    "name": "Ansible assigned app",
    "description": "assigned by the collection's integration test",
    "executable": "/usr/bin/true",
    "environment": {},
}


def test_an_assignment_with_check_and_diff_modes(play, stack, tmp_path):
    path = tmp_path / "assigned.multiflexi.app.json"
    path.write_text(json.dumps(MANIFEST))
    args = dict(slug="it-company-app", manifest_path=str(path), app_uuid=UUID)

    first = play("company_app.yml", **args)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.changed("Assignment")
    result = first.results["Assignment"]
    company_id, app_id = result["company_id"], result["application_id"]
    rt = stack.api("GET", f"/run-templates/{result['run_template_id']}")
    assert (rt["company_id"], rt["application_id"]) == (company_id, app_id)
    query = f"company_id={company_id}&application_id={app_id}"
    assert stack.api("GET", f"/company-applications?{query}")["total"] == 1

    again = play("company_app.yml", **args)
    assert again.rc == 0 and again.stats["changed"] == 0
    assert again.results["Assignment"]["run_template_id"] == rt["id"]

    checked = play("company_app.yml", assignment_state="absent", check=True, diff=True, **args)
    assert checked.changed("Assignment")
    assert checked.results["Assignment"]["diff"]["after"] == {"state": "absent"}
    assert stack.api("GET", f"/company-applications?{query}")["total"] == 1

    gone = play("company_app.yml", assignment_state="absent", **args)
    assert gone.changed("Assignment")
    assert gone.results["Assignment"]["removed_run_templates"] == 1
    assert stack.api("GET", f"/company-applications?{query}")["total"] == 0
    assert stack.api("GET", f"/run-templates/{rt['id']}")["status"] == 404
    assert not play("company_app.yml", assignment_state="absent", **args).changed("Assignment")
