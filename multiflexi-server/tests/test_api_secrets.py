"""No secret ever leaves the server in plain text: every response of a sweep is searched."""

from __future__ import annotations

from helpers import SECRETS

from multiflexi.server import openapi as spec


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def _sweep_reads(world, who: str) -> int:
    ids = world.ids
    seen = 0
    for company in ("a", "b"):
        for job in ("job", "done"):
            values = {
                "company_id": ids[f"company_{company}"],
                "run_template_id": ids[f"rt_{company}"],
                "credential_id": ids[f"credential_{company}"],
                "credential_type_id": ids[f"ctype_{company}"],
                "job_id": ids[f"{job}_{company}"],
                "task_id": ids[f"task_{company}"],
                "artifact_id": ids[f"artifact_{company}"],
                "application_id": ids["application"],
                "app_id": ids["application"],
                "prototype_id": ids["prototype"],
                "user_id": ids["root"],
                "token_id": ids["token_root"],
                "name": "COMPANY_SECRET",
            }
            for op in spec.operations():
                if op.method != "GET":
                    continue
                path = world.fill(op.path, values)
                if path.endswith("/output/stream"):
                    path += "?timeout=0.1"
                response = world.call(who, "GET", path)
                assert response.status_code < 500, path
                assert _leaks(response.get_data(as_text=True)) == [], path
                seen += 1
    return seen


def test_no_read_of_any_endpoint_shows_a_secret(world):
    assert _sweep_reads(world, "root") >= 100
    assert _sweep_reads(world, "alice") >= 100


def test_writes_answer_with_secrets_redacted(world):
    ids = world.ids
    rt = ids["rt_a"]
    answers = [
        world.call(
            "root",
            "PATCH",
            f"/api/v1/run-templates/{rt}/values",
            json={"values": {"API_PASSWORD": SECRETS["run_template_value"]}},
        ),
        world.call(
            "root",
            "PUT",
            f"/api/v1/companies/{ids['company_a']}/environment/TOKEN",
            json={"value": SECRETS["company_variable"], "secret": True},
        ),
        world.call(
            "root",
            "PATCH",
            f"/api/v1/credentials/{ids['credential_a']}",
            json={"values": {"PROBE_TOKEN": SECRETS["credential_value"]}},
        ),
        world.call(
            "root",
            "POST",
            f"/api/v1/run-templates/{rt}/launch",
            json={
                "overrides": {"X": SECRETS["override"]},
                "secret_overrides": ["X"],
                "at": "2099-01-01T00:00:00Z",
            },
        ),
        world.call(
            "root",
            "POST",
            "/api/v1/credential-types",
            json={
                "company_id": ids["company_a"],
                "name": "with a setting",
                "prototype_id": ids["prototype"],
                "settings": {"KEY": SECRETS["type_setting"]},
            },
        ),
        world.call(
            "root",
            "POST",
            "/api/v1/users",
            json={"login": "newbie", "password": SECRETS["password"]},
        ),
    ]
    for response in answers:
        assert response.status_code in (200, 201, 202), response.get_json()
        assert _leaks(response.get_data(as_text=True)) == []
    values = world.call("root", "GET", f"/api/v1/run-templates/{rt}").get_json()["values"]
    assert values == {"API_PASSWORD": "***", "REPORT_NAME": "weekly"}
    env = world.call("root", "GET", f"/api/v1/companies/{ids['company_a']}/environment")
    by_name = {v["name"]: v for v in env.get_json()["items"]}
    assert by_name["TOKEN"] == {"name": "TOKEN", "secret": True, "value": "***"}
    assert by_name["COMPANY_PLAIN"]["value"] == "visible"
    credential = world.call("root", "GET", f"/api/v1/credentials/{ids['credential_a']}")
    assert credential.get_json()["values"] == {"PROBE_TOKEN": "***", "PROBE_URL": "***"}
    assert _sweep_reads(world, "root") >= 100


def test_the_audit_log_names_changed_secrets_but_never_holds_them(world):
    world.call(
        "root",
        "PATCH",
        f"/api/v1/run-templates/{world.ids['rt_a']}/values",
        json={"values": {"API_PASSWORD": "PLANTED-run-template-value-91cc"}},
    )
    log = world.call("root", "GET", "/api/v1/audit?limit=1000")
    assert log.status_code == 200
    assert log.get_json()["total"] > 20
    assert _leaks(log.get_data(as_text=True)) == []
