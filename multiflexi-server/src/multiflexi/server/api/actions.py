"""A run template's actions after success and failure, and the catalogue of their kinds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from multiflexi.core import actions
from multiflexi.core.actions import ActionView
from multiflexi.core.errors import ValidationError
from multiflexi.server.api import blueprint
from multiflexi.server.api.common import NO_NUL, Printable
from multiflexi.server.api.run_templates import reach
from multiflexi.server.openapi import operation
from multiflexi.server.request import Input, Output, Query, caller, db

TAG = "run-templates"
#: the name of a kind of action or of one of its options
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
Mode = Literal["success", "failure"]
Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=actions.MAX_NAME)]
OptionText = Annotated[str, Field(pattern=NO_NUL, max_length=actions.MAX_TEXT), Printable]
OptionValue = OptionText | int | float | bool | None


class ActionIn(Input):
    action: Name = Field(description="the kind: webhook, chain, reschedule, deactivate, a plug-in")
    options: dict[Name, OptionValue] = Field(
        default_factory=dict,
        description="the kind's options; a secret one (a webhook's url) sent empty, null or "
        "as *** keeps the stored value",
    )
    enabled: bool = True


class ActionsIn(Input):
    success: list[ActionIn] | None = Field(
        None, max_length=actions.MAX_ACTIONS, description="after a success, in order"
    )
    failure: list[ActionIn] | None = Field(
        None, max_length=actions.MAX_ACTIONS, description="after anything else, in order"
    )


class ModeQuery(Query):
    mode: Mode | None = Field(None, description="only this list")


class ActionOut(Output):
    action: str
    enabled: bool
    position: int
    options: dict[str, Any] = Field(description="secret options shown as ***")
    known: bool = Field(description="false for a kind that is no longer installed")


class ActionsOut(Output):
    run_template_id: int
    success: list[ActionOut] | None = Field(description="null when ?mode=failure")
    failure: list[ActionOut] | None = Field(description="null when ?mode=success")


class OptionSpecOut(Output):
    name: str
    type: Literal["string", "url", "integer", "boolean", "run_template"]
    required: bool
    default: str | int | float | bool | None
    secret: bool
    help: str


class KindOut(Output):
    name: str
    label: str
    help: str
    builtin: bool = Field(description="false for a plug-in: its options are free, none secret")
    options: list[OptionSpecOut]


class KindList(Output):
    items: list[KindOut]


def _out(rt_id: int, lists: dict[str, list[ActionView]]) -> ActionsOut:
    def items(mode: str) -> list[ActionOut] | None:
        if mode not in lists:
            return None
        return [
            ActionOut(
                action=a.action,
                enabled=a.enabled,
                position=a.position,
                options=a.options,
                known=a.known,
            )
            for a in lists[mode]
        ]

    return ActionsOut(run_template_id=rt_id, success=items("success"), failure=items("failure"))


@operation(
    blueprint,
    "GET",
    "/run-templates/<int:run_template_id>/actions",
    summary="List a run template's actions",
    tag=TAG,
    query=ModeQuery,
    response=ActionsOut,
)
def list_actions(run_template_id: int, query: ModeQuery) -> ActionsOut:
    """The actions after a success and after anything else, each list in order."""
    rt = reach(run_template_id)
    return _out(rt.id, actions.list_actions(db(), caller(), rt.id, query.mode))


@operation(
    blueprint,
    "PUT",
    "/run-templates/<int:run_template_id>/actions",
    summary="Replace a run template's actions",
    tag=TAG,
    query=ModeQuery,
    body=ActionsIn,
    response=ActionsOut,
)
def set_actions(run_template_id: int, body: ActionsIn, query: ModeQuery) -> ActionsOut:
    """Each list given replaces the stored one; a list not given stays (with ``?mode=``
    only that list is taken, and the body may hold no other). A kind must be built in or
    installed; its options are checked by type; a chain's target must be a run template
    of the same company, not this one (422 names each problem, ``success.0.url``).
    Needs write access; the answer shows both lists."""
    given = body.model_dump(exclude_none=True)
    if query.mode is not None:
        other = [m for m in given if m != query.mode]
        if other:
            raise ValidationError(
                "actions not changed", [(m, f"not with ?mode={query.mode}") for m in other]
            )
    rt = reach(run_template_id)
    lists = actions.set_actions(db(), rt.id, given, actor=caller())
    return _out(rt.id, lists)


@operation(
    blueprint,
    "GET",
    "/action-kinds",
    summary="List the kinds of actions",
    tag=TAG,
    response=KindList,
)
def list_kinds() -> KindList:
    """The built-in kinds with their options, then every installed plug-in."""
    return KindList(
        items=[
            KindOut(
                name=k.name,
                label=k.label,
                help=k.help,
                builtin=k.builtin,
                options=[OptionSpecOut.model_validate(o) for o in k.options],
            )
            for k in actions.kinds()
        ]
    )


__all__ = ["ActionsOut", "KindList"]
