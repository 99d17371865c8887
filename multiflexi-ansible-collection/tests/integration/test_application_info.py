from __future__ import annotations

UUID = "0c3e9b7a-41d2-4f55-8a0e-7b6d2c9f1a33"
TAG = "it-info-tag"
SECRET = "info-secret-default-77"

MANIFEST = {
    "uuid": UUID,
    "name": "Ansible info app",
    "description": "read by application_info",
    "executable": "/usr/bin/true",
    "version": "1.0",
    "tags": [TAG],
    "environment": {
        "INFO_TOKEN": {"type": "password", "description": "a secret", "defval": SECRET},
        "INFO_URL": {"type": "string", "description": "public", "defval": "https://x.example"},
    },
}


def test_applications_by_uuid_tag_id_and_all(play, stack):
    first = play("application_info.yml", manifest=MANIFEST, tag=TAG.upper())
    assert first.rc == 0, first.stdout[-3000:]
    app_id = first.results["Application"]["id"]
    by_uuid = first.results["By uuid"]["applications"]
    assert [a["id"] for a in by_uuid] == [app_id]
    fields = {f["name"]: f for f in by_uuid[0]["fields"]}
    assert fields["INFO_TOKEN"]["secret"] is True and fields["INFO_TOKEN"]["default_value"] == "***"
    assert fields["INFO_URL"]["default_value"] == "https://x.example"
    assert SECRET not in first.stdout
    assert [a["id"] for a in first.results["By tag"]["applications"]] == [app_id]
    assert first.results["By id"]["applications"] == []  # no app_id given: id 0
    everything = first.results["All"]["applications"]
    assert app_id in [a["id"] for a in everything]
    assert len(everything) == stack.api("GET", "/applications")["total"]
    assert first.stats["changed"] == 1  # only the import; the facts change nothing

    again = play("application_info.yml", manifest=MANIFEST, tag=TAG, app_id=app_id)
    assert again.rc == 0 and again.stats["changed"] == 0
    assert again.results["By id"]["applications"][0]["uuid"] == UUID
    stack.api("DELETE", f"/applications/{app_id}?force=true")
