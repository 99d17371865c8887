"""Tenant isolation and read-only roles, proved over every operation of both APIs.

The sweeps iterate the operation registry (the same records the OpenAPI document
is made from), so a new endpoint is covered the day it is added: a write
operation without an example body below fails the sweep.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers import PASSWORD, manifest

from multiflexi.server import openapi as spec

COMPANY_SCOPED = (
    "company_id",
    "run_template_id",
    "credential_id",
    "credential_type_id",
    "job_id",
    "task_id",
)
#: login, logout: they change no data and need no authentication
NOT_SWEPT = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout")}


def bodies(ids: dict[str, int], company: str) -> dict[tuple[str, str], Any]:
    """A valid body for every operation that takes one, aimed at company ``company``."""
    c = company
    return {
        ("POST", "/api/v1/applications"): manifest(
            name="Intruder", uuid="6f1c1a4e-0000-4000-8000-00000000a0ff"
        ),
        ("POST", "/api/v1/applications/preview"): manifest(
            name="Intruder", uuid="6f1c1a4e-0000-4000-8000-00000000a0ff"
        ),
        ("PATCH", "/api/v1/applications/{application_id}"): {"title": "changed"},
        ("POST", "/api/v1/companies"): {"name": "Gamma"},
        ("PATCH", "/api/v1/companies/{company_id}"): {"name": "Renamed"},
        ("PUT", "/api/v1/companies/{company_id}/environment/{name}"): {"value": "changed"},
        ("PUT", "/api/v1/companies/{company_id}/users/{user_id}"): {"role": "admin"},
        ("POST", "/api/v1/run-templates"): {
            "company_id": ids[f"company_{c}"],
            "application_id": ids["application"],
            "name": "intruder",
            "active": False,
        },
        ("PATCH", "/api/v1/run-templates/{run_template_id}"): {"note": "changed"},
        ("PATCH", "/api/v1/run-templates/{run_template_id}/values"): {
            "values": {"REPORT_NAME": "changed"}
        },
        ("POST", "/api/v1/run-templates/{run_template_id}/launch"): {},
        ("PUT", "/api/v1/run-templates/{run_template_id}/actions"): {
            "success": [{"action": "reschedule", "options": {"delay": 60}}]
        },
        ("POST", "/api/v1/credentials"): {
            "company_id": ids[f"company_{c}"],
            "credential_type_id": ids[f"ctype_{c}"],
            "name": "intruder",
            "values": {"PROBE_URL": "https://intruder.example"},
        },
        ("PATCH", "/api/v1/credentials/{credential_id}"): {"name": "changed"},
        ("POST", "/api/v1/credential-types"): {
            "company_id": ids[f"company_{c}"],
            "name": "intruder",
            "prototype_id": ids["prototype"],
        },
        ("POST", "/api/v1/credential-prototypes"): {
            "uuid": "6f1c1a4e-0000-4000-8000-00000000c0ff",
            "code": "intruder",
            "name": "Intruder",
            "fields": [{"keyword": "X", "type": "string", "name": "X"}],
        },
        ("POST", "/api/v1/credential-prototypes/preview"): {
            "uuid": "6f1c1a4e-0000-4000-8000-00000000c0ff",
            "code": "intruder",
            "name": "Intruder",
            "fields": [{"keyword": "X", "type": "string", "name": "X"}],
        },
        ("POST", "/api/v1/users"): {"login": "eve", "password": PASSWORD},
        ("PATCH", "/api/v1/users/{user_id}"): {"email": "eve@example.com"},
        ("PUT", "/api/v1/users/{user_id}/password"): {"password": "an entirely new one"},
        ("POST", "/api/v1/tokens"): {"name": "stolen", "user_id": ids["brenda"]},
        ("POST", "/api/VitexSoftware/MultiFlexi/1.0.0/job/"): {"runtemplate_id": ids[f"rt_{c}"]},
    }


def params(ids: dict[str, int], company: str) -> dict[str, Any]:
    c = company
    return {
        "company_id": ids[f"company_{c}"],
        "run_template_id": ids[f"rt_{c}"],
        "credential_id": ids[f"credential_{c}"],
        "credential_type_id": ids[f"ctype_{c}"],
        "job_id": ids[f"job_{c}"],
        "task_id": ids[f"task_{c}"],
        "artifact_id": ids[f"artifact_{c}"],
        "application_id": ids["application"],
        "prototype_id": ids["prototype"],
        "user_id": ids["brenda"],
        "token_id": ids["token_brenda"],
        "name": "COMPANY_PLAIN",
        "app_id": ids["application"],
    }


def all_operations() -> list[spec.Operation]:
    ops = [op for op in spec.operations() if (op.method, op.path) not in NOT_SWEPT]
    assert len(ops) > 60
    return ops


def _request(world, who: str, op: spec.Operation, company: str, job: str = "job"):
    ids = world.ids
    values = params(ids, company)
    values["job_id"] = ids[f"{job}_{company}"]
    path = world.fill(op.path, values)
    body = bodies(ids, company).get((op.method, op.path))
    if op.method in ("POST", "PUT", "PATCH") and op.body is not None:
        assert body is not None, f"add an example body for {op.method} {op.path}"
    return world.call(who, op.method, path, json=body)


def test_a_user_of_company_a_gets_404_for_every_object_of_company_b(world):
    swept = 0
    world.call("alice", "GET", "/api/v1/me")  # token bookkeeping happens on first use
    before = world.dump()
    for op in all_operations():
        names = {name for name, _ in op.path_parameters()}
        body = bodies(world.ids, "b").get((op.method, op.path))
        aims_at_b = bool(names & set(COMPANY_SCOPED)) or (
            isinstance(body, dict) and ("company_id" in body or "runtemplate_id" in body)
        )
        if not aims_at_b:
            continue
        for job in ("job", "done"):
            response = _request(world, "alice", op, "b", job)
            assert response.status_code == 404, (op.method, op.path, response.get_json())
            assert response.mimetype == "application/problem+json"
            text = response.get_data(as_text=True)
            assert "beta" not in text and "probe login" not in text, (op.path, text)
        swept += 1
    assert swept >= 35
    assert world.dump() == before


def test_lists_show_a_user_only_the_companies_they_belong_to(world):
    ids = world.ids
    for path, key in (
        ("/api/v1/companies", "company_id"),
        ("/api/v1/run-templates", "company_id"),
        ("/api/v1/credentials", "company_id"),
        ("/api/v1/credential-types", "company_id"),
        ("/api/v1/jobs", "company_id"),
    ):
        items = world.call("alice", "GET", path).get_json()["items"]
        seen = {
            item.get(key, item.get("id")) if path != "/api/v1/companies" else item["id"]
            for item in items
        }
        assert seen == {ids["company_a"]}, path
        everything = world.call("root", "GET", path).get_json()["items"]
        assert len(everything) > len(items)
    b_filtered = world.call("alice", "GET", f"/api/v1/jobs?company_id={ids['company_b']}")
    assert b_filtered.get_json()["items"] == []
    slug = world.call("alice", "GET", "/api/v1/companies?slug=beta").get_json()
    assert slug["items"] == [] and slug["total"] == 0
    compat = world.call("alice", "GET", "/api/VitexSoftware/MultiFlexi/1.0.0/jobs.json").get_json()
    assert {job["company_id"] for job in compat.values()} == {ids["company_a"]}


def test_nobody_without_a_role_sees_no_company_object(world):
    for path in ("/api/v1/companies", "/api/v1/run-templates", "/api/v1/jobs"):
        assert world.call("nobody", "GET", path).get_json()["total"] == 0
    ids = world.ids
    assert world.call("nobody", "GET", f"/api/v1/jobs/{ids['job_a']}").status_code == 404


@pytest.mark.parametrize("who", ["bob", "amy"])
def test_a_viewer_or_manager_cannot_change_what_their_role_does_not_allow(world, who):
    """bob (viewer of B) may change nothing; amy (manager of A) nothing company-level,
    global or of other users. Each refusal is 403 or 404 and the database is unchanged."""
    company = "b" if who == "bob" else "a"
    manager_may = {
        ("PATCH", "/api/v1/run-templates/{run_template_id}"),
        ("DELETE", "/api/v1/run-templates/{run_template_id}"),
        ("PATCH", "/api/v1/run-templates/{run_template_id}/values"),
        ("PUT", "/api/v1/run-templates/{run_template_id}/credentials/{credential_id}"),
        ("DELETE", "/api/v1/run-templates/{run_template_id}/credentials/{credential_id}"),
        ("POST", "/api/v1/run-templates/{run_template_id}/activate"),
        ("POST", "/api/v1/run-templates/{run_template_id}/deactivate"),
        ("POST", "/api/v1/run-templates/{run_template_id}/launch"),
        ("PUT", "/api/v1/run-templates/{run_template_id}/actions"),
        ("POST", "/api/v1/run-templates"),
        ("POST", "/api/v1/credentials"),
        ("PATCH", "/api/v1/credentials/{credential_id}"),
        ("DELETE", "/api/v1/credentials/{credential_id}"),
        ("POST", "/api/v1/credentials/{credential_id}/check"),
        ("POST", "/api/v1/credential-types"),
        ("DELETE", "/api/v1/credential-types/{credential_type_id}"),
        ("POST", "/api/v1/jobs/{job_id}/cancel"),
        ("POST", "/api/VitexSoftware/MultiFlexi/1.0.0/job/"),
    }
    world.call(who, "GET", "/api/v1/me")  # token bookkeeping happens on first use
    before = world.dump()
    refused = 0
    for op in all_operations():
        if op.method == "GET":
            continue
        if who == "amy" and (op.method, op.path) in manager_may:
            continue
        response = _request(world, who, op, company)
        assert response.status_code in (403, 404), (op.method, op.path, response.get_json())
        assert response.mimetype == "application/problem+json"
        refused += 1
    assert refused >= (35 if who == "bob" else 19)
    assert world.dump() == before


def test_a_viewer_reads_everything_of_their_company(world):
    ids = world.ids
    for path in (
        f"/api/v1/companies/{ids['company_b']}",
        f"/api/v1/run-templates/{ids['rt_b']}",
        f"/api/v1/credentials/{ids['credential_b']}",
        f"/api/v1/jobs/{ids['done_b']}/output",
        f"/api/v1/jobs/{ids['done_b']}/artifacts/{ids['artifact_b']}",
    ):
        assert world.call("bob", "GET", path).status_code == 200, path
