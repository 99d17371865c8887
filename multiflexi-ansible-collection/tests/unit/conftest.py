"""Run the collection's modules in this process against a server played by a function.

The REST API itself is exercised by the integration tests (a real stack); here a
small in-memory server answers the modules' requests, so that the comparison logic,
check mode and diff mode are tested on every option without starting anything.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

COLLECTION = Path(__file__).resolve().parents[2]


def _collection_on_path() -> None:
    """Make ``ansible_collections.multiflexi.multiflexi`` importable from this folder."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="mf-collections-"))
    target = root / "ansible_collections" / "multiflexi"
    target.mkdir(parents=True)
    (target / "multiflexi").symlink_to(COLLECTION)
    sys.path.insert(0, str(root))


_collection_on_path()

from ansible.module_utils import basic  # noqa: E402

from ansible_collections.multiflexi.multiflexi.plugins.module_utils import api  # noqa: E402

REDACTED = "***"


class Exited(Exception):
    def __init__(self, result: dict, failed: bool) -> None:
        super().__init__(result.get("msg", ""))
        self.result = result
        self.failed = failed


class FakeServer:
    """Collections of objects under API paths; secrets given per collection come back redacted.

    ``GET /x?k=v`` lists the objects whose ``k`` equals ``v``; POST adds one with the
    next id; PATCH merges (maps key by key); DELETE removes. ``requests`` records every
    request (method, path, body) so a test can say what was sent.
    """

    def __init__(self) -> None:
        self.store: dict[str, dict[int, dict]] = {}
        self.secrets: dict[str, set[str]] = {}
        self.requests: list[tuple[str, str, object]] = []
        self.next_id = 1
        self.routes: dict[tuple[str, str], object] = {}

    def add(self, collection: str, **fields) -> dict:
        item = dict(fields, id=self.next_id)
        self.next_id += 1
        self.store.setdefault(collection, {})[item["id"]] = item
        return item

    def shown(self, collection: str, item: dict) -> dict:
        shown = copy.deepcopy(item)
        for dotted in self.secrets.get(collection, ()):
            keys = dotted.split(".")
            target = shown
            for key in keys[:-1]:
                target = target.get(key) or {}
            if keys[-1] == "*":
                for k in list(target):
                    target[k] = REDACTED
            elif target.get(keys[-1]) not in (None, ""):
                target[keys[-1]] = REDACTED
        return shown

    def writes(self) -> list[tuple[str, str, object]]:
        return [r for r in self.requests if r[0] != "GET"]

    def __call__(self, method, url, headers, body, timeout, validate_certs, auth):
        parts = urlsplit(url)
        assert parts.path.startswith("/api/v1/"), url
        path = parts.path[len("/api/v1") :]
        data = json.loads(body) if body else None
        self.requests.append((method, path, data))
        route = self.routes.get((method, path))
        if route is not None:
            return route(data, dict(parse_qsl(parts.query)))
        segments = path.strip("/").split("/")
        if segments[-1].isdigit():
            collection, item_id = "/" + "/".join(segments[:-1]), int(segments[-1])
        else:
            collection, item_id = path, None
        items = self.store.setdefault(collection, {})
        if item_id is None and method == "GET":
            query = dict(parse_qsl(parts.query))
            limit, offset = int(query.pop("limit", 100)), int(query.pop("offset", 0))
            found = [
                self.shown(collection, i)
                for i in items.values()
                if all(str(i.get(k)).lower() == v.lower() for k, v in query.items())
            ]
            page = found[offset : offset + limit]
            return 200, json.dumps(
                {"items": page, "total": len(found), "limit": limit, "offset": offset}
            )
        if item_id is None and method == "POST":
            item = self.add(collection, **data)
            return 201, json.dumps(self.shown(collection, item))
        if item_id not in items:
            return 404, json.dumps({"title": "Not found", "status": 404, "detail": "not found"})
        if method == "GET":
            return 200, json.dumps(self.shown(collection, items[item_id]))
        if method == "PATCH":
            _merge(items[item_id], data)
            return 200, json.dumps(self.shown(collection, items[item_id]))
        if method == "DELETE":
            del items[item_id]
            return 204, ""
        return 405, json.dumps({"title": "Method not allowed", "status": 405})


def _merge(target: dict, changes: dict) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def run(server, monkeypatch):
    """``run(module, **args)`` runs a module's main() and answers its result."""

    def exit_json(self, **result):
        raise Exited(result, failed=False)

    def fail_json(self, msg, **result):
        raise Exited(dict(result, msg=msg), failed=True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(api.MultiFlexiModule, "transport", server)
    for name in list(os.environ):
        if name.startswith("MULTIFLEXI_"):
            monkeypatch.delenv(name)

    def run_module(module, check=False, diff=False, expect_failure=False, **args):
        args = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
        args.setdefault("multiflexi_token", "test-token")
        with _module_args(args):
            try:
                module.main()
            except Exited as done:
                assert done.failed == expect_failure, done.result
                return done.result
        raise AssertionError("the module neither exited nor failed")

    return run_module


def _module_args(args: dict):
    try:
        from ansible.module_utils.testing import patch_module_args
    except ImportError:  # ansible-core before 2.19
        import contextlib

        from ansible.module_utils.common.text.converters import to_bytes

        @contextlib.contextmanager
        def patch_module_args(args):
            saved = basic._ANSIBLE_ARGS
            basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
            try:
                yield
            finally:
                basic._ANSIBLE_ARGS = saved

    return patch_module_args(args)
