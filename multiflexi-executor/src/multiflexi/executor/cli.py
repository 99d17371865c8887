"""The ``multiflexi-executor`` command: workers, and the one-shot run of a run template.

Exit codes: 0 done; 1 a setting, the database, Redis or the input is wrong (one
line on stderr); 3 the run template does not exist; for ``run-template`` the
job's own exit code, 75 when the credential gate held the job back, or 124 when
``--timeout`` expired.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from multiflexi.core import config, jobs, queue
from multiflexi.core.audit import Actor
from multiflexi.core.errors import MultiFlexiError, NotFound
from multiflexi.executor import __version__, defaults, jobuser, runner, tasks, workdirs
from multiflexi.executor.defaults import ExecutorSettings
from multiflexi.executor.runner import Start

PROG = "multiflexi-executor"
F = TypeVar("F", bound=Callable[..., Any])
WAIT_POLL = 0.2
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"{PROG}: {message}", err=True)
    sys.exit(code)


def one_line_errors(func: F) -> F:
    """A user's error (setting, schema, Redis, input) is one line on stderr, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError

        try:
            return func(*args, **kwargs)
        except NotFound as exc:
            fail(str(exc), 3)
        except MultiFlexiError as exc:
            fail(str(exc))
        except OperationalError as exc:
            fail(f"DATABASE_URL: the database failed ({type(exc.orig).__name__})")

    return wrapper  # type: ignore[return-value]


def _probe_client(url: str) -> Any:
    """A Redis client that learns at once that Redis is down (no retries with back-off)."""
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=5, retry=Retry(NoBackoff(), 0)
    )


def load(env_file: str | None) -> config.Settings:
    """Settings checked the way every start checks them: variables, schema, executor settings."""
    settings = config.load_settings(env_file=env_file)
    ExecutorSettings.from_environ(settings.environ)
    config.require_schema(settings)
    _require_master_key(settings)
    settings.tmp_dir.mkdir(parents=True, exist_ok=True)
    return settings


def _job_user(settings: config.Settings, env_file: str | None) -> jobuser.JobUser:
    """Who jobs run as, checked once at start (a wrong MULTIFLEXI_JOB_USER: one line, exit 1)."""
    return jobuser.resolve(
        ExecutorSettings.from_environ(settings.environ),
        settings,
        env_file=jobuser.env_file_in_use(env_file, settings.environ),
    )


def _require_master_key(settings: config.Settings) -> None:
    """Jobs read secrets: a missing or wrong ENCRYPTION_MASTER_KEY stops the start, not each job."""
    from multiflexi.core import encryption

    with config.one_session(settings) as session:
        encryption.check_master_key(session)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name=PROG, message="%(prog)s %(version)s")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    envvar="MULTIFLEXI_ENV_FILE",
    help="KEY=value settings file (default /etc/multiflexi/multiflexi.env when present).",
)
@click.pass_context
def main(ctx: click.Context, env_file: str | None) -> None:
    """Run MultiFlexi jobs from the queue."""
    ctx.obj = {"env_file": env_file}


@main.command()
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Queue to take jobs from (repeatable; default: default).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes.",
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--logging-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="INFO",
    show_default=True,
    envvar="MULTIFLEXI_LOG_LEVEL",
    help="Least severe message logged (env MULTIFLEXI_LOG_LEVEL); INFO logs every job.",
)
@click.option("-q", "--quiet", is_flag=True, help="Log warnings and errors only.")
@click.pass_obj
@one_line_errors
def worker(
    obj: dict[str, Any],
    queues: tuple[str, ...],
    concurrency: int,
    burst: bool,
    logging_level: str,
    quiet: bool,
) -> None:
    """Run worker processes that execute queued jobs."""
    from multiflexi.executor import worker as workers

    settings = load(obj["env_file"])
    job_user = _job_user(settings, obj["env_file"])
    queue.ping(_probe_client(settings.redis_url))
    level = "WARNING" if quiet else logging_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(message)s")
    sys.exit(
        workers.serve(
            settings,
            list(queues) or [queue.DEFAULT_QUEUE],
            concurrency=concurrency,
            burst=burst,
            logging_level=level,
            job_user=job_user,
        )
    )


def _overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise MultiFlexiError(f"-E {pair.split('=')[0]!r}: give KEY=VALUE")
        values[name] = value
    return values


def _echo(stream: str, text: str) -> None:
    if stream == "stdout":
        click.echo(text)
    else:
        click.echo(text if stream == "stderr" else f"[{stream}] {text}", err=True)


