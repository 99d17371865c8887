"""Request limits: the body's size (413), the JSON's nesting (400), the size of environment
values (422), and the Allow header of a 405. Each refusal changes nothing."""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest

from multiflexi.core import config
from multiflexi.core.errors import ConfigurationError
from multiflexi.core.limits import MAX_VALUE_BYTES
from multiflexi.server import create_app
from multiflexi.server import openapi as spec
from multiflexi.server.limits import DEFAULT_MAX_BODY, MAX_JSON_DEPTH, json_depth, max_body

sys.path.insert(0, os.path.dirname(__file__))
from helpers import manifest

COMPAT = "/api/VitexSoftware/MultiFlexi/1.0.0"
TOO_LARGE = "x" * (MAX_VALUE_BYTES + 1)


def _deep(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def test_json_depth_counts_structure_not_text():
    assert json_depth(b'"[[[["') == 0
    assert json_depth(b'{"a": [1, {"b": "]]]}"}], "c": {}}') == 3
    assert json_depth(b'["\\"[", [[]]]') == 3
    assert json_depth(_deep(MAX_JSON_DEPTH)) == MAX_JSON_DEPTH


def test_the_body_limit_is_a_setting_with_a_default_that_fits_manifests():
    assert max_body({}) == DEFAULT_MAX_BODY
    assert max_body({"MULTIFLEXI_MAX_BODY": "64K"}) == 65536
    assert max_body({"MULTIFLEXI_MAX_BODY": "2097152"}) == 2 * 1024 * 1024
    for wrong in ("lots", "-5", "12", "1T"):
        with pytest.raises(ConfigurationError, match="MULTIFLEXI_MAX_BODY"):
            max_body({"MULTIFLEXI_MAX_BODY": wrong})


def test_a_body_over_the_limit_is_413_and_changes_nothing(world):
    world.call("root", "GET", "/api/v1/me")
    small = config.load_settings(
        environ={**world.settings.environ, "MULTIFLEXI_MAX_BODY": "4K"}, env_file=None
    )
    app = create_app(small, config_overrides={"TESTING": True})
    before = world.dump()
    answer = app.test_client().post(
        "/api/v1/companies",
        json={"name": "Big", "settings": {"note": "x" * 5000}},
        headers=world.headers("root"),
    )
    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == (
        "the request body is larger than 4096 bytes (MULTIFLEXI_MAX_BODY)"
    )
    assert world.dump() == before


def test_a_manifest_with_a_large_icon_fits_under_the_default_limit(world):
    # the largest real manifest (with its SVG icon) is 130 KB; this icon alone is 2 MiB
    icon = base64.b64encode(os.urandom(3 * 512 * 1024)).decode()
    document = {**manifest(), "image": f"data:image/png;base64,{icon}"}
    answer = world.call("root", "POST", "/api/v1/applications", json=document)
    assert answer.status_code in (200, 201), answer.get_json()
    assert len(json.dumps(document)) < DEFAULT_MAX_BODY


def _body_operations():
    return [op for op in spec.operations() if op.body is not None]


def test_json_nested_too_deep_is_400_everywhere_and_never_logged_as_an_error(world, caplog):
    world.call("root", "GET", "/api/v1/me")
    before = world.dump()
    deep = _deep(MAX_JSON_DEPTH + 1)
    targets = [(op.method, world.fill(op.path)) for op in _body_operations()]
    targets += [("POST", "/api/v1/auth/login"), ("POST", f"{COMPAT}/job/")]
    for method, path in targets:
        for body in (deep, b"[" * 100_000 + b"]" * 100_000):
            answer = world.call("root", method, path, data=body, content_type="application/json")
            assert answer.status_code == 400, (method, path)
            assert answer.get_json()["detail"] == (
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
            )
    # without credentials too: the login and the compatibility layer read no deep JSON
    answer = world.client().post("/api/v1/auth/login", data=deep, content_type="application/json")
    assert answer.status_code == 400
    assert world.dump() == before
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


def test_a_405_says_which_methods_are_allowed(world):
    answer = world.call("root", "PUT", "/api/v1/jobs")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "HEAD", "OPTIONS"}
    assert answer.mimetype == "application/problem+json"


def _refused_for_size(answer, name: str) -> None:
    assert answer.status_code == 422, answer.get_json()
    errors = answer.get_json()["errors"]
    assert (
        f"{name}: is {MAX_VALUE_BYTES + 1} bytes; a value may be at most {MAX_VALUE_BYTES} bytes"
        in " ".join(errors)
    )


def test_values_too_large_are_422_wherever_they_are_given(world):
    ids = world.ids
    world.call("root", "GET", "/api/v1/me")  # the token's last use is written once
    before = world.dump()
    rt, company = ids["rt_a"], ids["company_a"]
    _refused_for_size(
        world.call(
            "root",
            "PATCH",
            f"/api/v1/run-templates/{rt}/values",
            json={"values": {"REPORT_NAME": TOO_LARGE}},
        ),
        "REPORT_NAME",
    )
    _refused_for_size(
        world.call(
            "root",
            "PUT",
            f"/api/v1/companies/{company}/environment/BIG",
            json={"value": TOO_LARGE},
        ),
        "BIG",
    )
    _refused_for_size(
        world.call(
            "root",
            "PATCH",
            f"/api/v1/credentials/{ids['credential_a']}",
            json={"values": {"PROBE_TOKEN": TOO_LARGE}},
        ),
        "PROBE_TOKEN",
    )
    _refused_for_size(
        world.call(
            "root",
            "POST",
            f"/api/v1/run-templates/{rt}/launch",
            json={"overrides": {"NOTE": TOO_LARGE}},
        ),
        "NOTE",
    )
    _refused_for_size(
        world.call(
            "root",
            "POST",
            f"{COMPAT}/job/",
            data=json.dumps({"runtemplate_id": rt, "env": {"NOTE": TOO_LARGE}}),
            content_type="application/json",
        ),
        "NOTE",
    )
    assert world.dump() == before


def test_serve_names_a_wrong_body_limit_in_one_line(tmp_path, env_file, spawn):
    with env_file.open("a") as settings:
        settings.write("MULTIFLEXI_MAX_BODY=huge\n")
    serve = spawn("--env-file", str(env_file), "serve", "--port", "1")
    assert serve.popen.wait(timeout=30) == 1
    lines = serve.output().strip().splitlines()
    assert lines == [
        "multiflexi-server: MULTIFLEXI_MAX_BODY: 'huge' is not a size of at least 1024 bytes "
        "(write bytes, or 512K, 16M, 1G)"
    ]
