"""Credential prototypes over the API: the import preview (what an import would do)."""

from __future__ import annotations

URL = "/api/v1/credential-prototypes/preview"
NEW_UUID = "6f1c1a4e-0000-4000-8000-00000000c0de"


def test_a_preview_says_whether_an_import_would_change_anything(world):
    ids = world.ids
    total = world.call("root", "GET", "/api/v1/credential-prototypes").get_json()["total"]
    new = world.call(
        "root",
        "POST",
        URL,
        json={
            "uuid": NEW_UUID,
            "code": "previewed",
            "name": "Previewed",
            "version": "1.0",
            "fields": [{"keyword": "P_URL", "type": "url", "name": "URL", "required": "yes"}],
        },
    )
    assert new.status_code == 200, new.get_json()
    answer = new.get_json()
    assert answer["prototype"]["code"] == "previewed"
    assert answer["prototype"]["fields"][0]["required"] is True  # normalised as stored
    del answer["prototype"]
    assert answer == {
        "prototype_id": None,
        "created": True,
        "changed": True,
        "warnings": ["fields[0].required: 'yes' read as True"],
    }

    exported = f"/api/v1/credential-prototypes/{ids['prototype']}/document"
    stored = world.call("root", "GET", exported).get_json()
    same = world.call("root", "POST", URL, json=stored).get_json()
    assert same["prototype_id"] == ids["prototype"]
    assert (same["created"], same["changed"]) == (False, False)
    assert same["prototype"] == stored
    edited = world.call("root", "POST", URL, json={**stored, "version": "9.9"}).get_json()
    assert (edited["prototype_id"], edited["changed"]) == (ids["prototype"], True)

    # nothing was written, only an administrator may ask, and a bad document is refused
    assert world.call("root", "GET", "/api/v1/credential-prototypes").get_json()["total"] == total
    assert world.call("root", "GET", exported).get_json() == stored
    assert world.call("bob", "POST", URL, json=stored).status_code == 403
    assert world.call("root", "POST", URL, json={"code": "x"}).status_code == 422
