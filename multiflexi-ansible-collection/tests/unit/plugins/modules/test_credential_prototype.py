from __future__ import annotations

import json

from ansible_collections.multiflexi.multiflexi.plugins.modules import credential_prototype

UUID = "4a0f4c2e-0d3b-4f0e-9a4b-0f9f2c0d1e21"
DEFAULT = "Default-Secret-2207"


def _document(**changes):
    doc = {
        "uuid": UUID,
        "code": "probe_api",
        "name": "Probe API",
        "version": "1.0",
        "fields": [
            {"keyword": "PROBE_URL", "type": "url", "required": False},
            {"keyword": "PROBE_TOKEN", "type": "password", "default_value": DEFAULT},
        ],
    }
    doc.update(changes)
    return doc


def _serve(server):
    """Import (by uuid, then code), preview and export, as the API does."""
    store = server.store.setdefault("/credential-prototypes", {})
    documents = {}

    def match(doc):
        for key in ("uuid", "code"):
            for item in store.values():
                if item[key] == doc.get(key):
                    return item
        return None

    def preview(body, query):
        item = match(body)
        if item is None:
            return 200, json.dumps(
                dict(prototype_id=None, created=True, changed=True, prototype=body, warnings=[])
            )
        changed = documents[item["id"]] != body
        return 200, json.dumps(
            dict(prototype_id=item["id"], created=False, changed=changed, prototype=body, warnings=[])
        )

    def import_(body, query):
        item = match(body)
        if item is None:
            item = server.add("/credential-prototypes", uuid=body["uuid"], code=body["code"])
        item.update(name=body["name"], version=body["version"])
        documents[item["id"]] = body
        routes(item["id"])
        return 201, json.dumps(dict(created=True, warnings=[], prototype=item))

    def routes(item_id):
        server.routes[("GET", f"/credential-prototypes/{item_id}/document")] = lambda b, q: (
            200,
            json.dumps(documents[item_id]),
        )

    server.routes[("POST", "/credential-prototypes/preview")] = preview
    server.routes[("POST", "/credential-prototypes")] = import_
    return documents


def _imports(server):
    return [w for w in server.writes() if w[1] == "/credential-prototypes"]


def test_imported_once_then_unchanged(run, server):
    _serve(server)
    first = run(credential_prototype, diff=True, content=_document())
    assert first["changed"] is True and first["id"] == 1
    assert len(_imports(server)) == 1
    assert first["diff"] == {
        "before": {"state": "absent"},
        "after": {
            "state": "present",
            "uuid": UUID,
            "code": "probe_api",
            "name": "Probe API",
            "version": "1.0",
        },
    }
    second = run(credential_prototype, content=_document())
    assert second["changed"] is False and len(_imports(server)) == 1
    assert second["prototype"]["code"] == "probe_api"


def test_a_change_is_imported_and_the_diff_never_shows_a_default(run, server):
    _serve(server)
    run(credential_prototype, content=_document())
    fields = _document()["fields"]
    fields[1] = dict(fields[1], default_value="Another-Default-1")
    changed = run(
        credential_prototype, diff=True, content=_document(version="1.1", fields=fields)
    )
    assert changed["changed"] is True and len(_imports(server)) == 2
    assert changed["diff"] == {
        "before": {"version": "1.0", "fields": {"PROBE_TOKEN": "present"}},
        "after": {"version": "1.1", "fields": {"PROBE_TOKEN": "changed"}},
    }
    assert DEFAULT not in json.dumps(changed["diff"])


def test_from_a_file_with_the_original_aliases(run, server, tmp_path):
    _serve(server)
    path = tmp_path / "probe.credprototype.json"
    path.write_text(json.dumps(_document()))
    first = run(credential_prototype, file=str(path))
    assert first["changed"] is True
    again = run(credential_prototype, prototype_id=1, file=str(path))
    assert again["changed"] is False
    found = run(credential_prototype, code="probe_api")
    assert found["changed"] is False and found["id"] == 1


def test_check_mode_writes_nothing(run, server):
    _serve(server)
    result = run(credential_prototype, check=True, diff=True, content=_document())
    assert result["changed"] is True and _imports(server) == []
    assert result["prototype"]["code"] == "probe_api" and result["id"] is None


def test_unknown_or_mismatched_prototype_fails_clearly(run, server, tmp_path):
    _serve(server)
    missing = run(credential_prototype, expect_failure=True, uuid=UUID)
    assert "not found: give its document" in missing["msg"]
    run(credential_prototype, content=_document())
    other = run(
        credential_prototype,
        expect_failure=True,
        id=1,
        content=_document(uuid="4a0f4c2e-0d3b-4f0e-9a4b-0f9f2c0d1e22", code="other"),
    )
    assert "not the one the options name" in other["msg"] and len(_imports(server)) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    notobject = run(credential_prototype, expect_failure=True, file=str(bad))
    assert "is not a JSON object" in notobject["msg"]
