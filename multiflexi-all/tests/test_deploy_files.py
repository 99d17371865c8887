"""Deployment files: systemd units and the env file template, shipped as package data."""

import configparser
import json
import os
import re
import stat

import pytest
from click.testing import CliRunner

from multiflexi.all.cli import DEPLOY_FILES, main

# every variable of ARCHITECTURE.md section 4
SETTINGS = (
    "DATABASE_URL",
    "DB_CONNECTION",
    "DB_HOST",
    "DB_PORT",
    "DB_DATABASE",
    "DB_USERNAME",
    "DB_PASSWORD",
    "REDIS_URL",
    "ENCRYPTION_MASTER_KEY",
    "MULTIFLEXI_SECRET_KEY",
    "MULTIFLEXI_TIMEZONE",
    "MULTIFLEXI_DATA_DIR",
    "MULTIFLEXI_TMP",
)


@pytest.fixture
def written(tmp_path):
    result = CliRunner().invoke(main, ["deploy-files", "--dest", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(DEPLOY_FILES)
    return tmp_path


def unit(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


@pytest.mark.parametrize("name", [n for n in DEPLOY_FILES if n.endswith(".service")])
def test_units_read_the_env_file_and_restart(written, name):
    service = unit(written / name)["Service"]
    assert service["EnvironmentFile"] == "/etc/multiflexi/multiflexi.env"
    assert service["Restart"] in ("always", "on-failure")
    assert int(re.match(r"\d+", service["TimeoutStopSec"]).group()) > 0
    assert service["ExecStart"].split()[1].startswith("multiflexi-")


def test_executor_unit_is_a_template_that_lets_jobs_drain(written):
    service = unit(written / "multiflexi-executor@.service")["Service"]
    assert service["KillSignal"] == "SIGTERM"
    assert service["TimeoutStopSec"].endswith("min")  # minutes, not the default 90 s
    assert "worker" in service["ExecStart"]


def test_env_template_lists_every_setting_and_is_private(written):
    text = (written / "multiflexi.env").read_text()
    missing = [name for name in SETTINGS if not re.search(rf"^#? ?{name}=", text, re.M)]
    assert missing == []
    assert stat.S_IMODE(os.stat(written / "multiflexi.env").st_mode) == 0o600


def test_printing_shows_every_file(tmp_path):
    result = CliRunner().invoke(main, ["deploy-files"])
    assert result.exit_code == 0
    assert [line[7:] for line in result.output.splitlines() if line.startswith("# ---- ")] == list(
        DEPLOY_FILES
    )


def test_versions_as_json_says_whether_this_is_the_pinned_set(tmp_path):
    env_file = tmp_path / "multiflexi.env"
    env_file.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'db.sqlite'}\n")
    result = CliRunner().invoke(main, ["versions", "--format", "json", "--env-file", str(env_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["pinned_set"] is True
    assert set(data["components"]) >= {
        "multiflexi-cli",
        "multiflexi-server",
        "multiflexi-executor",
        "multiflexi-core",
    }
    assert data["schema"]["state"] == "empty"
    assert "multiflexi-database upgrade" in data["schema"]["message"]


def _table(path):
    """The rows of a sysusers.d or tmpfiles.d file, split into fields (quotes kept together)."""
    import shlex

    return [shlex.split(line) for line in path.read_text().splitlines() if line and line[0] != "#"]


def test_jobs_run_as_a_user_that_owns_nothing_of_multiflexi(written):
    users = {row[1]: row for row in _table(written / "multiflexi.sysusers")}
    assert set(users) == {"multiflexi", "multiflexi-job"}
    directories = {row[1]: row for row in _table(written / "multiflexi.tmpfiles")}
    data, jobs_dir = directories["/var/lib/multiflexi"], directories["/var/lib/multiflexi-jobs"]
    # the data directory is the multiflexi user's alone; the jobs' directories are beside it,
    # reachable (0711) and not listable, and the job user owns neither
    assert (data[2], data[3]) == ("0700", "multiflexi")
    assert (jobs_dir[2], jobs_dir[3]) == ("0711", "root")
    assert "multiflexi-job" not in {row[3] for row in directories.values()}
    # the worker starts as root to switch to the job user, with only the capabilities for it
    worker = unit(written / "multiflexi-executor@.service")["Service"]
    assert worker["User"] == "root"
    caps = set(worker["CapabilityBoundingSet"].split())
    assert {"CAP_SETUID", "CAP_SETGID", "CAP_KILL"} <= caps and "CAP_SYS_ADMIN" not in caps
    assert "/var/lib/multiflexi-jobs" in worker["ReadWritePaths"].split()
    for name in ("multiflexi-server.service", "multiflexi-scheduler.service"):
        assert unit(written / name)["Service"]["User"] == "multiflexi"
    template = (written / "multiflexi.env").read_text()
    assert re.search(r"^# MULTIFLEXI_JOB_USER=multiflexi-job$", template, re.M)
    assert re.search(r"^# MULTIFLEXI_TMP=/var/lib/multiflexi-jobs$", template, re.M)
