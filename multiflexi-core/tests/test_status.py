"""The status summary: jobs by state, schema, and Redis reported (not raised) when down."""

import pytest
from redis import Redis

from multiflexi.core import audit, companies, jobs, runtemplates, status

ACTOR = audit.Actor("tester", source="test")


@pytest.fixture
def launched(session, app, redis_url):
    redis = Redis.from_url(redis_url)
    redis.flushall()
    company = companies.create(session, name="Acme", actor=ACTOR)
    rt = runtemplates.create(
        session,
        company=company.id,
        app_id=app.id,
        actor=ACTOR,
        values={"ENDPOINT": "https://x.example"},
    )
    made = [jobs.launch(session, rt.id, actor=ACTOR, redis=redis) for _ in range(3)]
    jobs.cancel(session, made[0].id, actor=ACTOR)
    return redis


def test_status_counts_jobs_and_queue_depth(session, launched):
    result = status.status(session, redis=launched)
    assert result.jobs == {"cancelled": 1, "queued": 2}
    assert result.queues == {"default": 3}  # RQ still holds the cancelled one; its claim fails
    assert result.workers == []
    assert result.redis_error is None
    assert result.versions["multiflexi-core"] is not None
    assert result.as_dict()["jobs"]["queued"] == 2


def test_status_reports_redis_down_instead_of_failing(session):
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    result = status.status(session, redis=dead)
    assert result.queues is None and result.workers is None
    assert result.redis_error.startswith("REDIS_URL:")
