"""status and queue: they answer from the database and say clearly when Redis is down."""

import json

import sqlalchemy as sa
from redis import Redis

from multiflexi.core.models import AuditEntry, Job
from multiflexi.database import tables as t


def test_status_with_redis_down_still_answers_and_says_why(cli):
    result = cli("--format", "json", "status")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["redis"] == "down"
    assert data["redis_error"].startswith("REDIS_URL: ")
    assert data["schema_state"] == "current"
    assert "REDIS_URL" in result.stderr
    assert data["versions"]["multiflexi-cli"]


def test_status_with_redis_up_counts_jobs_and_queues(live_cli, sleep_rt):
    live_cli.json("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    data = live_cli.json("status")
    assert data["redis"] == "up"
    assert data["jobs"] == {"queued": 1}
    assert data["queues"] == {"default": 1}


def test_queue_overview_with_redis_down(cli):
    result = cli("--format", "json", "queue", "overview")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["queues"] is None
    assert "not reachable" in data["redis_error"]


def test_queue_fix_redelivers_what_redis_lost(live_cli, live_env, sleep_rt):
    job_id = live_cli.json("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))["job_id"]
    overview = live_cli.json("queue", "overview")
    assert (overview["waiting_jobs"], overview["queues"]) == (1, {"default": 1})
    Redis.from_url(live_env["REDIS_URL"]).flushall()
    assert live_cli.json("queue", "fix") == {
        "redelivered": [job_id],
        "count": 1,
        "job_counts_corrected": [],
    }
    assert live_cli.json("queue", "fix") == {
        "redelivered": [],
        "count": 0,
        "job_counts_corrected": [],
    }
    assert [j["id"] for j in live_cli.json("queue", "list")] == [job_id]


def test_queue_fix_with_redis_down_is_one_line_exit_1(cli):
    result = cli("queue", "fix")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: REDIS_URL: Redis at 127.0.0.1:1 is not reachable")


def test_queue_fix_repairs_a_damaged_job_count_and_says_so(live_cli, session, sleep_rt):
    company_id = sleep_rt["company_id"]
    for _ in range(3):
        live_cli.json("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    session.execute(
        sa.update(t.job_counts)
        .where(t.job_counts.c.company_id == company_id)
        .values(total=t.job_counts.c.total + 1000)
    )
    session.commit()

    result = live_cli("--format", "json", "queue", "fix")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "redelivered": [],
        "count": 0,
        "job_counts_corrected": [{"company_id": company_id, "was": 1003, "now": 3}],
    }
    assert f"job count of company {company_id} corrected: 1003 job(s) -> 3" in result.stderr
    session.expire_all()
    real = session.scalar(
        sa.select(sa.func.count()).select_from(Job).where(Job.company_id == company_id)
    )
    stored = session.scalar(
        sa.select(t.job_counts.c.total).where(t.job_counts.c.company_id == company_id)
    )
    assert stored == real == 3
    assert session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action == "recount")
    ).all() == ["recount"]
    # repaired: a second run has nothing to correct
    assert live_cli.json("queue", "fix")["job_counts_corrected"] == []


def test_queue_fix_with_redis_down_does_not_touch_the_job_counts(cli, session, sleep_rt):
    session.execute(sa.update(t.job_counts).values(total=7))
    session.commit()
    assert cli("queue", "fix").exit_code == 1
    session.expire_all()
    assert session.scalars(sa.select(t.job_counts.c.total)).all() == [7]
