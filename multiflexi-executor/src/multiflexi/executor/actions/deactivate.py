"""``deactivate``: set the run template inactive (the scheduler stops planning it)."""

from __future__ import annotations

from multiflexi.core import runtemplates
from multiflexi.core.lifecycle import ACTOR
from multiflexi.executor.actions import ActionContext


def deactivate(context: ActionContext) -> None:
    runtemplates.set_active(context.session, context.run_template.id, False, actor=ACTOR)
    context.log(f"deactivate: run template {context.run_template.id} is inactive now")
