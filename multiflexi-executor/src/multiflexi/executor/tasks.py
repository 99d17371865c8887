"""The one function RQ calls: ``multiflexi.executor.tasks.run_job(job_id)``.

The server, the CLI and the scheduler enqueue it by this dotted path
(``multiflexi.core.queue.RUN_JOB``). A worker made by ``multiflexi-executor
worker`` sets up the process's context first (:func:`use`); under any other RQ
worker the context is made from the environment on first use.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from multiflexi.core import config, queue
from multiflexi.executor import jobuser, runner
from multiflexi.executor.defaults import ExecutorSettings

_context: runner.ExecutorContext | None = None


def make_context(
    settings: config.Settings,
    *,
    worker: str | None = None,
    redis: Any = None,
    job_user: jobuser.JobUser | None = None,
) -> runner.ExecutorContext:
    """An executor context over the settings' database (and Redis, for wake-ups and live output).

    ``job_user``: who jobs run as, resolved by the caller at start (else here). This
    process is made non-dumpable: its /proc files are root's alone from now on.
    """
    options = ExecutorSettings.from_environ(settings.environ)
    if job_user is None:
        job_user = jobuser.resolve(options, settings)
    jobuser.make_undumpable()
    engine = config.create_engine(settings.database_url)
    return runner.ExecutorContext(
        settings=settings,
        options=options,
        credentials=job_user.credentials(options.job_gid_base),
        sessions=config.session_factory(engine, settings),
        worker=worker or f"{socket.gethostname()}:{os.getpid()}:1",
        redis=redis if redis is not None else queue.connect(settings.redis_url),
    )


def use(context: runner.ExecutorContext | None) -> None:
    """Set (or clear) the context this process runs jobs with."""
    global _context
    _context = context


def current() -> runner.ExecutorContext:
    global _context
    if _context is None:
        _context = make_context(config.load_settings())
    return _context


def run_job(job_id: int) -> dict[str, Any]:
    """Run the job if it is ours to run (a duplicate delivery does nothing)."""
    return runner.run(current(), int(job_id)).summary()


def run_actions(job_id: int) -> int:
    """Run the failure actions of a job the reaper found lost; how many failed."""
    return runner.run_actions(current(), int(job_id))