def _blocked(job_id: int, reason: str | None, state: str | None) -> NoReturn:
    """The credential gate held the job back: say why and exit 75 (EX_TEMPFAIL)."""
    from multiflexi.core import availability

    fail(availability.held_note(job_id, reason, state), availability.HELD_EXIT)


@main.command("run-template")
@click.argument("rt_id", metavar="ID", type=int)
@click.option("-E", "--env", "env", multiple=True, metavar="KEY=VALUE", help="One-time override.")
@click.option(
    "--secret",
    "secret_names",
    multiple=True,
    metavar="KEY",
    help="Treat this -E value as a secret: masked in the job's output (repeatable).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    help="Give up after S seconds (exit 124); 0 or none: wait as long as the job runs.",
)
@click.option("--wait-for-worker", is_flag=True, help="Let a worker run it; only wait and print.")
@click.pass_obj
@one_line_errors
def run_template(
    obj: dict[str, Any],
    rt_id: int,
    env: tuple[str, ...],
    secret_names: tuple[str, ...],
    timeout: float | None,
    wait_for_worker: bool,
) -> None:
    """Launch run template ID now, print its output, exit with its exit code."""
    overrides = _overrides(env)
    unknown = sorted(set(secret_names) - set(overrides))
    if unknown:
        raise click.UsageError(f"--secret {', '.join(unknown)}: no such -E value")
    timeout = timeout or None  # 0: no limit
    settings = load(obj["env_file"])
    job_user = _job_user(settings, obj["env_file"]) if not wait_for_worker else None
    from redis import Redis

    redis: Redis | None = _probe_client(settings.redis_url)
    try:
        queue.ping(redis)  # type: ignore[arg-type]
    except queue.QueueUnavailable:
        if wait_for_worker:
            raise
        redis = None
    context = tasks.make_context(
        settings,
        worker=f"{socket.gethostname()}:{os.getpid()}:cli",
        redis=redis,
        job_user=job_user or jobuser.JobUser("", os.geteuid(), os.getegid(), "", switch=False),
    )
    if redis is None:
        context.redis = None
    with context.sessions() as session:
        job = jobs.launch(
            session,
            rt_id,
            actor=Actor.cli(),
            overrides=overrides,
            secret_overrides=secret_names,
            schedule_type="adhoc-cli",
            # Redis down: a client that fails at once; the job stays queued in the database
            redis=redis if redis is not None else _probe_client("unix:///nonexistent/redis.sock"),
        )
        job_id = job.id

    def stop(signum: int, _frame: FrameType | None) -> None:
        context.stop.request(0, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    deadline = time.monotonic() + timeout if timeout else None
    printed = 0
    runnable = not wait_for_worker
    first = True
    while True:
        if runnable:
            remaining = deadline - time.monotonic() if deadline else None
            if remaining is not None and remaining <= 0:
                fail(f"job {job_id} not finished after {timeout:g} s", defaults.TIMEOUT_EXIT)
            # the first attempt gets the whole --timeout (it is what the job record says)
            limit = timeout if first else remaining
            first = False
            try:
                result = runner.run(context, job_id, echo=_echo, timeout=limit)
            finally:
                workdirs.discard(Path(settings.tmp_dir))  # no next job to keep it for
            if result.start is Start.BLOCKED:
                _blocked(job_id, result.block_reason, result.state)
            if result.start is Start.RUNNING:
                if result.timed_out:
                    sys.exit(defaults.TIMEOUT_EXIT)
                code = result.outcome.exit_code if result.outcome else None
                sys.exit(code if code is not None else 1)
        with context.sessions() as session:
            current = jobs.get(session, job_id)
            for line in jobs.output(session, job_id, after=printed):
                _echo(line.stream, line.text)
                printed = line.seq
            if current.state in jobs.FINAL_STATES:
                sys.exit(current.exit_code if current.exit_code is not None else 1)
            if current.blocked_at is not None:  # a worker's gate held it back
                _blocked(job_id, current.block_reason, current.state)
            runnable = current.state == "queued" and not wait_for_worker
        if deadline is not None and time.monotonic() >= deadline:
            fail(f"job {job_id} not finished after {timeout:g} s", defaults.TIMEOUT_EXIT)
        if context.stop.requested:
            fail(f"stopped waiting; job {job_id} goes on", 130)
        if not runnable:
            time.sleep(WAIT_POLL)
