"""``chain``: launch another run template now, passing this job's environment on.

Options: ``run_template_id`` (or ``rtid``). The new job (schedule type
``chained``, ``parent_job_id`` = this job) gets this job's configured
variables as one-time overrides; secret ones stay secret (sealed at rest).
"""

from __future__ import annotations

import contextlib

from multiflexi.core import jobs, queue, runtemplates
from multiflexi.core.lifecycle import ACTOR, now
from multiflexi.core.unit import transaction
from multiflexi.executor.actions import ActionContext, ActionError, option

NOT_PASSED = frozenset({"inherited", "system"})


def chain(context: ActionContext) -> None:
    target = option(context, "run_template_id", "rtid", "run_template")
    try:
        rt_id = int(target)
    except (TypeError, ValueError):
        raise ActionError("option run_template_id: give the id of a run template") from None
    run_template = runtemplates.get(context.session, rt_id)
    runtemplates.ensure_launchable(context.session, run_template)
    overrides: dict[str, str] = {}
    secret: set[str] = set()
    if context.environment is not None:
        for entry in context.environment:
            if entry.source in NOT_PASSED:
                continue
            overrides[entry.name] = entry.value
            if entry.secret:
                secret.add(entry.name)
    with transaction(context.session):
        job = jobs.create(
            context.session,
            run_template,
            scheduled_at=now(),
            schedule_type="chained",
            actor=ACTOR,
            overrides=overrides,
            secret_overrides=secret,
            parent_job_id=context.job.id,
        )
    with contextlib.suppress(queue.QueueUnavailable):
        jobs.enqueue(context.session, job, redis=context.redis)
    context.log(f"chain: launched job {job.id} of run template {rt_id}")
