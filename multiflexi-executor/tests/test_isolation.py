"""Jobs run as an unprivileged user: they cannot read or change what protects everyone else.

The worker is a real ``multiflexi-executor worker`` process started as root (this
machine's tests run as root; skipped elsewhere); its jobs run as ``nobody``. The
data directory is laid out as ``multiflexi up`` lays it out (mode 0700, the settings
file and the master key file mode 0600) and MULTIFLEXI_TMP is left at its default.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from multiflexi.core import audit, companies, config, jobs, runtemplates
from multiflexi.core.models import Application, ApplicationField, Job
from multiflexi.executor import jobuser
from multiflexi.executor.defaults import ExecutorSettings

ACTOR = audit.Actor("tester", source="test")
SCRIPTS = Path(__file__).parent / "scripts"
MASTER_KEY = "isolation-master-key-0123456789-abcdefghijklmn"
TOKEN = "holder-token-Zq81xW"
PYTHON = "/usr/bin/python3"  # this interpreter lives under /root, which nobody cannot enter
PROBES = [
    "read settings file",
    "change settings file",
    "read database",
    "change database",
    "read master key",
    "list data directory",
    "read worker environ",
    "read worker memory map",
    "signal worker",
    "list work directories",
    "create in MULTIFLEXI_TMP",
    "list other job's directory",
    "read other job's file",
    "create in other job's directory",
    "read other job's environ",
    "find other job's directory",
]

as_root = pytest.mark.skipif(
    os.geteuid() != 0 or not os.access(PYTHON, os.X_OK),
    reason="switching users needs root (and a system python3 the job user can run)",
)


@pytest.fixture
def installation(migrated, redis_url, redis):
    """A data directory as the stack makes it, in a place any user may pass through."""
    base = Path(tempfile.mkdtemp(prefix="mf-isolation-", dir="/tmp"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir(mode=0o700)
    database = data / "multiflexi.sqlite"
    shutil.copyfile(migrated, database)
    key_file = data / "master.key"
    key_file.write_text(MASTER_KEY + "\n")
    key_file.chmod(0o600)
    env_file = data / "multiflexi.env"
    env_file.write_text(
        f"DATABASE_URL=sqlite:///{database}\nREDIS_URL={redis_url}\n"
        f"ENCRYPTION_MASTER_KEY={MASTER_KEY}\nMULTIFLEXI_DATA_DIR={data}\n"
        "MULTIFLEXI_TIMEZONE=UTC\nMULTIFLEXI_JOB_LEASE=5\n"
    )
    env_file.chmod(0o600)
    meeting = base / "meeting"
    meeting.mkdir()
    meeting.chmod(0o1777)
    yield {
        "base": base,
        "data": data,
        "database": database,
        "key_file": key_file,
        "env_file": env_file,
        "meeting": meeting,
    }
    shutil.rmtree(base, ignore_errors=True)


def worker_environ(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MULTIFLEXI_", "DB_"))}
    env.pop("DATABASE_URL", None)
    env["ENCRYPTION_MASTER_KEY"] = MASTER_KEY  # in the worker's /proc/<pid>/environ too
    env.update(extra)
    return env


def run_worker(place, *args, timeout=120, **extra):
    command = [sys.executable, "-m", "multiflexi.executor", "--env-file", str(place["env_file"])]
    return subprocess.run(
        [*command, "worker", *args],
        env=worker_environ(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_template(session, script, *args, token=None):
    app = Application(
        name=f"iso-{time.monotonic_ns()}",
        executable=PYTHON,
        cmdparams=" ".join([str(SCRIPTS / script), *map(str, args)]),
        version="1.0",
    )
    app.fields.append(ApplicationField(name="API_TOKEN", type="password", secret=True))
    session.add(app)
    session.commit()
    company = companies.create(session, name=f"Tenant {time.monotonic_ns()}", actor=ACTOR)
    values = {"API_TOKEN": token} if token else {}
    rt = runtemplates.create(session, company=company.id, app_id=app.id, actor=ACTOR, values=values)
    return rt.id


def output(session, job_id):
    return [line.text for line in jobs.output(session, job_id)]


@as_root
def test_a_job_cannot_read_or_change_what_protects_everyone_else(installation, redis):
    place = installation
    settings = config.load_settings(env_file=place["env_file"], environ={})
    nobody = pwd.getpwnam("nobody")
    with config.one_session(settings) as session:
        holder_rt = run_template(session, "isolation_holder.py", place["meeting"], token=TOKEN)
        probe_rt = run_template(
            session,
            "isolation_probe.py",
            place["meeting"],
            place["env_file"],
            place["database"],
            place["key_file"],
            place["data"],
        )
        holder = jobs.launch(session, holder_rt, actor=ACTOR, redis=redis).id
        probe = jobs.launch(session, probe_rt, actor=ACTOR, redis=redis).id

    done = run_worker(place, "--burst", "--concurrency", "2", MULTIFLEXI_JOB_USER="nobody")
    assert done.returncode == 0, done.stderr

    with config.one_session(settings) as session:
        probed, held = session.get(Job, probe), session.get(Job, holder)
        lines, held_lines = output(session, probe), output(session, holder)
        assert (probed.state, held.state) == ("success", "success"), (lines, held_lines)
    # every attempt was made, and every one failed
    attempts = [line for line in lines if line.startswith(("DENIED ", "ALLOWED "))]
    assert [a.split(" ", 1)[1].split(":")[0] for a in attempts] == PROBES, lines
    assert [a for a in attempts if a.startswith("ALLOWED")] == []
    assert "own work directory: writable" in lines
    assert not any(MASTER_KEY in line or TOKEN in line for line in lines)
    # both ran as nobody, in groups of their own (a group per worker process)
    probe_ids = next(line for line in lines if line.startswith("uid="))
    holder_ids = next(line for line in held_lines if line.startswith("uid="))
    assert probe_ids.startswith(f"uid={nobody.pw_uid} ")
    assert holder_ids.startswith(f"uid={nobody.pw_uid} ")
    assert probe_ids.split()[1] != holder_ids.split()[1]
    assert f"[{nobody.pw_gid}]" in probe_ids  # the job user's own group stays a supplementary one
    assert "own file still there: True" in held_lines
    # the files were there to be read (by the worker's user), and nothing was changed
    assert place["env_file"].read_text().count("changed by a job") == 0
    assert MASTER_KEY in place["key_file"].read_text()
    tmp = Path(settings.tmp_dir)
    assert tmp == place["base"] / "data-jobs"  # the default: beside the data directory
    assert stat.S_IMODE(tmp.stat().st_mode) == jobuser.TMP_MODE
    assert not (tmp / "dropped.txt").exists()
    assert "jobs run as nobody" in done.stderr


@as_root
def test_jobs_of_the_workers_own_user_are_said_once(installation, redis):
    """No switch (here: told so): one warning for the whole worker, whatever its processes."""
    done = run_worker(installation, "--burst", "--concurrency", "2", MULTIFLEXI_JOB_USER="root")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "the worker's own user" in line]
    assert len(warnings) == 1, done.stderr
    assert "a job can read what root can read" in warnings[0]


def test_an_ordinary_users_worker_runs_jobs_as_itself_and_says_so(settings):
    options = ExecutorSettings.from_environ({})
    user = jobuser.resolve(options, settings, euid=os.geteuid() or 65534)
    assert not user.switch
    assert user.note and "only a worker started as root can run them as another user" in user.note
    assert user.credentials(options.job_gid_base).prefix() == []


@as_root
@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ("unknown user", "MULTIFLEXI_JOB_USER: there is no user 'no-such-user-x'"),
        ("data directory open", "MULTIFLEXI_DATA_DIR:"),
        ("settings file readable", "MULTIFLEXI_ENV_FILE:"),
        ("job user owns the data", "MULTIFLEXI_JOB_USER: nobody owns the data directory"),
        ("work directories unreachable", "MULTIFLEXI_TMP: the job user nobody cannot reach"),
    ],
)
def test_a_job_user_that_could_reach_the_data_stops_the_start(installation, change, variable):
    place = installation
    extra = {"MULTIFLEXI_JOB_USER": "nobody"}
    if change == "unknown user":
        extra["MULTIFLEXI_JOB_USER"] = "no-such-user-x"
    elif change == "data directory open":
        place["data"].chmod(0o755)
    elif change == "settings file readable":  # as /etc/multiflexi/multiflexi.env, world-readable
        outside = place["base"] / "multiflexi.env"
        shutil.move(place["env_file"], outside)
        outside.chmod(0o644)
        place["env_file"] = outside
    elif change == "job user owns the data":
        os.chown(place["data"], pwd.getpwnam("nobody").pw_uid, -1)
    else:
        private = place["base"] / "private"
        private.mkdir(mode=0o700)
        extra["MULTIFLEXI_TMP"] = str(private / "jobs")
    done = run_worker(place, "--burst", timeout=60, **extra)
    assert done.returncode == 1
    assert variable in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


@as_root
@pytest.mark.parametrize("switch", ["setpriv", "python"])
def test_a_work_directory_is_the_workers_in_the_jobs_group(installation, redis, switch):
    """0770, owned by the worker, of the worker process's job group; a spare keeps it so.

    Without ``setpriv`` on the worker's PATH, Python's own ``user=`` switches (a fork).
    """
    place = installation
    settings = config.load_settings(
        env_file=place["env_file"], environ={"MULTIFLEXI_JOB_USER": "nobody"}
    )
    with config.one_session(settings) as session:
        rt = run_template(session, "probe.py", "--facts")
        ids = [jobs.launch(session, rt, actor=ACTOR, redis=redis).id for _ in range(2)]
    path = {"PATH": "/nonexistent"} if switch == "python" else {}
    done = run_worker(place, "--burst", MULTIFLEXI_JOB_USER="nobody", **path)
    assert done.returncode == 0, done.stderr
    with config.one_session(settings) as session:
        states = [session.get(Job, i).state for i in ids]
        assert states == ["success", "success"], [output(session, i) for i in ids]
        lines = output(session, ids[1])
    facts = json.loads(next(line for line in lines if line.startswith("{")))
    assert facts["cwd_mode"] == "0770" and facts["cwd_uid"] == 0
    assert facts["gid"] == facts["cwd_gid"] != pwd.getpwnam("nobody").pw_gid
    assert facts["umask"] == "0077"
    assert any(line.startswith("cwd=" + str(Path(settings.tmp_dir))) for line in lines)
