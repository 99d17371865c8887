"""The ``multiflexi-server`` command: ``serve`` (the API under waitress) and ``scheduler``."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from multiflexi.core import config
from multiflexi.core.config import Settings
from multiflexi.core.errors import ConfigurationError, SchemaMismatch
from multiflexi.server import __version__

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
#: each page that follows a job's output holds a thread while it is open
DEFAULT_THREADS = 32
#: threads never taken by live output streams, for every other request
RESERVED_THREADS = 4
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Failure(click.ClickException):
    """One line on stderr and exit status 1; never a traceback."""

    def show(self, file: Any = None) -> None:
        click.echo(f"multiflexi-server: {self.format_message()}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="multiflexi-server", message="%(prog)s %(version)s")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MULTIFLEXI_ENV_FILE",
    help="Read settings from this KEY=value file (the process environment wins).",
)
@click.pass_context
def main(ctx: click.Context, env_file: Path | None) -> None:
    """Serve the MultiFlexi API and run the scheduler."""
    ctx.obj = {"env_file": env_file}


def _settings(ctx: click.Context) -> Settings:
    env_file = ctx.obj.get("env_file") if ctx.obj else None
    try:
        return config.load_settings(env_file=env_file)
    except ConfigurationError as exc:
        raise Failure(exc.message) from None


def _require_schema(settings: Settings) -> None:
    try:
        config.require_schema(settings)
    except (SchemaMismatch, ConfigurationError) as exc:
        raise Failure(exc.message) from None


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)


@main.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=DEFAULT_THREADS,
    show_default=True,
    help="Worker threads of the WSGI server.",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Serve the API, health checks and metrics under waitress.

    Live output streams take all threads but four at most; beyond that a stream
    answers "busy" and its client asks again a little later.
    Refuses to start when the database schema is not the one this code knows.
    """
    settings = _settings(ctx)
    _require_schema(settings)
    _logging()
    import waitress

    from multiflexi.server.api.jobs import limit_streams
    from multiflexi.server.app import create_app

    try:
        app = create_app(settings)
    except ConfigurationError as exc:
        raise Failure(exc.message) from None
    limit_streams(app, max(1, threads - RESERVED_THREADS))
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="multiflexi")
    except OSError as exc:
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.command()
@click.option("--once", is_flag=True, help="Run one pass as leader, then exit.")
@click.option(
    "--lease-ttl",
    type=click.FloatRange(1, 3600),
    default=None,
    help="Seconds a leader's lease lasts; a dead leader is replaced within it [default: 15].",
)
@click.option(
    "--max-sleep",
    type=click.FloatRange(0.1, 3600),
    default=None,
    help="Longest sleep between two passes, in seconds [default: 30].",
)
@click.pass_context
def scheduler(
    ctx: click.Context, once: bool, lease_ttl: float | None, max_sleep: float | None
) -> None:
    """Plan and deliver scheduled jobs: one active instance, others stand by.

    SIGTERM or SIGINT stop it cleanly (the lease is given up at once).
    """
    from multiflexi.core import queue
    from multiflexi.server import scheduler as daemon

    settings = _settings(ctx)
    _require_schema(settings)
    _logging()
    engine = config.create_engine(settings.database_url)
    runner = daemon.Scheduler(
        config.session_factory(engine, settings),
        queue.connect(settings.redis_url),
        lease_ttl=lease_ttl or daemon.DEFAULT_LEASE_TTL,
        max_sleep=max_sleep or daemon.DEFAULT_MAX_SLEEP,
    )
    try:
        if once:
            try:
                report = runner.run_once()
            except daemon.NotLeader as exc:
                raise Failure(
                    f"another scheduler ({exc.holder or 'unknown'}) holds the lease; nothing done"
                ) from None
            except queue.QueueUnavailable as exc:
                raise Failure(f"{exc.message}; jobs were planned, not delivered") from None
            except SQLAlchemyError as exc:
                raise Failure(f"database error: {daemon.first_line(exc)}") from None
            click.echo(f"pass done: {report or 'nothing to do'}")
            return

        def _stop(signum: int, _frame: FrameType | None) -> None:
            logging.getLogger(__name__).info("%s: stopping", signal.Signals(signum).name)
            runner.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        runner.run()
    finally:
        engine.dispose()


if __name__ == "__main__":  # python -m multiflexi.server.cli
    main()
