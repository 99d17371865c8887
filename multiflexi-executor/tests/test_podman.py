"""The podman back-end against a real podman (Debian packages podman, runc, busybox-static).

No registry is reachable from the test machines, so the image is made here:
a root file system holding a static busybox, imported with ``podman import``.
podman keeps everything of these tests in a temporary folder of its own
(``CONTAINERS_STORAGE_CONF``: vfs storage, its own run root) and runs with a
configuration that works inside an unprivileged CI container
(``CONTAINERS_CONF``: runc with cgroupfs, no default ulimits, no network).
Those two variables reach podman through the worker's environment, as an
operator's own would; the job never sees them.

Skipped when podman cannot run a container here, unless
MULTIFLEXI_TEST_REQUIRE_SERVICES=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from multiflexi.core import audit, jobs
from multiflexi.core.models import JobOutputLine
from multiflexi.database.testing import unavailable
from multiflexi.executor import runner

ACTOR = audit.Actor("tester", source="test")
SECRET = "s3cr3t-Pa55w0rd-XYZ"
IMAGE = "localhost/multiflexi-test-busybox:1"
BUSYBOX = ("/bin/busybox", "/usr/bin/busybox")


def _podman(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _static_busybox() -> str | None:
    for path in BUSYBOX:
        if not os.path.exists(path):
            continue
        ldd = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
        if "not a dynamic executable" in ldd.stdout + ldd.stderr:
            return path
    return None


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    """Variables that point podman at a private store and a CI-friendly configuration."""
    if shutil.which("podman") is None:
        unavailable("podman is not installed (Debian package podman)")
    busybox = _static_busybox()
    if busybox is None:
        unavailable("no static busybox to build a test image from (Debian package busybox-static)")
    root = tmp_path_factory.mktemp("podman")
    runtime = 'runtime = "runc"\n' if shutil.which("runc") else ""
    (root / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = []\nnetns = "none"\n'
        f'[engine]\n{runtime}cgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    variables = {
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
    }
    env = {**os.environ, **variables}
    rootfs = root / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(busybox, rootfs / "bin" / "busybox")
    for tool in ("sh", "sleep", "touch", "echo"):
        (rootfs / "bin" / tool).symlink_to("busybox")
    tar = subprocess.run(
        ["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True
    ).stdout
    imported = subprocess.run(
        ["podman", "import", "-q", "-", IMAGE],
        env=env,
        input=tar,
        capture_output=True,
        timeout=120,
        check=False,
    )
    if imported.returncode != 0:
        unavailable(f"podman import failed: {imported.stderr.decode(errors='replace').strip()}")
    probe = _podman(env, "run", "--rm", IMAGE, "/bin/sh", "-c", "exit 3")
    if probe.returncode != 3:
        unavailable(f"podman cannot run a container here: {probe.stderr.strip()}")
    yield variables
    _podman(env, "rm", "-a", "-f")
    _podman(env, "system", "reset", "-f")


@pytest.fixture
def podman_env(podman, monkeypatch):
    for name, value in podman.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DB_PASSWORD", "worker-db-password")
    return {**os.environ}


def _lines(session, job_id: int) -> list[tuple[str, str]]:
    query = (
        sa.select(JobOutputLine.stream, JobOutputLine.text)
        .where(JobOutputLine.job_id == job_id)
        .order_by(JobOutputLine.seq)
    )
    return [(stream, text) for stream, text in session.execute(query)]


def _containers(env: dict[str, str]) -> list[str]:
    listed = _podman(env, "ps", "-a", "--format", "{{.Names}}")
    assert listed.returncode == 0, listed.stderr
    return [name for name in listed.stdout.split() if name.startswith("multiflexi-job-")]


def test_a_job_runs_in_a_real_podman_container(podman_env, context, session, make_rt, redis):
    script = (
        'echo "token=$API_TOKEN greeting=$GREETING job=$MULTIFLEXI_JOB_ID"; '
        'echo "db=${DB_PASSWORD:-none}"; echo oops >&2; touch made-in-container; exit 7'
    )
    rt = make_rt(
        executable="/bin/sh",
        args=f"-c '{script}'",
        executor="podman",
        app_extra={"ociimage": IMAGE},
        values={"GREETING": "good morning"},
    )
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    runner.run(context, job.id)
    done = jobs.get(session, job.id)
    session.refresh(done)

    assert (done.state, done.exit_code) == ("failed", 7)  # the container's own exit code
    lines = _lines(session, job.id)
    # the env file carried the values (unquoted, a space in one); the secret comes back masked
    assert ("stdout", f"token=*** greeting=good morning job={job.id}") in lines
    assert ("stdout", "db=none") in lines  # the worker's variables stay outside
    assert ("stderr", "oops") in lines
    stored = " ".join(t for _, t in lines)
    assert SECRET not in stored
    assert SECRET not in " ".join(done.command)
    assert done.command[:3] == ["podman", "run", "--rm"]
    assert not _containers(podman_env)  # --rm removed it
    private = Path(context.settings.tmp_dir) / ".private"
    assert not list(private.glob("*.env"))  # the env file is gone


def test_a_timed_out_container_is_stopped_and_removed(podman_env, context, session, make_rt, redis):
    # busybox sh as the container's pid 1 ignores SIGTERM: only the kill and `podman rm -f` end it
    rt = make_rt(
        executable="/bin/sh",
        args="-c 'echo started; sleep 120'",
        executor="podman",
        app_extra={"ociimage": IMAGE},
        timeout=2,
    )
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=redis)
    begin = time.monotonic()
    runner.run(context, job.id)
    assert time.monotonic() - begin < 60
    done = jobs.get(session, job.id)
    session.refresh(done)
    assert done.state == "failed"
    assert done.exit_description.startswith("timed out after 2 s")
    assert ("stdout", "started") in _lines(session, job.id)
    deadline = time.monotonic() + 30
    while _containers(podman_env) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _containers(podman_env)


def test_a_starting_worker_removes_the_container_of_a_job_whose_worker_died(
    podman_env, environ, session, make_rt
):
    rt = make_rt(executable="/bin/sh", executor="podman", app_extra={"ociimage": IMAGE})
    job = jobs.launch(session, rt.id, actor=ACTOR, redis=None)
    gone = subprocess.Popen(["/bin/true"])
    gone.wait()
    dead_worker = f"{socket.gethostname()}:{gone.pid}:1"
    assert jobs.claim(session, job.id, worker=dead_worker, lease=dt.timedelta(seconds=60))
    tmp = environ["MULTIFLEXI_TMP"]
    # as the killed worker's job left it; beside it, a container of another installation
    ours = f"multiflexi-job-{job.id}-a1b2c3"
    theirs = f"multiflexi-job-{job.id}-d4e5f6"
    for name, label in ((ours, tmp), (theirs, "/srv/other-multiflexi/tmp")):
        started = _podman(
            podman_env, "run", "-d", "--name", name, "--label", f"io.multiflexi.tmp={label}",
            IMAGE, "/bin/sleep", "120",
        )  # fmt: skip
        assert started.returncode == 0, started.stderr

    result = subprocess.run(
        [sys.executable, "-m", "multiflexi.executor", "worker", "--burst", "--queue", "none"],
        env={**podman_env, **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert f"removed podman container {ours}, left by job {job.id}" in result.stderr
    assert _containers(podman_env) == [theirs]
    _podman(podman_env, "rm", "-f", theirs)
