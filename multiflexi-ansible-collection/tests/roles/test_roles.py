"""The roles server and executor: lint, syntax, and real runs against a throwaway root.

The roles run with ``ansible-playbook -i localhost, -c local`` and point every path (the
virtualenv, the settings folder, the data and jobs directories, the unit folder) into a
temporary directory, with service management off. The virtualenv is a new one that sees
this test's packages (a ``.pth`` file), so ``pip install multiflexi-all==<version>
--no-index`` finds the version already installed and nothing is downloaded.
"""

from __future__ import annotations

import base64
import configparser
import importlib.metadata
import json
import os
import re
import shutil
import site
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from multiflexi.core.testing import redis_server
from multiflexi.database.testing import free_port, unavailable

COLLECTION = Path(__file__).resolve().parents[2]
ROLES = COLLECTION / "roles"
#: the distributions whose programs the roles run from the virtualenv
DISTRIBUTIONS = (
    "multiflexi-all",
    "multiflexi-cli",
    "multiflexi-database",
    "multiflexi-server",
    "multiflexi-executor",
)
MASTER_KEY = "role-test-master-key-Zq8T4kLw"
ADMIN_PASSWORD = "role-test-admin-password-Hy7"
#: ansible-lint rules skipped, each with its reason
LINT_SKIPS = {
    # The three roles share one variable namespace, multiflexi_ (as the original
    # collection's role did), so that a play sets the database, Redis and keys once for
    # the server and the executor; a server_/executor_ prefix would split them.
    "var-naming[no-role-prefix]",
}


