"""Ids too large for the database in a path: 404 from every route, never a 500."""

from __future__ import annotations

import re

import pytest

from multiflexi.core import ids
from multiflexi.server import openapi as spec

_INT_PARAM = re.compile(r"<int:([a-z_]+)>")
#: beyond 64 bits, and just beyond PostgreSQL's and MariaDB's INTEGER
NUMBERS = ("99999999999999999999", str(ids.MAX_ID + 1))


def _routes() -> list[tuple[str, str]]:
    """(method, full path rule) of every route with an id in its path (once the app exists)."""
    routes = []
    for op in spec.operations():
        if _INT_PARAM.search(op.rule):
            routes.append((op.method, op.prefix + op.rule))
    return routes


def test_the_routes_with_an_id_in_their_path_include_the_compat_layer(world):
    paths = [path for _, path in _routes()]
    assert len(paths) > 20
    assert any("/MultiFlexi/1.0.0/" in path for path in paths)


@pytest.mark.parametrize("number", NUMBERS)
def test_every_path_id_out_of_range_is_404(world, number):
    for method, rule in _routes():
        path = _INT_PARAM.sub(number, rule)
        path = path.replace("<name>", "COMPANY_PLAIN")
        response = world.call("root", method, path, json={})
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.mimetype == "application/problem+json"


def test_the_largest_id_reaches_the_view_and_is_simply_not_found(world):
    response = world.call("root", "GET", f"/api/v1/jobs/{ids.MAX_ID}")
    assert response.status_code == 404
    assert response.get_json()["kind"] == "not_found"


def test_an_id_out_of_range_in_a_query_or_a_body_is_refused_as_invalid(world):
    assert world.call("root", "GET", f"/api/v1/jobs?company_id={NUMBERS[0]}").status_code == 422
    compat = "/api/VitexSoftware/MultiFlexi/1.0.0/job/"
    response = world.call("root", "POST", compat, json={"runtemplate_id": int(NUMBERS[0])})
    assert 400 <= response.status_code < 500
