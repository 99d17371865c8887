"""What jobs of a dead worker left on this host, removed when a worker starts.

A worker killed outright (``kill -9``, a crash, the machine's power) cannot
clean up after its running job: the job's work directory, the env file of a
container job (it holds the job's secrets in plain text) and the container
itself stay. The reaper marks the job ``lost`` from any host, but only a worker
on this host can remove them, so every start of ``multiflexi-executor worker``
looks for them and removes those whose job has ended (or is gone), or runs on
a worker of this host whose process is gone. A job running on another live
worker, or about to be started, is left alone.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import socket
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from multiflexi.core import jobs
from multiflexi.executor import backends, workdirs

log = logging.getLogger("multiflexi.executor")

#: a job in these states may be started any moment (by a worker of this host, too)
_MAY_RUN = frozenset({"scheduled", "queued", "waiting"})
_WORK_DIR = re.compile(r"job-(\d+)")
_ENV_FILE = re.compile(r"job-(\d+)-.*\.env")


def _worker_alive(worker: str | None, hostname: str) -> bool:
    """False only when the worker is known to be a process of this host that is gone."""
    host, _, rest = (worker or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != hostname or not pid_text.isdigit():
        return True  # another host's worker (or unknown): its own start cleans up there
    return _pid_alive(int(pid_text))


def _pid_alive(pid: int) -> bool:
    """False only when no process of this host has the pid."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(
    session: Session,
    tmp_dir: Path,
    worker_environ: dict[str, str],
    *,
    hostname: str | None = None,
) -> list[str]:
    """Remove what finished or lost jobs left here; what was removed, described."""
    here = hostname or socket.gethostname()
    removed: list[str] = []
    found: dict[int, list[tuple[str, Callable[[], None]]]] = {}
    with contextlib.suppress(FileNotFoundError):
        for entry in tmp_dir.iterdir():
            spare = workdirs.SPARE.fullmatch(entry.name)
            if spare and not entry.is_symlink() and not _pid_alive(int(spare[1])):
                shutil.rmtree(entry, ignore_errors=True)
                log.info("removed %s, kept by a worker that is gone", entry)
                removed.append(f"spare work directory {entry}")
            match = _WORK_DIR.fullmatch(entry.name)
            if match and entry.is_dir() and not entry.is_symlink():
                rmtree = functools.partial(shutil.rmtree, entry, ignore_errors=True)
                found.setdefault(int(match[1]), []).append((f"work directory {entry}", rmtree))
    with contextlib.suppress(FileNotFoundError):
        for entry in (tmp_dir / ".private").iterdir():
            match = _ENV_FILE.fullmatch(entry.name)
            if match:
                unlink = functools.partial(entry.unlink, missing_ok=True)
                found.setdefault(int(match[1]), []).append((f"env file {entry}", unlink))
    for leftover in backends.leftovers(worker_environ, tmp_dir):
        found.setdefault(leftover.job_id, []).append((leftover.description, leftover.remove))
    if not found:
        return removed
    where = jobs.whereabouts(session, found)
    session.rollback()
    for job_id, items in sorted(found.items()):
        state, worker = where.get(job_id, ("", None))
        if state in _MAY_RUN or (state == "running" and _worker_alive(worker, here)):
            continue
        for description, remove in items:
            remove()
            log.info("removed %s, left by job %s (%s)", description, job_id, state or "unknown")
            removed.append(description)
    return removed
