"""A SQLite file deleted or made read-only under a running server: writes are 503 with a
clear message, nothing is acknowledged that was not stored, /readyz says what is wrong."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import multiflexi.database as database
from multiflexi.core import audit, config, tokens, users
from multiflexi.server import create_app

NOBODY = 65534


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder that another user can reach (pytest's own are private to their owner)."""
    made = Path(tempfile.mkdtemp(prefix="multiflexi-faults-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def served(tmp_path, folder, redis_url):
    """A migrated SQLite file in a folder of its own, the app over it and an admin's token."""
    url = f"sqlite:///{folder / 'multiflexi.sqlite'}"
    database.upgrade(url)
    settings = config.load_settings(
        environ={
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "MULTIFLEXI_DATA_DIR": str(tmp_path),
            "MULTIFLEXI_TIMEZONE": "UTC",
        },
        env_file=os.devnull,
    )
    with config.one_session(settings) as session:
        system = audit.Actor.system("tests")
        user = users.create(session, "root", actor=system, password="x" * 12, is_admin=True)
        _token, plain = tokens.create(session, user.id, "t", actor=system)
    app = create_app(settings, config_overrides={"TESTING": True})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    assert (
        client.post("/api/v1/companies", json={"name": "Before"}, headers=headers).status_code
        == 201
    )
    return client, headers, folder / "multiflexi.sqlite"


def _company_names(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return [name for (name,) in db.execute("SELECT name FROM companies ORDER BY id")]


@contextlib.contextmanager
def unprivileged(folder: Path) -> Iterator[None]:
    """Act as a user to whom file modes apply (root writes to a read-only file)."""
    if os.geteuid() != 0:
        yield
        return
    for path in (folder, *folder.iterdir()):
        os.chown(path, NOBODY, NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


def test_a_deleted_database_file_refuses_writes_with_503_and_stores_nothing(served):
    client, headers, path = served
    path.unlink()
    answer = client.post("/api/v1/companies", json={"name": "Lost"}, headers=headers)
    assert answer.status_code == 503
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == "the database file cannot be opened; nothing was changed"
    # no new, empty database took its place
    assert not path.exists()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["checks"]["database"] == "failed", ready.get_json()
    assert not path.exists()


def test_a_read_only_database_refuses_writes_and_readyz_says_read_only(served):
    client, headers, path = served
    with unprivileged(path.parent):
        assert client.get("/readyz").get_json()["checks"]["database"] == "ok"
        path.chmod(0o444)
        answer = client.post("/api/v1/companies", json={"name": "Refused"}, headers=headers)
        assert answer.status_code == 503
        body = answer.get_json()
        assert (body["title"], body["detail"]) == (
            "Database is read-only",
            "the database is read-only; nothing was changed",
        )
        # reading still works
        listed = client.get("/api/v1/companies", headers=headers)
        assert listed.status_code == 200
        assert [c["name"] for c in listed.get_json()["items"]] == ["Before"]
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["database"] == "read-only"
        assert "read-only" in ready.get_json()["detail"]
        for made_by_sqlite in path.parent.iterdir():  # its -shm took the file's mode
            made_by_sqlite.chmod(0o644)
        assert client.get("/readyz").status_code == 200
        again = client.post("/api/v1/companies", json={"name": "After"}, headers=headers)
        assert again.status_code == 201
    assert _company_names(path) == ["Before", "After"]
