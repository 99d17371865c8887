"""docker and podman back-ends, tested with a recording stand-in for the engine's CLI.

No container engine runs on the test machines, so a small script named
``docker``/``podman`` is put first on PATH: it records its arguments, the
mode and content of the env file it was given, then prints a line and exits
with the code the test asks for, as ``<engine> run`` passes on the container's.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from multiflexi.core import audit, jobs
from multiflexi.executor import runner

ACTOR = audit.Actor("tester", source="test")
SECRET = "s3cr3t-Pa55w0rd-XYZ"

STAND_IN = """#!/usr/bin/env python3
import json, os, stat, sys
args = sys.argv[1:]
record = {"argv": sys.argv, "environ": sorted(os.environ)}
if "--env-file" in args:
    path = args[args.index("--env-file") + 1]
    record["env_file"] = path
    record["mode"] = oct(stat.S_IMODE(os.stat(path).st_mode))
    record["content"] = open(path).read()
with open(os.environ.get("HOME") + "/record.json", "w") as handle:
    json.dump(record, handle)
print("container says hi", flush=True)
sys.exit(5)
"""


@pytest.fixture
def engine_on_path(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("docker", "podman"):
        path = bin_dir / name
        path.write_text(STAND_IN)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DB_PASSWORD", "worker-db-password")
    return tmp_path / "record.json"


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_container_run_gets_the_environment_through_a_private_env_file(
    engine, engine_on_path, context, session, make_rt, redis
):
    rt = make_rt(
        executable="/usr/bin/importer",
        args="--since {GREETING}",
        executor=engine,
        app_extra={"ociimage": "ghcr.io/acme/importer:1.2"},
        values={"GREETING": "yesterday"},
    )
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert (done.state, done.exit_code) == ("failed", 5)  # the container's exit code
    record = json.loads(engine_on_path.read_text())
    argv = record["argv"]
    assert Path(argv[0]).name == engine and argv[1:3] == ["run", "--rm"]
    assert argv[-4:] == ["ghcr.io/acme/importer:1.2", "/usr/bin/importer", "--since", "yesterday"]
    assert SECRET not in " ".join(argv)
    assert record["mode"] == "0o600"
    content = record["content"].splitlines()
    assert f"API_TOKEN={SECRET}" in content  # unquoted
    assert f"MULTIFLEXI_JOB_ID={job.id}" in content
    assert not any(line.startswith(("DB_PASSWORD=", "PATH=")) for line in content)
    assert "DB_PASSWORD" not in record["environ"]
    assert not os.path.exists(record["env_file"])  # deleted afterwards
    assert done.command[0] == engine


def test_an_application_without_an_image_cannot_run_in_a_container(
    engine_on_path, context, session, make_rt, redis
):
    rt = make_rt(executable="/usr/bin/importer", executor="docker")
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert done.state == "failed" and "has no OCI image" in done.exit_description
    assert not engine_on_path.exists()
