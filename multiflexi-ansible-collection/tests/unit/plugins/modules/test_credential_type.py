from __future__ import annotations

import json

from ansible_collections.multiflexi.multiflexi.plugins.modules import credential_type

UUID = "0b7c3a7e-6f0e-4c4a-9d0a-3a6c3c7b1e11"
SETTING = "Setting-Secret-3390"


def _field(keyword, **kw):
    return dict(
        dict(type="string", description=None, default=None, required=False, secret=False),
        keyword=keyword,
        **kw,
    )


def _setup(server):
    server.add("/companies", slug="acme", name="ACME")  # id 1
    server.add(
        "/credential-prototypes", code="abraflexi", uuid=UUID, fields=[_field("ABRAFLEXI_URL")]
    )  # id 2


def test_created_from_a_prototype_then_unchanged(run, server):
    _setup(server)
    args = dict(company="acme", name="AbraFlexi", prototype="abraflexi")
    first = run(credential_type, diff=True, **args)
    assert first["changed"] is True and first["id"] == 3
    assert server.writes() == [
        (
            "POST",
            "/credential-types",
            {"company_id": 1, "name": "AbraFlexi", "fields": [], "prototype_id": 2},
        )
    ]
    assert first["diff"]["before"] == {"state": "absent"}
    # the server shows the prototype's fields too
    server.store["/credential-types"][3]["fields"] = [_field("ABRAFLEXI_URL")]
    second = run(credential_type, **args)
    assert second["changed"] is False and len(server.writes()) == 1
    by_uuid = run(credential_type, company="1", name="AbraFlexi", prototype=UUID, fields=[])
    assert by_uuid["changed"] is False


def test_own_fields_compared_by_keyword_on_the_given_attributes(run, server):
    _setup(server)
    server.add(
        "/credential-types",
        company_id=1,
        name="API login",
        prototype_id=None,
        fields=[_field("API_USER", required=True), _field("API_PASSWORD", secret=True, default="***")],
        settings={},
    )  # id 3
    same = run(
        credential_type,
        company="acme",
        name="API login",
        fields=[
            {"keyword": "API_PASSWORD", "default": "whatever"},
            {"keyword": "API_USER", "required": True},
        ],
    )
    assert same["changed"] is False and same["id"] == 3 and server.writes() == []


def test_different_fields_fail_and_change_nothing(run, server):
    _setup(server)
    server.add(
        "/credential-types",
        company_id=1,
        name="API login",
        prototype_id=None,
        fields=[_field("API_USER", required=True)],
        settings={},
    )
    result = run(
        credential_type,
        expect_failure=True,
        company="acme",
        name="API login",
        fields=[{"keyword": "API_USER", "required": False}, {"keyword": "API_TOKEN"}],
    )
    assert "API cannot change a credential type" in result["msg"]
    assert result["differences"] == [
        "field API_USER: required is True, not False",
        "field API_TOKEN is missing",
    ]
    assert server.writes() == []


def test_settings_are_secret_and_compared_by_name(run, server):
    _setup(server)
    server.secrets["/credential-types"] = {"settings.*"}
    first = run(
        credential_type,
        diff=True,
        company="acme",
        name="Vault",
        fields=[{"keyword": "TOKEN", "secret": True}],
        settings={"VAULT_KEY": SETTING},
    )
    assert first["changed"] is True
    assert first["diff"]["after"]["settings"] == {"VAULT_KEY": "*** (new)"}
    assert SETTING not in json.dumps(first)
    assert server.writes()[0][2]["settings"] == {"VAULT_KEY": SETTING}
    server.store["/credential-types"][3]["fields"] = [_field("TOKEN", secret=True)]
    second = run(
        credential_type,
        company="acme",
        name="Vault",
        fields=[{"keyword": "TOKEN", "secret": True}],
        settings={"VAULT_KEY": "another"},
    )
    assert second["changed"] is False and len(server.writes()) == 1


def test_check_mode_writes_nothing(run, server):
    _setup(server)
    result = run(credential_type, check=True, company="acme", name="X", prototype="2")
    assert result["changed"] is True and server.writes() == []
    assert result["credential_type"]["prototype_id"] == 2


def test_absent_and_the_original_aliases(run, server):
    _setup(server)
    server.add("/credential-types", company_id=1, name="Old", prototype_id=2, fields=[])  # id 3
    gone = run(credential_type, credential_type_id=3, state="absent", diff=True)
    assert gone["changed"] is True
    assert server.writes() == [("DELETE", "/credential-types/3", None)]
    assert gone["diff"]["after"] == {"state": "absent"}
    again = run(credential_type, company_id="acme", name="Old", state="absent")
    assert again["changed"] is False
    created = run(credential_type, company_id="acme", name="New", class_name="abraflexi")
    assert created["changed"] is True and server.writes()[-1][2]["prototype_id"] == 2


def test_unknown_or_ambiguous_keys_fail_clearly(run, server):
    _setup(server)
    unknown = run(credential_type, expect_failure=True, company="acme", name="X", prototype="nope")
    assert "credential prototype nope not found" in unknown["msg"]
    server.add("/credential-types", company_id=1, name="Twice", fields=[])
    server.add("/credential-types", company_id=1, name="Twice", fields=[])
    twice = run(credential_type, expect_failure=True, company="acme", name="Twice")
    assert "more than one credential type" in twice["msg"] and "3, 4" in twice["msg"]
    nothing = run(credential_type, expect_failure=True, company="acme", name="None")
    assert "give its prototype or fields" in nothing["msg"]
    assert server.writes() == []
