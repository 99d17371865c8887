"""The multiflexi-executor command: one-shot runs, and one clear line for what a user got wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from multiflexi.core.models import Job, JobOutputLine

SECRET = "s3cr3t-Pa55w0rd-XYZ"  # the API_TOKEN of every run template (conftest)


def command(environ, *args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "multiflexi.executor", *args],
        env={**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, **environ},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_template_prints_the_output_and_exits_with_the_jobs_code(environ, session, make_rt):
    rt = make_rt("probe.py", "--secret --stderr --exit 3")
    result = command(environ, "run-template", str(rt.id), "-E", "GREETING=from the command line")
    assert result.returncode == 3
    assert "greeting=from the command line" in result.stdout.splitlines()
    assert "token is *** ok" in result.stdout.splitlines()
    assert SECRET not in result.stdout + result.stderr
    assert "to stderr" in result.stderr
    job = session.scalar(sa.select(Job).where(Job.run_template_id == rt.id))
    assert (job.schedule_type, job.state, job.exit_code) == ("adhoc-cli", "failed", 3)
    # nothing is left in MULTIFLEXI_TMP: no work directory, no spare kept for a next job
    assert [p.name for p in Path(environ["MULTIFLEXI_TMP"]).iterdir() if p.name != ".private"] == []


def test_run_template_gives_up_with_124_after_its_timeout(environ, make_rt, session):
    rt = make_rt("probe.py", "--sleep 30")
    result = command(environ, "run-template", str(rt.id), "--timeout", "1")
    assert result.returncode == 124
    job = session.scalar(sa.select(Job).where(Job.run_template_id == rt.id))
    assert job.exit_code == 143 and job.exit_description.startswith("timed out after 1 s")


def test_run_template_masks_an_override_given_as_secret_and_waits_without_limit_on_0(
    environ, make_rt, session
):
    rt = make_rt("probe.py", "--sleep 0.2")  # prints GREETING
    once = "one-time-secret-greeting"
    result = command(
        environ, "run-template", str(rt.id), "-E", f"GREETING={once}", "--secret", "GREETING",
        "--timeout", "0",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "greeting=***" in result.stdout.splitlines()
    assert once not in result.stdout + result.stderr
    stored = " ".join(
        session.scalars(
            sa.select(JobOutputLine.text)
            .join(Job, Job.id == JobOutputLine.job_id)
            .where(Job.run_template_id == rt.id)
        )
    )
    assert "greeting=***" in stored and once not in stored
    typo = command(environ, "run-template", str(rt.id), "-E", "A=1", "--secret", "B")
    assert typo.returncode == 2 and "--secret B" in typo.stderr


def test_run_template_works_without_redis(environ, make_rt):
    rt = make_rt("probe.py")
    result = command({**environ, "REDIS_URL": "redis://127.0.0.1:1/0"}, "run-template", str(rt.id))
    assert result.returncode == 0, result.stderr


def test_bad_input_is_one_line_and_creates_no_job(environ, make_rt, session):
    rt = make_rt("probe.py")
    unknown = command(environ, "run-template", "999")
    assert (unknown.returncode, unknown.stderr) == (
        3,
        "multiflexi-executor: run template 999 not found\n",
    )
    bad = command(environ, "run-template", str(rt.id), "-E", "NOVALUE")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "KEY=VALUE" in bad.stderr
    assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_worker_refuses_to_start_with_a_wrong_setting_dead_redis_or_old_schema(environ, tmp_path):
    dead = command({**environ, "REDIS_URL": "redis://127.0.0.1:1/0"}, "worker", "--burst")
    assert dead.returncode == 1
    assert dead.stderr.startswith("multiflexi-executor: REDIS_URL: Redis at 127.0.0.1:1")
    assert dead.stderr.count("\n") == 1
    lease = command({**environ, "MULTIFLEXI_JOB_LEASE": "soon"}, "worker", "--burst")
    assert (lease.returncode, lease.stderr.count("\n")) == (1, 1)
    assert "MULTIFLEXI_JOB_LEASE" in lease.stderr
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    schema = command({**environ, "DATABASE_URL": f"sqlite:///{empty}"}, "worker", "--burst")
    assert (schema.returncode, schema.stderr.count("\n")) == (1, 1)
    assert "multiflexi-database upgrade" in schema.stderr
    assert "Traceback" not in dead.stderr + lease.stderr + schema.stderr


def test_worker_refuses_to_start_without_the_master_key_that_opens_the_database(environ, make_rt):
    make_rt("probe.py")  # its secret value is sealed: the database has encryption keys
    unset = {k: v for k, v in environ.items() if k != "ENCRYPTION_MASTER_KEY"}
    wrong_key = "another-master-key-0123456789-abcdefghij"
    for env in (unset, {**environ, "ENCRYPTION_MASTER_KEY": wrong_key}):
        result = command(env, "worker", "--burst")
        assert (result.returncode, result.stderr.count("\n")) == (1, 1), result.stderr
        assert result.stderr.startswith("multiflexi-executor: ENCRYPTION_MASTER_KEY: ")
        assert wrong_key not in result.stderr and "Traceback" not in result.stderr


def test_env_file_is_read(environ, tmp_path, make_rt):
    rt = make_rt("probe.py", "--exit 4")
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in environ.items()))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "multiflexi.executor",
            "--env-file",
            str(env_file),
            "run-template",
            str(rt.id),
        ],
        env={"PATH": os.environ["PATH"], "HOME": str(Path.home())},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 4, result.stderr


def test_worker_help_names_its_options(environ):
    result = command(environ, "worker", "--help")
    assert result.returncode == 0
    assert all(option in result.stdout for option in ("--queue", "--concurrency", "--burst"))


def test_a_quiet_worker_runs_jobs_without_a_line_per_job(environ, session, make_rt, redis):
    from multiflexi.core import audit, jobs

    rt = make_rt("probe.py")
    actor = audit.Actor("tester", source="test")
    first = jobs.launch(session, rt.id, actor=actor, redis=redis).id
    loud = command(environ, "worker", "--burst")
    assert loud.returncode == 0, loud.stderr
    assert f"job-{first}" in loud.stderr  # INFO, the default: a line for every job
    second = jobs.launch(session, rt.id, actor=actor, redis=redis).id
    quiet = command(environ, "worker", "--burst", "--quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert f"job-{second}" not in quiet.stderr and "Job OK" not in quiet.stderr
    session.expire_all()
    assert [session.get(Job, i).state for i in (first, second)] == ["success", "success"]
    wrong = command(environ, "worker", "--logging-level", "LOUD")
    assert wrong.returncode == 2 and "LOUD" in wrong.stderr
