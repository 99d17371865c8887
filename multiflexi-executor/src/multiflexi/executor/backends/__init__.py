"""Execution back-ends: how a job's process is started (entry point group ``multiflexi.executors``).

A back-end turns the job's rendered argument list and environment into the
process the runner starts (:class:`Launch`). The runner does the rest the same
way for every back-end: no shell, a new process group, output streaming, the
timeout, the heartbeat. Built in: ``native``, ``docker``, ``podman``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from multiflexi.core.environment import JobEnvironment
from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.models import Application

GROUP = "multiflexi.executors"


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
    worker_environ: dict[str, str]


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


class Backend(Protocol):
    name: str

    def prepare(self, request: LaunchRequest) -> Launch: ...


def available() -> list[str]:
    """Names of the installed back-ends."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load(name: str) -> Backend:
    """The back-end registered under ``name``; BackendError when none is."""
    for ep in entry_points(group=GROUP, name=name.lower()):
        factory = ep.load()
        backend: Backend = factory()
        return backend
    raise BackendError(
        f"executor {name!r} is not installed (installed: {', '.join(available()) or 'none'})"
    )


__all__ = ["GROUP", "Backend", "BackendError", "Launch", "LaunchRequest", "available", "load"]
