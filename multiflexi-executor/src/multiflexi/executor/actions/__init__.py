"""Actions after a job: webhook, chain, reschedule, deactivate, and plug-ins.

An action is a callable registered in the entry point group ``multiflexi.actions``
under the name a run template's action row uses (``run_template_actions.action``).
It is called with an :class:`ActionContext` after the job's outcome is recorded;
the rows of mode ``success`` run after a success, those of mode ``failure`` (or
``fail``) after anything else. An action that raises is logged on the job as an
output line of stream ``action`` and never changes the job's outcome.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from multiflexi.core import actions as core_actions
from multiflexi.core import runtemplates
from multiflexi.core.environment import JobEnvironment
from multiflexi.core.errors import MultiFlexiError
from multiflexi.core.lifecycle import Outcome
from multiflexi.core.models import Job, RunTemplate

if TYPE_CHECKING:
    from redis import Redis

GROUP = core_actions.GROUP
MODES = {"success": runtemplates.SUCCESS_MODES, "failure": runtemplates.FAILURE_MODES}


class ActionError(Exception):
    """An action could not do its work; the message is logged on the job."""


@dataclasses.dataclass
class ActionContext:
    """What an action may use."""

    session: Session
    job: Job
    run_template: RunTemplate
    outcome: Outcome
    options: dict[str, Any]
    environment: JobEnvironment | None
    redis: Redis | None
    #: write a line (masked) on the job's output, stream "action"
    log: Callable[[str], None]
    #: the job's stdout as stored (masked), at most ``limit`` characters
    output: Callable[[int], str]


class Action(Protocol):
    def __call__(self, context: ActionContext) -> None: ...


@functools.cache
def _registered(name: str) -> Action | None:
    for ep in entry_points(group=GROUP, name=name):
        action: Action = ep.load()
        return action
    return None


def load(name: str) -> Action:
    action = _registered(name)
    if action is None:
        raise ActionError(f"no action named {name!r} is installed")
    return action


def option(context: ActionContext, *names: str, default: Any = None) -> Any:
    for name in names:
        if context.options.get(name) not in (None, ""):
            return context.options[name]
    return default


def run_all(
    session: Session,
    job: Job,
    outcome: Outcome,
    *,
    environment: JobEnvironment | None,
    redis: Redis | None,
    log: Callable[[str], None],
    output: Callable[[int], str],
) -> int:
    """Run the run template's enabled actions for the outcome; how many failed."""
    modes = MODES["success" if outcome.state == "success" else "failure"]
    rows = runtemplates.enabled_actions(session, job.run_template_id, modes)
    if not rows:
        return 0
    run_template = job.run_template
    failed = 0
    for row in rows:
        try:
            # a sealed secret option (a webhook's URL) reaches the plug-in decrypted
            options = core_actions.resolved_options(session, row.options, row.secrets)
        except MultiFlexiError as exc:  # a wrong master key, a damaged sealed value
            failed += 1
            log(f"action {row.action} failed: its options cannot be read ({exc.message})")
            continue
        context = ActionContext(
            session=session,
            job=job,
            run_template=run_template,
            outcome=outcome,
            options=options,
            environment=environment,
            redis=redis,
            log=log,
            output=output,
        )
        try:
            load(row.action)(context)
        except Exception as exc:
            session.rollback()
            failed += 1
            log(f"action {row.action} failed: {exc or type(exc).__name__}")
        else:
            log(f"action {row.action}: done")
    return failed


__all__ = ["GROUP", "Action", "ActionContext", "ActionError", "load", "option", "run_all"]
