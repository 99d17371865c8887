"""The OpenAPI 3.1 document: generated from the routes, complete, browsable, and true.

The last test runs schemathesis against the app in-process (WSGI) with an
administrator's token: every operation gets generated input, and no answer may
be a 5xx or break the document (status codes, content types, schemas).
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from multiflexi.server.api import spec


def _document(world) -> dict:
    response = world.client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_document_is_openapi_3_1_and_needs_no_login(world):
    doc = _document(world)
    assert doc["openapi"] == "3.1.0"
    assert doc["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"bearer", "basic", "session"} <= set(doc["components"]["securitySchemes"])
    assert doc["paths"]["/api/v1/run-templates/{run_template_id}/launch"]["post"]["responses"][
        "202"
    ]


def test_the_document_passes_the_openapi_3_1_validator(world):
    from openapi_spec_validator import OpenAPIV31SpecValidator

    errors = [str(e.message) for e in OpenAPIV31SpecValidator(_document(world)).iter_errors()]
    assert errors == []


def test_every_route_of_the_api_is_in_the_document_and_nothing_else(world):
    doc = _document(world)
    documented = {(path, method.upper()) for path, item in doc["paths"].items() for method in item}
    routed = set()
    for rule in world.app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    assert len(documented) >= 70


def test_every_compat_route_is_registered_too(world):
    registered = {(op.path, op.method) for op in spec.operations("compat")}
    routed = set()
    for rule in world.app.url_map.iter_rules():
        if rule.rule.startswith("/api/VitexSoftware/"):
            path = re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert registered == routed


def test_only_the_listed_operations_are_public(world):
    public = {(op.method, op.path) for op in spec.operations() if op.public}
    assert public == {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/openapi.json"),
        ("GET", "/api/v1/docs"),
        ("GET", "/api/VitexSoftware/MultiFlexi/1.0.0/ping.json"),
    }


def test_the_browsable_page_renders_the_document_without_outside_scripts(world):
    response = world.client().get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'fetch("openapi.json")' in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+href=\"?https?:", page)


@pytest.fixture
def schema(world):
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    # the live stream waits for a job to end; tests/test_api_jobs.py covers it
    return loaded.exclude(path_regex=r"/output/stream$")


def test_generated_requests_never_get_a_5xx_nor_an_undocumented_answer(world, schema):
    token = world.tokens["root"]
    failures: list[str] = []
    checked = 0
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(
            max_examples=int(os.environ.get("MULTIFLEXI_TEST_EXAMPLES", "15")),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def run(case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
            case.validate_response(
                response,
                checks=[
                    status_code_conformance,
                    content_type_conformance,
                    response_schema_conformance,
                ],
            )

        run()
        checked += 1
    assert checked >= 70
    assert failures == []
