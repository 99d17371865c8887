"""``reschedule``: run the same run template again after a delay.

Options: ``delay`` seconds (3600). The new job (schedule type ``reschedule``)
waits ``scheduled``; the scheduler queues it when it is due.
"""

from __future__ import annotations

import datetime as dt

from multiflexi.core import jobs
from multiflexi.core.actionkinds import BUILTIN
from multiflexi.core.lifecycle import ACTOR, now
from multiflexi.core.unit import transaction
from multiflexi.executor.actions import ActionContext, ActionError, option

DEFAULT_DELAY = BUILTIN["reschedule"].option("delay").default  # type: ignore[union-attr]


def reschedule(context: ActionContext) -> None:
    try:
        delay = int(option(context, "delay", default=DEFAULT_DELAY))
    except (TypeError, ValueError):
        raise ActionError("option delay: give a whole number of seconds") from None
    if delay < 0:
        raise ActionError("option delay: must not be negative")
    when = now() + dt.timedelta(seconds=delay)
    with transaction(context.session):
        job = jobs.create(
            context.session,
            context.run_template,
            scheduled_at=when,
            schedule_type="reschedule",
            actor=ACTOR,
            parent_job_id=context.job.id,
        )
    context.log(f"reschedule: job {job.id} at {when.isoformat(timespec='seconds')}")