def program(name: str) -> str:
    """An Ansible program of this test's environment (beside its python), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} is not installed (pip install ansible-core ansible-lint)")
    return found


@pytest.fixture(scope="module")
def ansible_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment that makes ansible find this collection as multiflexi.multiflexi."""
    home = tmp_path_factory.mktemp("ansible")
    namespace = home / "collections" / "ansible_collections" / "multiflexi"
    namespace.mkdir(parents=True)
    (namespace / "multiflexi").symlink_to(COLLECTION, target_is_directory=True)
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(home / "collections"),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    for name in ("ANSIBLE_CONFIG", "MULTIFLEXI_ENV_FILE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    return env


def run_playbook(
    env: dict[str, str], playbook: Path, variables: dict[str, Any], *options: str
) -> subprocess.CompletedProcess[str]:
    var_file = playbook.with_suffix(".vars.json")
    var_file.write_text(json.dumps(variables), encoding="utf-8")
    return subprocess.run(
        [
            program("ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            f"@{var_file}",
            *options,
            str(playbook),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def recap(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """The PLAY RECAP counters of localhost."""
    found = re.search(r"^localhost\s*:\s*(.*)$", result.stdout, re.MULTILINE)
    assert found, result.stdout + result.stderr
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", found.group(1))}


def play(directory: Path, name: str, role: str) -> Path:
    path = directory / f"{name}.yml"
    path.write_text(
        yaml.safe_dump(
            [{"name": name, "hosts": "all", "gather_facts": False, "roles": [{"role": role}]}]
        ),
        encoding="utf-8",
    )
    return path


def unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, comment_prefixes=("#",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path, encoding="utf-8")
    return parser


def env_values(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def make_venv(folder: Path) -> Path:
    """A new virtualenv (with pip) that sees this test's packages and has their programs."""
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(folder)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        unavailable(f"python -m venv does not work here: {made.stderr.strip()}")
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # addsitedir also processes the .pth files there (editable installs)
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    (Path(purelib) / "_multiflexi_test_packages.pth").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    for distribution in DISTRIBUTIONS:
        for entry in importlib.metadata.distribution(distribution).entry_points:
            if entry.group != "console_scripts":
                continue
            module, attribute = entry.value.split(":", 1)
            script = folder / "bin" / entry.name
            script.write_text(
                f"#!{python}\nimport sys\nfrom {module} import {attribute}\n"
                f"sys.exit({attribute}())\n",
                encoding="utf-8",
            )
            script.chmod(0o755)
    return folder


@dataclass
class Deployment:
    root: Path
    venv: Path
    variables: dict[str, Any]
    env: dict[str, str]
    playbooks: Path
    runs: list[subprocess.CompletedProcess[str]] = field(default_factory=list)

    @property
    def env_file(self) -> Path:
        return Path(self.variables["multiflexi_conf_dir"]) / "multiflexi.env"

    def run(self, role: str, *options: str, **more: Any) -> subprocess.CompletedProcess[str]:
        result = run_playbook(
            self.env,
            play(self.playbooks, role, f"multiflexi.multiflexi.{role}"),
            {**self.variables, **more},
            "-v",
            *options,
        )
        self.runs.append(result)
        return result

    def command(self, name: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / name), "--env-file", str(self.env_file), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=120,
            check=False,
        )


def throwaway_variables(root: Path, venv: Path, **more: Any) -> dict[str, Any]:
    (root / "units").mkdir(parents=True)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout
    return {
        "multiflexi_venv": str(venv),
        "multiflexi_pip_environment": {"PIP_NO_INDEX": "1"},
        "multiflexi_create_users": False,
        "multiflexi_user": user.strip(),
        "multiflexi_group": group.strip(),
        "multiflexi_root_user": user.strip(),
        "multiflexi_root_group": group.strip(),
        "multiflexi_conf_dir": str(root / "etc" / "multiflexi"),
        "multiflexi_data_dir": str(root / "var" / "lib" / "multiflexi"),
        "multiflexi_unit_dir": str(root / "units"),
        "multiflexi_manage_services": False,
        **more,
    }


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / "venv")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    venv: Path,
    redis_url: str,
    ansible_env: dict[str, str],
) -> Deployment:
    """The server role run once against a throwaway root."""
    root = tmp_path_factory.mktemp("root")
    variables = throwaway_variables(
        root,
        venv,
        multiflexi_redis_url=redis_url,
        multiflexi_encryption_master_key=MASTER_KEY,
        multiflexi_admin_password=ADMIN_PASSWORD,
        multiflexi_admin_email="ops@example.org",
        multiflexi_timezone="Europe/Prague",
        multiflexi_server_port=free_port(),
        # pip runs (for this extra requirement, present already), and downloads nothing
        multiflexi_pip_packages=["PyYAML"],
        multiflexi_env_extra={"MULTIFLEXI_LOG_LEVEL": "info", "EMAIL_FROM": "Ops <ops@x.org>"},
    )
    deployment = Deployment(root, venv, variables, ansible_env, tmp_path_factory.mktemp("plays"))
    first = deployment.run("server")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    return deployment


# -- static checks ---------------------------------------------------------------------------


def readme_playbooks() -> list[tuple[str, str]]:
    found = []
    for readme in sorted(ROLES.glob("*/README.md")):
        blocks = re.findall(r"```yaml\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
        found += [(readme.parent.name, block) for block in blocks]
    return found


@pytest.mark.parametrize(("role", "playbook"), readme_playbooks())
def test_the_readme_example_playbooks_pass_the_syntax_check(
    role: str, playbook: str, tmp_path: Path, ansible_env: dict[str, str]
) -> None:
    path = tmp_path / f"{role}-example.yml"
    path.write_text(playbook, encoding="utf-8")
    result = subprocess.run(
        [program("ansible-playbook"), "--syntax-check", "-i", "localhost,", str(path)],
        env=ansible_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_roles_are_ansible_lint_clean(ansible_env: dict[str, str]) -> None:
    skips = [option for rule in sorted(LINT_SKIPS) for option in ("-x", rule)]
    result = subprocess.run(
        [
            program("ansible-lint"),
            "--offline",
            "--nocolor",
            "--profile",
            "production",
            *skips,
            "roles",
        ],
        cwd=COLLECTION,
        env=ansible_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("role", ["common", "server", "executor"])
def test_every_variable_is_specified_and_documented(role: str) -> None:
    defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert set(options) == set(defaults)
    readme = (ROLES / role / "README.md").read_text(encoding="utf-8")
    public = {name for name in defaults if not name.startswith("multiflexi_common_")}
    assert {name for name in public if f"`{name}`" not in readme} == set()
    if role != "common":  # the shared variables are in each role's own README as well
        common = yaml.safe_load((ROLES / "common" / "defaults" / "main.yml").read_text())
        shared = {name for name in common if not name.startswith("multiflexi_common_")}
        assert {name for name in shared if f"`{name}`" not in readme} == set()


def test_the_default_version_is_the_tested_multiflexi_all() -> None:
    defaults = yaml.safe_load((ROLES / "common" / "defaults" / "main.yml").read_text())
    assert defaults["multiflexi_version"] == importlib.metadata.version("multiflexi-all")


# -- the server role against a throwaway root --------------------------------------------------


def test_the_env_file_holds_the_settings_and_only_its_owner_reads_it(
    deployment: Deployment,
) -> None:
    path = deployment.env_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    values = env_values(path)
    assert values["ENCRYPTION_MASTER_KEY"] == MASTER_KEY
    assert values["REDIS_URL"] == deployment.variables["multiflexi_redis_url"]
    assert values["MULTIFLEXI_TIMEZONE"] == "Europe/Prague"
    assert values["MULTIFLEXI_DATA_DIR"] == deployment.variables["multiflexi_data_dir"]
    assert values["MULTIFLEXI_TMP"] == deployment.variables["multiflexi_data_dir"] + "-jobs"
    assert values["MULTIFLEXI_LOG_LEVEL"] == "info"
    assert values["EMAIL_FROM"] == '"Ops <ops@x.org>"'  # quoted: it has blanks
    # a session key was generated once, and is long enough to sign with
    assert len(values["MULTIFLEXI_SECRET_KEY"]) >= 32
    assert "DATABASE_URL" not in values and "DB_CONNECTION" not in values


def test_the_components_read_the_env_file_as_written(deployment: Deployment) -> None:
    from multiflexi.core import config

    settings = config.load_settings(env_file=deployment.env_file, environ={})
    assert settings.database_url.endswith(
        deployment.variables["multiflexi_data_dir"] + "/multiflexi.sqlite"
    )
    assert settings.timezone == "Europe/Prague"
    assert settings.master_key == MASTER_KEY
    assert settings.redis_url == deployment.variables["multiflexi_redis_url"]
    assert str(settings.tmp_dir) == deployment.variables["multiflexi_data_dir"] + "-jobs"
    assert settings.environ["EMAIL_FROM"] == "Ops <ops@x.org>"


def test_the_units_run_the_virtualenvs_programs_with_the_roots_paths(
    deployment: Deployment,
) -> None:
    units = Path(deployment.variables["multiflexi_unit_dir"])
    assert sorted(p.name for p in units.iterdir()) == [
        "multiflexi-scheduler.service",
        "multiflexi-server.service",
    ]
    bin_dir = f"{deployment.venv}/bin/"
    port = deployment.variables["multiflexi_server_port"]
    server = unit(units / "multiflexi-server.service")["Service"]
    assert server["ExecStart"] == f"{bin_dir}multiflexi-server serve --host 127.0.0.1 --port {port}"
    assert server["ExecStartPre"] == f"{bin_dir}multiflexi-database check"
    scheduler = unit(units / "multiflexi-scheduler.service")["Service"]
    assert scheduler["ExecStart"] == f"{bin_dir}multiflexi-server scheduler"
    for service in (server, scheduler):
        assert service["EnvironmentFile"] == str(deployment.env_file)
        assert service["ReadWritePaths"] == deployment.variables["multiflexi_data_dir"]
        assert service["User"] == deployment.variables["multiflexi_user"]
        # the packaged hardening is kept
        assert service["NoNewPrivileges"] == "yes"
        assert service["ProtectSystem"] == "full"


def test_the_directories_have_the_packaged_modes(deployment: Deployment) -> None:
    tmpfiles = (resources.files("multiflexi.all") / "deploy" / "multiflexi.tmpfiles").read_text()
    packaged = {
        fields[1]: int(fields[2], 8)
        for line in tmpfiles.splitlines()
        if line.strip() and not line.startswith("#")
        for fields in [line.split()]
    }
    data = deployment.variables["multiflexi_data_dir"]
    placed = {
        "/etc/multiflexi": deployment.variables["multiflexi_conf_dir"],
        "/var/lib/multiflexi": data,
        "/var/lib/multiflexi-jobs": data + "-jobs",
    }
    assert set(packaged) == set(placed)
    modes = {path: stat.S_IMODE(Path(placed[path]).stat().st_mode) for path in packaged}
    assert modes == packaged


def test_the_database_is_migrated_to_head(deployment: Deployment) -> None:
    check = deployment.command("multiflexi-database", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    current = deployment.command("multiflexi-database", "current").stdout.split()
    history = deployment.command("multiflexi-database", "history").stdout
    assert current and current[0] in history


def test_the_administrator_exists(deployment: Deployment) -> None:
    found = deployment.command(
        "multiflexi-cli", "--format", "json", "user", "get", "--login", "admin"
    )
    assert found.returncode == 0, found.stderr
    user = json.loads(found.stdout)
    assert user["login"] == "admin"
    assert user["email"] == "ops@example.org"
    assert user.get("is_admin", user.get("admin")) is True


def test_a_second_run_changes_nothing_and_waits_for_the_running_server(
    deployment: Deployment,
) -> None:
    port = deployment.variables["multiflexi_server_port"]
    # the unit's command, started by hand where there is no systemd
    server = subprocess.Popen(
        [
            str(deployment.venv / "bin" / "multiflexi-server"),
            "--env-file",
            str(deployment.env_file),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=deployment.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        second = deployment.run("server", multiflexi_wait_ready=True, multiflexi_ready_delay=1)
        assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-2000:]
        assert recap(second)["changed"] == 0, second.stdout
        waited = re.search(r"Wait until the server is ready\] \*+\n(\w+):", second.stdout)
        assert waited and waited.group(1) == "ok", second.stdout  # asked, not skipped
        # the administrator signs in with the password the role was given
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/me")
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            me = json.loads(response.read())
        assert me["login"] == "admin"
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_check_mode_on_the_deployed_host_reports_nothing_to_change(
    deployment: Deployment,
) -> None:
    before = deployment.env_file.read_bytes()
    checked = deployment.run("server", "--check", "--diff")
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr[-2000:]
    assert recap(checked)["changed"] == 0, checked.stdout
    assert deployment.env_file.read_bytes() == before


# -- the executor role -------------------------------------------------------------------------


def test_the_executor_role_joins_the_installation_with_its_workers(
    deployment: Deployment,
) -> None:
    keys_before = env_values(deployment.env_file)
    first = deployment.run("executor", multiflexi_workers=3)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    worker = unit(
        Path(deployment.variables["multiflexi_unit_dir"]) / "multiflexi-executor@.service"
    )
    service = worker["Service"]
    assert service["ExecStart"] == f"{deployment.venv}/bin/multiflexi-executor worker"
    assert service["EnvironmentFile"] == str(deployment.env_file)
    data = deployment.variables["multiflexi_data_dir"]
    assert service["ReadWritePaths"] == f"{data} {data}-jobs"
    assert "CAP_SETUID" in service["CapabilityBoundingSet"]
    # the same installation: the keys of the server's env file are kept, not replaced
    keys_after = env_values(deployment.env_file)
    for key in ("ENCRYPTION_MASTER_KEY", "MULTIFLEXI_SECRET_KEY"):
        assert keys_after[key] == keys_before[key]
    second = deployment.run("executor", multiflexi_workers=3)
    assert second.returncode == 0
    assert recap(second)["changed"] == 0, second.stdout


def test_an_executor_without_the_master_key_stops_and_writes_nothing(
    tmp_path: Path, venv: Path, ansible_env: dict[str, str]
) -> None:
    root = tmp_path / "root"
    variables = throwaway_variables(root, venv)
    result = run_playbook(
        ansible_env, play(tmp_path, "executor", "multiflexi.multiflexi.executor"), variables
    )
    assert result.returncode != 0
    assert "multiflexi_encryption_master_key is empty" in result.stdout
    assert "give this host the ENCRYPTION_MASTER_KEY of the server" in result.stdout
    assert not (root / "etc" / "multiflexi" / "multiflexi.env").exists()
    assert list((root / "units").iterdir()) == []


def test_a_variable_of_the_wrong_type_stops_the_role_before_it_does_anything(
    tmp_path: Path, venv: Path, ansible_env: dict[str, str]
) -> None:
    root = tmp_path / "root"
    variables = throwaway_variables(
        root, venv, multiflexi_workers="many", multiflexi_encryption_master_key=MASTER_KEY
    )
    result = run_playbook(
        ansible_env, play(tmp_path, "executor", "multiflexi.multiflexi.executor"), variables
    )
    assert result.returncode != 0
    assert "multiflexi_workers" in result.stdout
    assert not (root / "etc").exists()
    assert list((root / "units").iterdir()) == []


# -- last: every run of this module so far ---------------------------------------------------


def test_no_secret_appears_in_the_verbose_output(deployment: Deployment) -> None:
    assert len(deployment.runs) >= 5  # the server's and the executor's, and check mode
    secrets = [MASTER_KEY, ADMIN_PASSWORD, env_values(deployment.env_file)["MULTIFLEXI_SECRET_KEY"]]
    for run in deployment.runs:
        output = run.stdout + run.stderr
        assert [s for s in secrets if s in output] == []
        encoded = [base64.b64encode(s.encode()).decode()[:24] for s in secrets]
        assert [s for s in encoded if s in output] == []
