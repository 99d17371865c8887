"""Applications: import (JSON body or upload), natural-key lookup, update, export, delete."""

from __future__ import annotations

import io
import json

from helpers import manifest

NEW_UUID = "6f1c1a4e-0000-4000-8000-00000000a002"


def test_import_creates_then_updates_the_same_application(world):
    doc = manifest(name="Second", uuid=NEW_UUID)
    first = world.call("root", "POST", "/api/v1/applications", json=doc)
    assert first.status_code == 201
    app = first.get_json()["application"]
    assert first.get_json()["created"] is True
    assert first.headers["Location"].endswith(f"/applications/{app['id']}")
    again = world.call("root", "POST", "/api/v1/applications", json={**doc, "version": "2.0"})
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["application"]["id"] == app["id"]
    assert again.get_json()["application"]["version"] == "2.0"


def test_a_manifest_can_be_uploaded_as_a_file(world):
    data = json.dumps(manifest(name="Uploaded", uuid=NEW_UUID)).encode()
    response = world.call(
        "root",
        "POST",
        "/api/v1/applications",
        data={"manifest": (io.BytesIO(data), "uploaded.multiflexi.app.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert response.get_json()["application"]["name"] == "Uploaded"


def test_a_bad_manifest_is_422_and_imports_nothing(world):
    before = world.call("root", "GET", "/api/v1/applications").get_json()["total"]
    response = world.call("root", "POST", "/api/v1/applications", json={"name": "no executable"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]
    broken = world.call(
        "root", "POST", "/api/v1/applications", data="{not json", content_type="application/json"
    )
    assert broken.status_code == 400
    assert world.call("root", "GET", "/api/v1/applications").get_json()["total"] == before


def test_applications_are_found_by_uuid_and_name(world):
    ids = world.ids
    by_uuid = world.call("bob", "GET", f"/api/v1/applications?uuid={manifest()['uuid']}")
    assert [a["id"] for a in by_uuid.get_json()["items"]] == [ids["application"]]
    by_name = world.call("bob", "GET", "/api/v1/applications?name=Probe").get_json()
    assert by_name["total"] == 1 and by_name["items"][0]["uuid"] == manifest()["uuid"]
    missing = world.call("bob", "GET", f"/api/v1/applications?uuid={NEW_UUID}").get_json()
    assert missing == {"items": [], "total": 0, "limit": 100, "offset": 0}


def test_only_an_administrator_changes_applications(world):
    path = f"/api/v1/applications/{world.ids['application']}"
    assert world.call("alice", "PATCH", path, json={"title": "x"}).status_code == 403
    changed = world.call("root", "PATCH", path, json={"title": "Probe tool", "timeout": 30})
    assert changed.status_code == 200
    assert changed.get_json()["title"] == "Probe tool" and changed.get_json()["timeout"] == 30
    refused = world.call("root", "PATCH", path, json={"executable": "/bin/sh"})
    assert refused.status_code == 422
    assert world.call("root", "GET", path).get_json()["executable"] == "/usr/bin/env"


def test_export_returns_a_manifest_that_imports_again(world):
    path = f"/api/v1/applications/{world.ids['application']}/manifest"
    exported = world.call("alice", "GET", path)
    assert exported.status_code == 200
    doc = exported.get_json()
    assert doc["uuid"] == manifest()["uuid"]
    again = world.call("root", "POST", "/api/v1/applications", json=doc)
    assert again.status_code == 200 and again.get_json()["created"] is False


def test_an_application_in_use_is_deleted_only_with_force(world):
    path = f"/api/v1/applications/{world.ids['application']}"
    refused = world.call("root", "DELETE", path)
    assert refused.status_code == 409
    assert world.call("root", "GET", path).status_code == 200
    deleted = world.call("root", "DELETE", path + "?force=true")
    assert deleted.status_code == 200
    assert deleted.get_json()["removed_run_templates"] == 2
    assert world.call("root", "GET", path).status_code == 404


def test_a_field_secret_by_its_name_is_marked_secret_and_its_default_hidden(world):
    doc = manifest(name="Named", uuid=NEW_UUID)
    doc["environment"] = {
        **doc["environment"],
        "SERVICE_API_KEY": {"type": "string", "description": "typed text", "defval": "k-123456"},
    }
    created = world.call("root", "POST", "/api/v1/applications", json=doc).get_json()
    app_id = created["application"]["id"]
    shown = world.call("root", "GET", f"/api/v1/applications/{app_id}")
    fields = {f["name"]: f for f in shown.get_json()["fields"]}
    assert (fields["SERVICE_API_KEY"]["secret"], fields["SERVICE_API_KEY"]["default_value"]) == (
        True,
        "***",
    )
    assert (fields["REPORT_NAME"]["secret"], fields["REPORT_NAME"]["default_value"]) == (
        False,
        "report",
    )
    assert "k-123456" not in shown.get_data(as_text=True)


def test_a_uuid_not_in_rfc_4122_form_imports_with_a_warning_and_exports_unchanged(world):
    loose = "6ed1a4c5-d6d2-4b9c-b6e4-1z5a9f2b8c7d"
    response = world.call(
        "root", "POST", "/api/v1/applications", json=manifest(name="Loose", uuid=loose)
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (
        f"uuid: '{loose}' is not an RFC 4122 uuid (hex digits only); kept as given"
        in body["warnings"]
    )
    assert body["application"]["uuid"] == loose
    app_id = body["application"]["id"]
    exported = world.call("root", "GET", f"/api/v1/applications/{app_id}/manifest")
    assert exported.status_code == 200
    assert exported.get_json()["uuid"] == loose


def test_a_preview_says_whether_an_import_would_change_anything(world):
    url = "/api/v1/applications/preview"
    total = world.call("root", "GET", "/api/v1/applications").get_json()["total"]
    new = world.call("root", "POST", url, json=manifest(name="Previewed", uuid=NEW_UUID))
    assert new.status_code == 200
    answer = new.get_json()
    assert answer["manifest"]["name"] == "Previewed" and answer["manifest"]["tags"]
    assert answer["manifest"]["schemaVersion"]  # normalised to the current format
    del answer["manifest"]
    assert answer == {
        "application_id": None,
        "created": True,
        "changed": True,
        "warnings": ["topics: read as 'tags'"],
    }
    stored = world.call("root", "GET", f"/api/v1/applications/{world.ids['application']}/manifest")
    same = world.call("root", "POST", url, json=stored.get_json()).get_json()
    assert same["application_id"] == world.ids["application"]
    assert (same["created"], same["changed"]) == (False, False)
    assert same["manifest"] == stored.get_json()
    edited = world.call("root", "POST", url, json={**stored.get_json(), "version": "9.9"})
    assert edited.get_json()["changed"] is True
    assert world.call("root", "GET", "/api/v1/applications").get_json()["total"] == total
    assert world.call("bob", "POST", url, json=manifest()).status_code == 403
    assert world.call("root", "POST", url, json={"name": "x"}).status_code == 422
