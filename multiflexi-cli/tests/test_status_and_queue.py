"""status and queue: they answer from the database and say clearly when Redis is down."""

import json

from redis import Redis


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
    assert live_cli.json("queue", "fix") == {"redelivered": [job_id], "count": 1}
    assert live_cli.json("queue", "fix") == {"redelivered": [], "count": 0}
    assert [j["id"] for j in live_cli.json("queue", "list")] == [job_id]


def test_queue_fix_with_redis_down_is_one_line_exit_1(cli):
    result = cli("queue", "fix")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: REDIS_URL: Redis at 127.0.0.1:1 is not reachable")
