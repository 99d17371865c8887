"""Fixtures: one throwaway server per backend for the whole session, a fresh database per test.

SQLite always runs. PostgreSQL and MariaDB run when their server programs are installed;
otherwise their tests are skipped with the reason, unless MULTIFLEXI_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from multiflexi.database.testing import (
    drop_database,
    mariadb_server,
    new_database,
    postgresql_server,
)

BACKENDS = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """The URL of a database on a throwaway PostgreSQL server (password-protected)."""
    with postgresql_server() as url:
        yield url


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """The URL of a database on a throwaway MariaDB server (password-protected)."""
    with mariadb_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, empty database on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'multiflexi.sqlite'}"
        return
    server = request.getfixturevalue(f"{request.param}_url")
    url = new_database(server)
    try:
        yield url
    finally:
        drop_database(url)
