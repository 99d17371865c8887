from __future__ import annotations

import json

from ansible_collections.multiflexi.multiflexi.plugins.modules import company_env

SECRET = "s3cret-Env-4411"
ENV = "/companies/1/environment"


def _setup(server, *names):
    """Company 1 (acme) and the PUT/DELETE routes of its variables ``names``."""
    server.add("/companies", slug="acme", name="ACME")
    server.secrets[ENV] = set()
    variables = server.store.setdefault(ENV, {})

    def shown(var):
        return dict(var, value="***" if var["secret"] else var["value"])

    def routes(name):
        def put(body, query):
            found = [k for k, v in variables.items() if v["name"] == name]
            key = found[0] if found else 1000 + len(variables)
            variables[key] = dict(name=name, value=body["value"], secret=body.get("secret", False))
            return 200, json.dumps(shown(variables[key]))

        def delete(body, query):
            for key in [k for k, v in variables.items() if v["name"] == name]:
                del variables[key]
            return 204, ""

        server.routes[("PUT", f"{ENV}/{name}")] = put
        server.routes[("DELETE", f"{ENV}/{name}")] = delete

    for name in names:
        routes(name)
    original = server.shown
    server.shown = lambda collection, item: (
        shown(item) if collection == ENV else original(collection, item)
    )
    return variables


def test_created_then_unchanged(run, server):
    _setup(server, "URL")
    args = dict(company="acme", name="URL", value="https://x.example")
    first = run(company_env, diff=True, **args)
    assert first["changed"] is True
    assert server.writes() == [("PUT", f"{ENV}/URL", {"value": "https://x.example", "secret": False})]
    assert first["variable"] == {"name": "URL", "secret": False, "value": "https://x.example"}
    assert first["diff"]["before"] == {"state": "absent"}
    second = run(company_env, **args)
    assert second["changed"] is False and len(server.writes()) == 1
    changed = run(company_env, diff=True, company="1", name="URL", value="https://y.example")
    assert changed["diff"] == {
        "before": {"value": "https://x.example"},
        "after": {"value": "https://y.example"},
    }
    assert server.writes()[-1] == ("PUT", f"{ENV}/URL", {"value": "https://y.example", "secret": False})


def test_a_secret_with_on_create_is_set_once_and_never_shown(run, server):
    _setup(server, "PASSWORD")
    args = dict(company="acme", name="PASSWORD", value=SECRET, secret=True, update_secrets="on_create")
    first = run(company_env, diff=True, **args)
    assert first["changed"] is True
    assert first["variable"]["value"] == "***"
    assert first["diff"]["after"]["value"] == "*** (new)"
    assert SECRET not in json.dumps(first)
    second = run(company_env, **args)
    assert second["changed"] is False and len(server.writes()) == 1


def test_a_secret_with_always_is_resent(run, server):
    variables = _setup(server, "PASSWORD")
    variables[50] = dict(name="PASSWORD", value="old", secret=True)
    result = run(company_env, diff=True, company="acme", name="PASSWORD", value=SECRET)
    assert result["changed"] is True
    assert server.writes() == [("PUT", f"{ENV}/PASSWORD", {"value": SECRET, "secret": True})]
    assert result["diff"] == {"before": {"value": "***"}, "after": {"value": "*** (new)"}}
    assert SECRET not in json.dumps(result)


def test_making_a_public_variable_secret_resends_its_value(run, server):
    variables = _setup(server, "TOKEN")
    variables[50] = dict(name="TOKEN", value="abc", secret=False)
    result = run(company_env, diff=True, company="acme", name="TOKEN", secret=True)
    assert result["changed"] is True
    assert server.writes() == [("PUT", f"{ENV}/TOKEN", {"value": "abc", "secret": True})]
    assert result["diff"]["after"] == {"secret": True, "value": "*** (new)"}


def test_a_secret_cannot_become_public_without_its_value(run, server):
    variables = _setup(server, "TOKEN")
    variables[50] = dict(name="TOKEN", value="abc", secret=True)
    result = run(company_env, expect_failure=True, company="acme", name="TOKEN", secret=False)
    assert "give its value" in result["msg"] and server.writes() == []


def test_check_mode_writes_nothing(run, server):
    variables = _setup(server, "URL")
    result = run(company_env, check=True, diff=True, company="acme", name="URL", value="v")
    assert result["changed"] is True and server.writes() == []
    assert result["variable"] == {"name": "URL", "secret": False, "value": "v"}
    variables[50] = dict(name="URL", value="v", secret=False)
    gone = run(company_env, check=True, company="acme", name="URL", state="absent")
    assert gone["changed"] is True and server.writes() == []


def test_absent_removes_once(run, server):
    variables = _setup(server, "URL")
    variables[50] = dict(name="URL", value="v", secret=False)
    first = run(company_env, company_id="acme", name="URL", state="absent")
    assert first["changed"] is True and server.writes() == [("DELETE", f"{ENV}/URL", None)]
    assert run(company_env, company="acme", name="URL", state="absent")["changed"] is False


def test_unknown_company_or_missing_value_fails_clearly(run, server):
    _setup(server, "URL")
    unknown = run(company_env, expect_failure=True, company="nope", name="URL", value="v")
    assert "company nope not found" in unknown["msg"]
    novalue = run(company_env, expect_failure=True, company="acme", name="URL")
    assert "give its value" in novalue["msg"] and server.writes() == []
