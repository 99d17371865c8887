"""The credential availability gate in the API: the on-demand check, and held jobs shown.

The check plug-in for the world's prototype ``probe_api`` is a real installed
distribution put on ``sys.path``; it answers ``unavailable`` and quotes the
credential's planted secret token, which no answer may show.
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import SECRETS
from redis import Redis

from multiflexi.core import audit, config, jobs, lifecycle
from multiflexi.core.testing import credential_check_plugin

PLUGIN_MODULE = "mf_api_gate_check"
PLUGIN_SOURCE = """
from multiflexi.core.availability import Availability


def check(request):
    token = request.values.get("PROBE_TOKEN", "")
    return Availability("unavailable", f"the probe API refused {token}", ttl=45)
"""


@pytest.fixture
def plugin(tmp_path):
    with credential_check_plugin(
        tmp_path / "plugins",
        "mf-api-gate",
        module=PLUGIN_MODULE,
        source=PLUGIN_SOURCE,
        prototype="probe_api",
    ):
        yield


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def _audit_actions(world, credential_id: int) -> list[tuple[str, str]]:
    engine = config.create_engine(world.settings.database_url)
    try:
        with config.session_factory(engine, world.settings)() as session:
            rows = audit.entries(session, entity_type="credential", entity_id=credential_id)
            return [(row.actor, row.action) for row in rows.items]
    finally:
        engine.dispose()


def test_a_manager_checks_a_credential_and_sees_the_state_never_the_value(world, plugin):
    credential = world.ids["credential_a"]
    response = world.call("amy", "POST", f"/api/v1/credentials/{credential}/check")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["credential_id"] == credential
    assert (body["state"], body["satisfied"], body["ttl"]) == ("unavailable", False, 45)
    assert body["message"] == "the probe API refused ***"
    assert dt.datetime.fromisoformat(body["checked_at"]).tzinfo is not None
    assert _leaks(response.get_data(as_text=True)) == []
    assert ("amy", "check") in _audit_actions(world, credential)


def test_without_a_plugin_a_complete_credential_is_unknown(world):
    credential = world.ids["credential_a"]
    body = world.call("alice", "POST", f"/api/v1/credentials/{credential}/check").get_json()
    assert (body["state"], body["satisfied"]) == ("unknown", True)
    assert body["message"] == "no availability check is installed for 'probe_api'"


def test_a_viewer_may_not_check_and_another_company_cannot_even_see_the_credential(world):
    ids = world.ids
    viewer = world.call("bob", "POST", f"/api/v1/credentials/{ids['credential_b']}/check")
    assert viewer.status_code == 403 and viewer.mimetype == "application/problem+json"
    outsider = world.call("alice", "POST", f"/api/v1/credentials/{ids['credential_b']}/check")
    assert outsider.status_code == 404
    assert "probe login beta" not in outsider.get_data(as_text=True)
    missing = world.call("root", "POST", "/api/v1/credentials/987654/check")
    assert missing.status_code == 404
    assert _audit_actions(world, ids["credential_b"]).count(("bob", "check")) == 0


def test_a_held_job_shows_why_and_when_in_the_api(world, plugin):
    settings = world.settings
    engine = config.create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url)
    try:
        with config.session_factory(engine, settings)() as session:
            job = jobs.launch(
                session, world.ids["rt_a"], actor=audit.Actor.system("tests"), redis=redis
            )
            started, _ = lifecycle.begin(
                session, job.id, worker="w", lease=dt.timedelta(seconds=30), redis=redis
            )
            assert started is lifecycle.Start.BLOCKED
    finally:
        redis.close()
        engine.dispose()
    reason = "credential 'probe login alpha' (probe_api): unavailable: the probe API refused ***"
    one = world.call("amy", "GET", f"/api/v1/jobs/{job.id}")
    data = one.get_json()
    assert (data["state"], data["block_reason"]) == ("scheduled", reason)
    blocked_at = dt.datetime.fromisoformat(data["blocked_at"])
    assert dt.datetime.fromisoformat(data["scheduled_at"]) == blocked_at + dt.timedelta(seconds=45)
    listed = world.call("amy", "GET", "/api/v1/jobs?state=scheduled").get_json()["items"]
    assert {j["id"]: j["block_reason"] for j in listed}[job.id] == reason
    output = world.call("amy", "GET", f"/api/v1/jobs/{job.id}/output").get_json()["items"]
    assert [(line["stream"], line["text"].startswith("blocked: " + reason)) for line in output] == [
        ("system", True)
    ]
    for response in (one, world.call("root", "GET", "/api/v1/jobs")):
        assert _leaks(response.get_data(as_text=True)) == []
