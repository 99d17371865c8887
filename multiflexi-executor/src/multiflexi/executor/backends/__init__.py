"""Execution back-ends: how a job's process is started (entry point group ``multiflexi.executors``).

A back-end turns the job's rendered argument list and environment into the
process the runner starts (:class:`Launch`). The runner does the rest the same
way for every back-end: no shell, a new process group, output streaming, the
timeout, the heartbeat. Built in: ``native``, ``docker``, ``podman``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from multiflexi.core.environment import JobEnvironment
from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.models import Application

GROUP = "multiflexi.executors"
log = logging.getLogger("multiflexi.executor")


class BackendError(MultiFlexiError):
    """The job cannot be started by this back-end (no image, unusable environment, ...)."""

    kind = "backend"


@dataclasses.dataclass(frozen=True)
class LaunchRequest:
    """What a back-end gets: the job, its application, its argv, environment and directories."""

    job_id: int
    application: Application
    argv: list[str]
    environment: JobEnvironment
    work_dir: Path
    private_dir: Path  # for files the process must not see (deleted afterwards)
    worker_environ: Mapping[str, str]


def _nothing() -> None:
    return None


@dataclasses.dataclass
class Launch:
    """The process to start, and what to do when it is stopped or has ended."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    cleanup: Callable[[], None] = _nothing
    stop: Callable[[], None] = _nothing
    #: run it as the job user (the native back-end); False: as the worker (a container
    #: engine's command line tool, which keeps the container from the worker's files itself)
    as_job_user: bool = True


@dataclasses.dataclass(frozen=True)
class Leftover:
    """Something a job's process left behind when its worker died (a container, say)."""

    job_id: int
    description: str
    remove: Callable[[], None]


class Backend(Protocol):
    name: str

    def prepare(self, request: LaunchRequest) -> Launch: ...


def leftovers(worker_environ: Mapping[str, str], tmp_dir: Path) -> list[Leftover]:
    """What the installed back-ends find left behind by jobs of this installation.

    A back-end that can leave something behind has a ``leftovers(worker_environ,
    tmp_dir)`` method (``tmp_dir``, MULTIFLEXI_TMP, tells this installation's jobs
    from another's on the same host); one that fails to look is skipped (the next
    start looks again).
    """
    found: list[Leftover] = []
    for name in available():
        try:
            finder = getattr(load(name), "leftovers", None)
            if finder is not None:
                found.extend(finder(worker_environ, tmp_dir))
        except Exception as exc:  # a back-end's tool missing or failing is not fatal
            log.warning("executor %s: cannot look for leftovers: %s", name, exc)
    return found


def available() -> list[str]:
    """Names of the installed back-ends."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


@functools.cache
def _factory(name: str) -> Callable[[], Backend] | None:
    for ep in entry_points(group=GROUP, name=name):
        factory: Callable[[], Backend] = ep.load()
        return factory
    return None


def load(name: str) -> Backend:
    """The back-end registered under ``name``; BackendError when none is."""
    factory = _factory(name.lower())
    if factory is not None:
        return factory()
    raise BackendError(
        f"executor {name!r} is not installed (installed: {', '.join(available()) or 'none'})"
    )


__all__ = [
    "GROUP",
    "Backend",
    "BackendError",
    "Launch",
    "LaunchRequest",
    "Leftover",
    "available",
    "leftovers",
    "load",
]
