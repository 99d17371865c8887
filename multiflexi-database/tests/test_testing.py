"""The test-support helpers: a missing server skips, or fails when services are required."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from multiflexi.database.testing import (
    REQUIRE_SERVICES_VARIABLE,
    ServiceUnavailable,
    drop_database,
    new_database,
    unavailable,
)


def test_a_missing_server_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(REQUIRE_SERVICES_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="mariadbd not found"):
        unavailable("mariadbd not found")


def test_a_missing_server_fails_when_services_are_required(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(REQUIRE_SERVICES_VARIABLE, "1")
    with pytest.raises(ServiceUnavailable, match="mariadbd not found"):
        unavailable("mariadbd not found")


@pytest.mark.parametrize("server", ["postgresql_url", "mariadb_url"])
def test_new_database_gives_each_caller_an_empty_database_of_its_own(
    server: str, request: pytest.FixtureRequest
):
    server_url = request.getfixturevalue(server)
    first, second = new_database(server_url), new_database(server_url)
    try:
        assert make_url(first).database != make_url(second).database
        engine = create_engine(first)
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE only_here (id INTEGER PRIMARY KEY)"))
        engine.dispose()
        engine = create_engine(second)
        with engine.connect() as connection:
            assert inspect(connection).get_table_names() == []
        engine.dispose()
    finally:
        drop_database(first)
        drop_database(second)
