from __future__ import annotations

SLUG, CODE = "it-kinds", "it_kinds_api"
UUID = "5d1f6f0e-7a52-4c2b-9d1e-6b0e9a3c2f41"
NAMES = dict(slug=SLUG, code=CODE, uuid=UUID)


def _types(stack, company_id):
    items = stack.api("GET", f"/credential-types?company_id={company_id}")["items"]
    return {t["name"]: t for t in items}


def test_prototypes_and_types_as_code(play, stack):
    first = play("credential_kinds.yml", **NAMES)
    assert first.rc == 0, first.stdout[-3000:]
    for task in ("Prototype", "From the prototype", "Own fields"):
        assert first.changed(task), task
    prototype_id = first.results["Prototype"]["id"]
    assert stack.api("GET", f"/credential-prototypes/{prototype_id}")["code"] == CODE
    company_id = first.results["Company"]["id"]
    types = _types(stack, company_id)
    assert types["Kinds API"]["prototype_id"] == prototype_id
    assert [f["keyword"] for f in types["Kinds API"]["fields"]] == ["KINDS_URL", "KINDS_TOKEN"]
    login = {f["keyword"]: f for f in types["Kinds login"]["fields"]}
    assert login["KINDS_USER"]["required"] is True and login["KINDS_PASSWORD"]["secret"] is True

    again = play("credential_kinds.yml", **NAMES)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]

    checked = play("credential_kinds.yml", version="1.1", check=True, diff=True, **NAMES)
    assert checked.rc == 0 and checked.changed("Prototype")
    assert checked.results["Prototype"]["diff"] == {
        "before": {"version": "1.0"},
        "after": {"version": "1.1"},
    }
    assert stack.api("GET", f"/credential-prototypes/{prototype_id}")["version"] == "1.0"

    changed = play("credential_kinds.yml", version="1.1", **NAMES)
    assert changed.rc == 0 and changed.changed("Prototype")
    assert not changed.changed("From the prototype")
    assert stack.api("GET", f"/credential-prototypes/{prototype_id}")["version"] == "1.1"

    # the API cannot change a type: a different field list fails, naming the difference
    differs = play("credential_kinds.yml", version="1.1", user_required=False, **NAMES)
    assert differs.rc != 0
    assert "field KINDS_USER: required is True, not False" in differs.stdout
    assert _types(stack, company_id)["Kinds login"]["fields"] == types["Kinds login"]["fields"]

    gone = play("credential_kinds.yml", state="absent", **NAMES)
    assert gone.rc == 0 and gone.changed("From the prototype") and gone.changed("Own fields")
    assert _types(stack, company_id) == {}
    assert play("credential_kinds.yml", state="absent", **NAMES).stats["changed"] == 0
