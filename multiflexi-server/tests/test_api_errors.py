"""Bad input anywhere is a 4xx problem document, never a 5xx, and changes nothing."""

from __future__ import annotations

from multiflexi.server import openapi as spec

ODD_BODIES = ([], "text", 7, None, {"": None}, {"name": "\u0000"}, {"name": "\ud800"})


def test_odd_bodies_are_refused_with_a_problem_and_nothing_changes(world):
    world.call("root", "GET", "/api/v1/me")
    before = world.dump()
    tried = 0
    for op in spec.operations():
        if op.body is None:
            continue
        for body in ODD_BODIES:
            response = world.call("root", op.method, world.fill(op.path), json=body)
            assert 400 <= response.status_code < 500, (op.method, op.path, body)
            assert response.mimetype == "application/problem+json"
            tried += 1
        as_text = world.call(
            "root", op.method, world.fill(op.path), data="{}", content_type="text/plain"
        )
        assert as_text.status_code in (415, 422), (op.method, op.path)
    assert tried > 100
    assert world.dump() == before


def test_odd_query_values_are_refused(world):
    for query in (
        "limit=0",
        "limit=99999999999999999999",
        "offset=-1",
        "since=yesterday",
        "company_id=abc",
        "state=",
        "limit=%00",
    ):
        response = world.call("root", "GET", f"/api/v1/jobs?{query}")
        assert response.status_code == 422, query
        assert response.get_json()["errors"]


def test_a_date_time_is_iso_text_never_a_bare_number(world):
    """``format: date-time`` means ISO 8601 text: pydantic alone would read ``0`` or ``0.0``
    as seconds since 1970 and answer 200 (schemathesis found it)."""
    for path in ("/api/v1/audit", "/api/v1/jobs"):
        for since in ("0", "0.0", "1700000000", "-1e3"):
            response = world.call("root", "GET", f"{path}?since={since}")
            assert response.status_code == 422, (path, since)
            assert "ISO 8601" in response.get_data(as_text=True)
        assert world.call("root", "GET", f"{path}?since=2026-01-31T08:00:00Z").status_code == 200
    before = world.dump()
    for expires in (0, 1.5, "1700000000"):
        response = world.call(
            "root", "POST", "/api/v1/tokens", json={"name": "n", "expires_at": expires}
        )
        assert response.status_code == 422, expires
    assert world.dump() == before


def test_unknown_paths_and_methods_and_huge_ids_are_problems(world):
    for method, path, status in (
        ("GET", "/api/v1/nothing-here", 404),
        ("PUT", "/api/v1/jobs", 405),
        ("GET", "/api/v1/jobs/99999999999999999999", 404),
        ("GET", "/api/v1/companies/2147483648", 404),
    ):
        response = world.call("root", method, path)
        assert response.status_code == status, path
        assert response.mimetype == "application/problem+json"


def test_a_refusal_says_beside_which_request_field_each_problem_belongs(world):
    """``fields`` pairs each violation with its request field; ``errors`` keeps its lines."""
    world.call("root", "GET", "/api/v1/me")  # the token's first use is recorded
    before = world.dump()
    path = f"/api/v1/run-templates/{world.ids['rt_a']}"
    response = world.call("root", "PATCH", path, json={"interval_code": "c", "queue": "no spaces"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["detail"] == "run template not changed"
    queue = "must be 1-64 characters of letters, digits, '-', '_' or '.'"
    assert body["errors"] == ["cron: required when the interval is 'c' (custom)", f"queue: {queue}"]
    assert body["fields"] == [
        {"field": "cron", "message": "required when the interval is 'c' (custom)"},
        {"field": "queue", "message": queue},
    ]
    assert world.dump() == before


def test_a_request_that_does_not_match_its_schema_names_the_fields_too(world):
    response = world.call("root", "POST", "/api/v1/companies", json={"name": "x", "colour": 1})
    assert response.status_code == 422
    body = response.get_json()
    assert [f["field"] for f in body["fields"]] == ["colour"]
    assert body["errors"] == [f"colour: {body['fields'][0]['message']}"]
