from __future__ import annotations

import json

from ansible_collections.multiflexi.multiflexi.plugins.modules import credential

SECRET = "s3cret-Value-981"


def _setup(server):
    server.secrets["/credentials"] = {"values.*"}
    server.add("/companies", slug="acme", name="ACME")  # id 1
    server.add("/credential-types", company_id=1, name="Login")  # id 2


def test_created_then_unchanged_with_on_create(run, server):
    _setup(server)
    args = dict(
        company="acme",
        name="prod",
        credential_type="Login",
        values={"USER": "api", "PASSWORD": SECRET},
        update_secrets="on_create",
    )
    first = run(credential, diff=True, **args)
    assert first["changed"] is True and first["id"] == 3
    assert server.writes() == [
        (
            "POST",
            "/credentials",
            {
                "company_id": 1,
                "credential_type_id": 2,
                "name": "prod",
                "values": {"USER": "api", "PASSWORD": SECRET},
            },
        )
    ]
    assert first["credential"]["values"] == {"USER": "***", "PASSWORD": "***"}
    assert first["diff"]["after"]["values"] == {"USER": "*** (new)", "PASSWORD": "*** (new)"}
    assert SECRET not in json.dumps(first)

    second = run(credential, **args)
    assert second["changed"] is False and len(server.writes()) == 1


def test_always_resends_the_values_and_reports_changed(run, server):
    _setup(server)
    server.add(
        "/credentials", company_id=1, credential_type_id=2, name="prod", values={"PASSWORD": "old"}
    )
    result = run(credential, company="1", name="prod", values={"PASSWORD": SECRET}, diff=True)
    assert result["changed"] is True
    assert server.writes() == [("PATCH", "/credentials/3", {"values": {"PASSWORD": SECRET}})]
    assert result["diff"] == {
        "before": {"values": {"PASSWORD": "***"}},
        "after": {"values": {"PASSWORD": "*** (new)"}},
    }
    assert SECRET not in json.dumps(result)


def test_on_create_still_sets_a_value_the_credential_lacks(run, server):
    _setup(server)
    server.add(
        "/credentials", company_id=1, credential_type_id=2, name="prod", values={"USER": "a"}
    )
    result = run(
        credential,
        company="acme",
        name="prod",
        values={"USER": "b", "TOKEN": SECRET},
        update_secrets="on_create",
    )
    assert result["changed"] is True
    assert server.writes() == [("PATCH", "/credentials/3", {"values": {"TOKEN": SECRET}})]


def test_check_mode_writes_nothing(run, server):
    _setup(server)
    result = run(
        credential,
        check=True,
        diff=True,
        company="acme",
        name="new",
        credential_type="2",
        values={"PASSWORD": SECRET},
    )
    assert result["changed"] is True and server.writes() == []
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["values"] == {"PASSWORD": "*** (new)"}
    assert SECRET not in json.dumps(result)


def test_the_original_collections_names_are_accepted(run, server):
    _setup(server)
    server.add("/credentials", company_id=1, credential_type_id=2, name="prod", values={})
    result = run(credential, credential_id=3, company_id=1, credential_type_id=2, name="prod")
    assert result["changed"] is False and result["id"] == 3


def test_unknown_company_type_and_id_fail_clearly(run, server):
    _setup(server)
    assert run(credential, company="nope", name="x", expect_failure=True)["msg"] == (
        "company nope not found (give its id or slug)"
    )
    failed = run(credential, company="acme", name="x", credential_type="Nope", expect_failure=True)
    assert failed["msg"] == "credential type Nope not found in company 1"
    assert "credential 42 not found" in run(credential, id=42, expect_failure=True)["msg"]
    assert (
        "give its credential_type"
        in run(credential, company="acme", name="x", expect_failure=True)["msg"]
    )
    assert server.writes() == []


def test_a_type_name_shared_by_two_types_is_refused(run, server):
    _setup(server)
    server.add("/credential-types", company_id=1, name="Login")
    failed = run(credential, company="acme", name="x", credential_type="Login", expect_failure=True)
    assert "more than one credential type matches" in failed["msg"] and "2, 3" in failed["msg"]


def test_the_type_cannot_change(run, server):
    _setup(server)
    server.add("/credential-types", company_id=1, name="Other")  # 3
    server.add("/credentials", company_id=1, credential_type_id=2, name="prod", values={})
    failed = run(
        credential, company="acme", name="prod", credential_type="Other", expect_failure=True
    )
    assert "type cannot change" in failed["msg"] and server.writes() == []


def test_absent_deletes_once_and_a_credential_in_use_names_its_run_templates(run, server):
    _setup(server)
    server.add("/credentials", company_id=1, credential_type_id=2, name="prod", values={})
    server.add("/credentials", company_id=1, credential_type_id=2, name="used", values={})
    server.routes[("DELETE", "/credentials/4")] = lambda body, query: (
        409,
        json.dumps(
            {
                "title": "Conflict",
                "status": 409,
                "detail": "credential 4 (used) is used by run template 'nightly' (7);"
                " unbind it first",
            }
        ),
    )
    assert run(credential, company="acme", name="prod", state="absent")["changed"] is True
    assert run(credential, company="acme", name="prod", state="absent")["changed"] is False
    failed = run(credential, company="acme", name="used", state="absent", expect_failure=True)
    assert failed["status"] == 409 and "run template 'nightly' (7)" in failed["msg"]
