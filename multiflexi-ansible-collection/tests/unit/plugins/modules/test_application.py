from __future__ import annotations

import json

import pytest

from ansible_collections.multiflexi.multiflexi.plugins.modules import application

UUID = "97f30cf9-2d9e-4d91-ad65-9bdd8b4d8f95"
MANIFEST = {
    "uuid": UUID,
    "name": "Probe",
    "executable": "/usr/bin/probe",
    "version": "1.0",
    "environment": {"API_KEY": {"type": "password", "defaultValue": "s3cret-default"}},
}


@pytest.fixture
def apps(server):
    """The server's import and preview: an application's manifest is stored as given."""
    manifests: dict[int, dict] = {}

    def stored(document):
        for item in server.store.get("/applications", {}).values():
            if item["uuid"] == document.get("uuid") or item["name"] == document.get("name"):
                return item
        return None

    def preview(body, query):
        item = stored(body)
        changed = item is None or manifests.get(item["id"]) != body
        answer = {
            "application_id": item and item["id"],
            "created": item is None,
            "changed": changed,
            "manifest": body,
            "warnings": [],
        }
        return 200, json.dumps(answer)

    def import_(body, query):
        item = stored(body)
        if item is None:
            item = server.add("/applications", uuid=body["uuid"], name=body["name"], enabled=True)
        item.update(version=body.get("version"))
        manifests[item["id"]] = body
        answer = {"created": True, "warnings": [], "application": item}
        return 201, json.dumps(answer)

    def add(document):
        item = server.add("/applications", uuid=document["uuid"], name=document["name"])
        item["enabled"] = True
        manifests[item["id"]] = document
        server.routes[("GET", f"/applications/{item['id']}/manifest")] = lambda body, query: (
            200,
            json.dumps(manifests[item["id"]]),
        )
        return item

    server.routes[("POST", "/applications/preview")] = preview
    server.routes[("POST", "/applications")] = import_
    return add


def test_a_manifest_is_imported_once(run, server, apps, tmp_path):
    path = tmp_path / "probe.multiflexi.app.json"
    path.write_text(json.dumps(MANIFEST))
    first = run(application, manifest_file=str(path))
    assert first["changed"] is True and first["id"] == 1
    assert first["application"]["uuid"] == UUID
    assert [w[:2] for w in server.writes()] == [
        ("POST", "/applications/preview"),
        ("POST", "/applications"),
    ]
    second = run(application, manifest_file=str(path))
    assert second["changed"] is False
    assert [w[1] for w in server.writes()].count("/applications") == 1


def test_a_changed_manifest_is_imported_again_and_the_diff_hides_defaults(run, server, apps):
    apps(MANIFEST)
    edited = dict(MANIFEST, version="2.0")
    edited["environment"] = {"API_KEY": {"type": "password", "defaultValue": "other-secret"}}
    result = run(application, manifest=edited, diff=True)
    assert result["changed"] is True
    assert result["diff"] == {
        "before": {"environment": {"API_KEY": "present"}, "version": "1.0"},
        "after": {"environment": {"API_KEY": "changed"}, "version": "2.0"},
    }
    assert "secret" not in json.dumps(result)
    assert ("POST", "/applications", edited) in server.writes()


def test_check_mode_previews_and_writes_nothing(run, server, apps):
    result = run(application, manifest=MANIFEST, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"] == {"uuid": UUID, "name": "Probe", "state": "present"}
    assert [w[1] for w in server.writes()] == ["/applications/preview"]
    assert not server.store.get("/applications")


def test_the_manifest_may_be_json_text(run, server, apps):
    apps(MANIFEST)
    assert run(application, content=json.dumps(MANIFEST))["changed"] is False


def test_enabled_is_changed_without_a_manifest(run, server, apps):
    apps(MANIFEST)
    result = run(application, uuid=UUID, enabled=False, diff=True)
    assert result["changed"] is True
    assert server.writes() == [("PATCH", "/applications/1", {"enabled": False})]
    assert result["diff"] == {"before": {"enabled": True}, "after": {"enabled": False}}
    assert run(application, app_id=1, enabled=False)["changed"] is False


def test_absent_deletes_once_with_force_when_asked(run, server, apps):
    apps(MANIFEST)
    assert run(application, name="Probe", state="absent", check=True)["changed"] is True
    assert server.writes() == []
    asked = []

    def delete(body, query):
        asked.append(query)
        del server.store["/applications"][1]
        return 200, json.dumps({"id": 1, "removed_run_templates": 2})

    server.routes[("DELETE", "/applications/1")] = delete
    assert run(application, name="Probe", state="absent", force=True)["changed"] is True
    assert server.writes() == [("DELETE", "/applications/1", None)]
    assert asked == [{"force": "true"}]
    assert run(application, name="Probe", state="absent")["changed"] is False


def test_an_unknown_application_without_a_manifest_fails_clearly(run, server, apps):
    result = run(application, uuid="nope", enabled=True, expect_failure=True)
    assert result["msg"] == (
        "application nope not found: give its manifest (manifest_file) to import it"
    )


def test_an_unreadable_manifest_file_fails_clearly(run, server, apps, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    result = run(application, deffile=str(path), expect_failure=True)
    assert result["msg"].startswith(f"cannot read the manifest {path}:")
    assert server.requests == []


def test_a_manifest_of_another_application_than_the_id_is_refused(run, server, apps):
    apps(MANIFEST)
    other = apps(dict(MANIFEST, uuid="11111111-2222-4333-8444-555555555555", name="Other"))
    result = run(application, id=other["id"], manifest=MANIFEST, expect_failure=True)
    assert result["msg"] == "the manifest belongs to application 1, not to application 2"
    assert [w[1] for w in server.writes()] == ["/applications/preview"]
