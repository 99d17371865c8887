"""Bad input anywhere is a 4xx problem document, never a 5xx, and changes nothing."""

from __future__ import annotations

from multiflexi.server.api import spec

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
