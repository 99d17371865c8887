"""Launching (run-template schedule), following, inspecting, cancelling and deleting jobs.

The executor is built in parallel by a colleague, so these tests play its part
themselves: they claim the job and finish it through multiflexi.core.jobs and
insert its output lines directly, as the executor will.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time

import pytest
from redis import Redis
from rq import Queue

from multiflexi.core import config, jobs, models
from multiflexi.core.testing import count

LEASE = dt.timedelta(seconds=60)


def play_executor(env, job_id, *, lines, exit_code, delay=0.3, exit_description=None):
    """Run a job as the executor would: claim, write output, finish (in a thread)."""

    def work():
        settings = config.load_settings(environ=env, env_file=os.devnull)
        engine = config.create_engine(settings.database_url)
        with config.session_factory(engine, settings)() as session:
            time.sleep(delay)
            deadline = time.monotonic() + 10
            while not jobs.claim(session, job_id, worker="test-executor", lease=LEASE):
                assert time.monotonic() < deadline, f"job {job_id} never became claimable"
                time.sleep(0.05)
            for seq, (stream, text) in enumerate(lines, start=1):
                session.add(models.JobOutputLine(job_id=job_id, seq=seq, stream=stream, text=text))
                session.commit()
                time.sleep(0.05)
            state = "success" if exit_code == 0 else "failed"
            jobs.finish(
                session, job_id, state, exit_code=exit_code, exit_description=exit_description
            )
        engine.dispose()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def next_job_id(session):
    return (session.query(models.Job.id).order_by(models.Job.id.desc()).limit(1).scalar() or 0) + 1


def test_schedule_answers_job_id_and_enqueues_it(live_cli, live_env, sleep_rt):
    data = live_cli.json("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    assert set(data) >= {"job_id", "runtemplate_id", "scheduled", "executor", "state"}
    assert data["state"] == "queued"
    redis = Redis.from_url(live_env["REDIS_URL"])
    assert [j.id for j in Queue("default", connection=redis).get_jobs()] == [
        f"job-{data['job_id']}"
    ]


def test_schedule_at_a_later_time_is_scheduled_not_queued(live_cli, sleep_rt):
    data = live_cli.json(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--at", "2099-01-01T08:00"
    )
    assert data["state"] == "scheduled"
    # a time without a zone is read in MULTIFLEXI_TIMEZONE (Europe/Prague, +01:00 in winter)
    assert data["scheduled"] == "2099-01-01T07:00:00+00:00"


def test_schedule_of_an_inactive_run_template_is_refused(live_cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    live_cli.json("run-template", "update", "--id", rt, "--active", "false")
    result = live_cli("run-template", "schedule", "--id", rt)
    assert result.exit_code == 1
    assert "not active" in result.stderr
    assert count(session, models.Job) == 0


def test_schedule_wait_streams_output_and_exits_with_the_jobs_code(
    live_cli, live_env, session, sleep_rt
):
    job_id = next_job_id(session)
    worker = play_executor(
        live_env,
        job_id,
        lines=[("stdout", "hello"), ("stderr", "careful"), ("stdout", "bye")],
        exit_code=7,
    )
    result = live_cli(
        "run-template:schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
    )
    worker.join(10)
    assert result.exit_code == 7
    assert result.stdout.splitlines() == ["hello", "bye"]
    assert "careful" in result.stderr


def test_schedule_wait_in_json_gives_one_object_with_the_output(
    live_cli, live_env, session, sleep_rt
):
    job_id = next_job_id(session)
    worker = play_executor(live_env, job_id, lines=[("stdout", "done")], exit_code=0)
    result = live_cli(
        "--format",
        "json",
        "run-template",
        "schedule",
        "--id",
        str(sleep_rt["rt_id"]),
        "--wait",
        "--timeout",
        "30",
    )
    worker.join(10)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["job_id"], data["state"], data["exitcode"]) == (job_id, "success", 0)
    assert [line["text"] for line in data["output"]] == ["done"]


def test_schedule_wait_times_out_with_124_and_the_job_keeps_going(live_cli, session, sleep_rt):
    result = live_cli(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "1"
    )
    assert result.exit_code == 124
    assert "did not finish within 1 s" in result.stderr
    assert [j.state for j in session.query(models.Job)] == ["queued"]


def test_job_get_has_state_exitcode_and_output(live_cli, live_env, session, sleep_rt):
    job_id = next_job_id(session)
    worker = play_executor(
        live_env, job_id, lines=[("stdout", "a"), ("stdout", "b")], exit_code=3, delay=0
    )
    live_cli(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
    )
    worker.join(10)
    data = live_cli.json("job", "get", "--id", str(job_id))
    assert (data["state"], data["exitcode"]) == ("failed", 3)
    assert data["stdout"] == "a\nb"
    assert [line["seq"] for line in data["output"]] == [1, 2]
    assert data["environment"]["NUMBER"] == "60"


def test_job_list_filters_by_state(live_cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    now_id = live_cli.json("run-template", "schedule", "--id", rt)["job_id"]
    later_id = live_cli.json("run-template", "schedule", "--id", rt, "--at", "+2h")["job_id"]
    assert [j["id"] for j in live_cli.json("job", "list")] == [later_id, now_id]
    assert [j["id"] for j in live_cli.json("job", "list", "--state", "scheduled")] == [later_id]
    assert [j["id"] for j in live_cli.json("job:list", "--status", "pending")] == [
        later_id,
        now_id,
    ]
    result = live_cli("job", "list", "--state", "sleeping")
    assert result.exit_code == 2  # a bad option value is a usage error
    assert "sleeping" in result.stderr
    several = live_cli.json("job", "list", "--state", "Scheduled,queued", "--state", "failed")
    assert [j["id"] for j in several] == [later_id, now_id]


def test_job_list_state_is_a_usage_error_listing_the_cores_states(cli):
    from multiflexi.core import jobs

    result = cli("--format", "json", "job", "list", "--state", "bogus")
    assert result.exit_code == 2
    error = json.loads(result.stderr)
    assert (error["kind"], error["exit_code"]) == ("usage", 2)
    assert all(f"'{state}'" in error["message"] for state in jobs.STATES)
    described = cli.json("describe")["commands"]["job list"]["parameters"]
    choices = next(p["choices"] for p in described if p["name"] == "state")
    assert choices[: len(jobs.STATES)] == list(jobs.STATES)


def test_cancel_then_delete(live_cli, session, sleep_rt):
    rt = str(sleep_rt["rt_id"])
    job_id = str(live_cli.json("run-template", "schedule", "--id", rt)["job_id"])
    refused = live_cli("job", "delete", "--id", job_id)
    assert refused.exit_code == 1
    assert "cancel it" in refused.stderr
    assert live_cli.json("job", "cancel", "--id", job_id)["state"] == "cancelled"
    again = live_cli("job", "cancel", "--id", job_id)
    assert again.exit_code == 1
    assert live_cli.json("job", "delete", "--id", job_id)["deleted"] is True
    assert count(session, models.Job) == 0
    assert live_cli("job", "get", "--id", job_id).exit_code == 3


def test_tail_prints_what_is_there_and_follow_waits_for_the_end(
    live_cli, live_env, session, sleep_rt
):
    job_id = next_job_id(session)
    worker = play_executor(
        live_env, job_id, lines=[("stdout", "x1"), ("stdout", "x2")], exit_code=0, delay=0.5
    )
    live_cli.json("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    followed = live_cli("job", "tail", "--id", str(job_id), "-f", "--timeout", "20")
    worker.join(10)
    assert followed.exit_code == 0
    assert followed.stdout.splitlines() == ["x1", "x2"]
    once = live_cli("job", "tail", "--id", str(job_id))
    assert once.stdout.splitlines() == ["x1", "x2"]


def test_prune_keeps_the_newest(live_cli, live_env, session, sleep_rt):
    for _ in range(3):
        job_id = next_job_id(session)
        worker = play_executor(live_env, job_id, lines=[("stdout", "l")], exit_code=0, delay=0)
        live_cli(
            "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
        )
        worker.join(10)
    dry = live_cli.json("prune", "--jobs", "--keep", "1", "--dry-run")
    assert dry == {"jobs_deleted": 2, "output_lines_deleted": 2, "dry_run": True}
    assert count(session, models.Job) == 3
    assert live_cli.json("prune", "--jobs", "--keep", "1")["jobs_deleted"] == 2
    assert count(session, models.Job) == 1
    assert live_cli("prune").exit_code == 2


@pytest.mark.parametrize("bad", ["tomorrow-ish", "2025-13-01"])
def test_a_bad_time_is_a_usage_error(live_cli, session, sleep_rt, bad):
    result = live_cli("run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--at", bad)
    assert result.exit_code == 2
    assert count(session, models.Job) == 0


def test_schedule_with_redis_down_records_the_job_warns_and_succeeds(cli, session, sleep_rt):
    result = cli("--format", "json", "run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    # the job exists and the scheduler delivers it: not a failure a script would retry
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["state"] == "queued"
    warning = result.stderr.strip()
    assert warning.startswith(f"warning: job {answer['job_id']} is recorded (queued)")
    assert "delivery is pending" in warning
    assert "REDIS_URL" in warning
    assert "when Redis is reachable again" in warning
    assert [(j.id, j.state) for j in session.query(models.Job)] == [(answer["job_id"], "queued")]


def test_schedule_with_redis_down_is_one_warning_line_on_stderr_in_a_table(cli, sleep_rt):
    result = cli("run-template", "schedule", "--id", str(sleep_rt["rt_id"]))
    assert result.exit_code == 0
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("warning: job ")
    assert "REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr
    assert "job_id" in result.stdout


def test_schedule_wait_with_redis_down_keeps_waiting_up_to_its_timeout(cli, session, sleep_rt):
    result = cli(
        "--format",
        "json",
        "run-template",
        "schedule",
        "--id",
        str(sleep_rt["rt_id"]),
        "--wait",
        "--timeout",
        "1",
    )
    assert result.exit_code == 124
    answer = json.loads(result.stdout)
    assert (answer["state"], answer["exitcode"], answer["timed_out"]) == ("queued", None, True)
    assert "delivery is pending" in result.stderr
    assert json.loads(result.stderr.splitlines()[-1])["kind"] == "timeout"
    assert count(session, models.Job) == 1


def test_schedule_wait_with_redis_down_follows_the_job_once_it_runs(env, cli, session, sleep_rt):
    job_id = next_job_id(session)
    # the scheduler's re-delivery, then a worker: played here through the database
    worker = play_executor(env, job_id, lines=[("stdout", "late but done")], exit_code=0)
    result = cli(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
    )
    worker.join(10)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == ["late but done"]
    assert "delivery is pending" in result.stderr
    assert count(session, models.Job) == 1


def test_schedule_for_later_needs_no_redis(cli, sleep_rt):
    result = cli(
        "--format",
        "json",
        "run-template",
        "schedule",
        "--id",
        str(sleep_rt["rt_id"]),
        "--at",
        "+2h",
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["state"] == "scheduled"
    assert result.stderr == ""


def test_schedule_wait_timeout_in_json_has_every_documented_key(live_cli, sleep_rt):
    result = live_cli(
        "--format",
        "json",
        "run-template",
        "schedule",
        "--id",
        str(sleep_rt["rt_id"]),
        "--wait",
        "--timeout",
        "1",
    )
    assert result.exit_code == 124
    data = json.loads(result.stdout)
    assert set(data) == {
        "job_id",
        "runtemplate_id",
        "scheduled",
        "executor",
        "state",
        "exitcode",
        "exit_description",
        "timed_out",
        "block_reason",
        "output",
    }
    assert (data["timed_out"], data["block_reason"]) == (True, None)


WHY = "command not found: sleepx (No such file or directory)"


def test_schedule_wait_and_tail_say_why_a_job_failed_to_start(
    live_cli, live_env, session, sleep_rt
):
    job_id = next_job_id(session)
    # a job whose command cannot start, recorded as the executor records it
    worker = play_executor(live_env, job_id, lines=[], exit_code=127, exit_description=WHY)
    result = live_cli(
        "run-template", "schedule", "--id", str(sleep_rt["rt_id"]), "--wait", "--timeout", "30"
    )
    worker.join(10)
    assert result.exit_code == 127
    assert f"job {job_id} failed (exit code 127): {WHY}" in result.stderr
    tail = live_cli("job", "tail", "--id", str(job_id))
    assert f"job {job_id} failed (exit code 127): {WHY}" in tail.stderr
    data = json.loads(live_cli("--format", "json", "job", "tail", "--id", str(job_id), "-f").stdout)
    assert (data["exitcode"], data["exit_description"]) == (127, WHY)
