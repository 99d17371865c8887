"""Actions after a job: the catalogue of their kinds, and each run template's two lists.

A run template has two ordered lists of actions: ``success`` (after a job that
succeeded) and ``failure`` (after anything else). Each item names a kind (an entry
point of the group :data:`GROUP`, which the executor runs), its options and whether
it is enabled; one kind appears at most once per list.

The catalogue (:mod:`multiflexi.core.actionkinds`, its names re-exported here): the
built-in kinds (:data:`BUILTIN`) declare their options with a type, a default and
whether they are secret; a kind installed as a plug-in is accepted with free options
(names and plain JSON values), none of them secret.

Secret options (a webhook's URL may carry a token) are sealed with the vault into
``run_template_actions.secrets``; the plain ``options`` hold the redaction marker in
their place, which every face shows as it is (:func:`multiflexi.core.redaction.
run_template_action_options`). Saving a list with a secret option left blank (or as
the marker) keeps the stored secret, so a face can send back what it was shown. The
executor gets the decrypted options from :func:`resolved_options`.

Every change is checked whole before anything is written (``ValidationError`` with
each problem on its field, ``success.0.url``), needs write access to the run
template, and leaves one audit row naming the actions and their option names,
never a value.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import access, audit, fieldtypes, ids, loaders, redaction, vault
from multiflexi.core.actionkinds import (
    BUILTIN,
    GROUP,
    OPTION_ALIASES,
    OPTION_TYPES,
    Kind,
    OptionSpec,
    installed,
    kind,
    kinds,
    secret_names,
)
from multiflexi.core.audit import Actor
from multiflexi.core.errors import FieldError, NotFound, ValidationError
from multiflexi.core.models import RunTemplate, RunTemplateAction
from multiflexi.core.texts import msg
from multiflexi.core.unit import transaction
from multiflexi.database.tables import REDACTED

#: the two lists of a run template: after a success, after anything else
MODES = ("success", "failure")
#: other spellings of a mode a caller may use (the original's ``fail``)
MODE_ALIASES: Mapping[str, str] = {"fail": "failure"}
#: the vault context of the sealed secret options (``crypto.column_context`` of the column)
SECRETS_CONTEXT = "run_template_actions.secrets"
#: the longest kind name and option name (the column's width), and the longest text value
MAX_NAME = 64
MAX_TEXT = 2000
#: the most actions one list may hold
MAX_ACTIONS = 50
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def mode_of(mode: str) -> str:
    """``mode`` as stored (``fail`` is ``failure``); ValidationError for anything else."""
    normal = MODE_ALIASES.get(mode, mode)
    if normal not in MODES:
        raise ValidationError(
            msg("actions not changed"),
            [("mode", msg("{mode!r} is not a list: success or failure", mode=mode))],
        )
    return normal


@dataclasses.dataclass(frozen=True)
class ActionView:
    """One action of a list as a face shows it (secret options redacted)."""

    mode: str
    action: str
    enabled: bool
    position: int
    options: dict[str, Any]
    #: whether the kind is built in or installed (a list may still name one uninstalled)
    known: bool
    #: the names of the secret options stored (shown redacted among ``options``)
    secrets: tuple[str, ...] = ()


def _view(row: RunTemplateAction, position: int) -> ActionView:
    return ActionView(
        mode=row.mode,
        action=row.action,
        enabled=row.enabled,
        position=position,
        options=redaction.run_template_action_options(row),
        known=kind(row.action) is not None,
        secrets=tuple(redaction.run_template_action_secret_names(row)),
    )


def _rows(session: Session, rt_id: int, mode: str | None = None) -> list[RunTemplateAction]:
    query = sa.select(RunTemplateAction).where(RunTemplateAction.run_template_id == rt_id)
    if mode is not None:
        query = query.where(RunTemplateAction.mode == mode)
    return list(
        session.scalars(query.order_by(RunTemplateAction.position, RunTemplateAction.id)).all()
    )


def list_actions(
    session: Session, actor: Actor, rt_id: int, mode: str | None = None
) -> dict[str, list[ActionView]]:
    """The run template's lists, mode -> actions in order (one mode when ``mode`` is given)."""
    run_template = loaders.run_template(session, actor, rt_id)
    modes = MODES if mode is None else (mode_of(mode),)
    rows = _rows(session, run_template.id)
    return {
        m: [_view(row, i) for i, row in enumerate(r for r in rows if r.mode == m)] for m in modes
    }


# -- checking a list ---------------------------------------------------------------------


@dataclasses.dataclass
class _Checked:
    action: str
    enabled: bool
    plain: dict[str, Any]
    #: secret options given anew
    secrets: dict[str, str]
    #: secret options whose stored value stays
    kept: set[str]


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == REDACTED


def _convert(
    session: Session,
    actor: Actor,
    run_template: RunTemplate,
    spec: OptionSpec,
    value: Any,
) -> tuple[Any, str | None]:
    """(the value as stored, None) or (None, what is wrong with it)."""
    if spec.type in ("string", "url"):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return None, "must be text"
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            return None, f"must be at most {MAX_TEXT} characters"
        if spec.type == "url" and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", text):
            return None, "must be an http:// or https:// address"
        return text, None
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value, None
        word = str(value).strip().lower() if isinstance(value, str | int) else None
        if word in fieldtypes.TRUE_WORDS:
            return True, None
        if word in fieldtypes.FALSE_WORDS:
            return False, None
        return None, "must be true or false"
    number = _whole(value)
    if number is None or not 0 <= number <= ids.MAX_ID:
        what = "the id of a run template" if spec.type == "run_template" else "a whole number"
        return None, f"must be {what} (0 to {ids.MAX_ID})"
    if spec.type == "run_template":
        return number, _chain_problem(session, actor, run_template, number)
    return number, None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,12}\s*", value):
        return int(value)
    return None


def _chain_problem(
    session: Session, actor: Actor, run_template: RunTemplate, target_id: int
) -> str | None:
    if target_id == run_template.id:
        return "a run template cannot chain to itself"
    try:
        target = loaders.run_template(session, actor, target_id)
    except NotFound as exc:
        return exc.message
    if target.company_id != run_template.company_id:
        return "must be a run template of the same company"
    return None


def _check_item(
    session: Session,
    actor: Actor,
    run_template: RunTemplate,
    prefix: str,
    item: Any,
    stored: Mapping[str, RunTemplateAction],
    problems: list[FieldError],
) -> _Checked | None:
    if not isinstance(item, Mapping):
        problems.append(FieldError(prefix, msg("must be an object with action and options")))
        return None
    unknown_keys = sorted(str(k) for k in set(item) - {"action", "options", "enabled"})
    for key in unknown_keys:
        problems.append(FieldError(f"{prefix}.{key}", msg("not a member of an action")))
    name = item.get("action")
    if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > MAX_NAME:
        problems.append(FieldError(f"{prefix}.action", msg("give the name of a kind of action")))
        return None
    enabled = item.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(FieldError(f"{prefix}.enabled", msg("must be true or false")))
    options = item.get("options") or {}
    if not isinstance(options, Mapping):
        problems.append(FieldError(f"{prefix}.options", msg("must be an object of option values")))
        return None
    found = kind(name)
    before = stored.get(name)
    if found is None:
        # a kind no longer installed may stay in the list as it is, never be added or changed
        if before is not None and dict(options) == dict(before.options or {}):
            return _Checked(name, bool(enabled), dict(options), {}, set(before_secrets(before)))
        listed = ", ".join(k.name for k in kinds())
        problems.append(
            FieldError(
                f"{prefix}.action",
                msg("no action named {name!r} is installed ({listed})", name=name, listed=listed),
            )
        )
        return None
    if not found.builtin:
        return _check_free(prefix, name, bool(enabled), options, problems)
    aliases = OPTION_ALIASES.get(name, {})
    given: dict[str, Any] = {}
    for key, value in options.items():
        given[aliases.get(str(key), str(key))] = value
    for key in sorted(set(given) - {spec.name for spec in found.options}):
        names = ", ".join(spec.name for spec in found.options) or "none"
        problems.append(
            FieldError(
                f"{prefix}.{key}", msg("not an option of {name} ({names})", name=name, names=names)
            )
        )
    checked = _Checked(name, bool(enabled), {}, {}, set())
    for spec in found.options:
        value = given.get(spec.name)
        if spec.secret and _blank(value):
            if before is not None and spec.name in before_secrets(before):
                checked.kept.add(spec.name)
                continue
            value = None
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                problems.append(FieldError(f"{prefix}.{spec.name}", msg("required")))
            continue
        converted, problem = _convert(session, actor, run_template, spec, value)
        if problem is not None:
            problems.append(FieldError(f"{prefix}.{spec.name}", problem))
        elif spec.secret:
            checked.secrets[spec.name] = converted
        else:
            checked.plain[spec.name] = converted
    return checked


def _check_free(
    prefix: str, name: str, enabled: bool, options: Mapping[Any, Any], problems: list[FieldError]
) -> _Checked:
    plain: dict[str, Any] = {}
    for key, value in options.items():
        field = f"{prefix}.{key}"
        if not isinstance(key, str) or not _NAME.fullmatch(key) or len(key) > MAX_NAME:
            problems.append(FieldError(field, msg("not a valid option name")))
        elif value is not None and not isinstance(value, str | int | float | bool):
            problems.append(FieldError(field, msg("must be text, a number, true or false")))
        elif isinstance(value, str) and len(value) > MAX_TEXT:
            problems.append(
                FieldError(field, msg("must be at most {max_text} characters", max_text=MAX_TEXT))
            )
        else:
            plain[key] = value
    return _Checked(name, enabled, plain, {}, set())


def before_secrets(row: RunTemplateAction) -> list[str]:
    """The names of a stored action's sealed options (their places hold the marker)."""
    if row.secrets is None:
        return []
    return [k for k, v in (row.options or {}).items() if v == REDACTED]


def _check_list(
    session: Session,
    actor: Actor,
    run_template: RunTemplate,
    mode: str,
    items: Any,
    stored: Mapping[str, RunTemplateAction],
    problems: list[FieldError],
) -> list[_Checked]:
    if isinstance(items, str | bytes) or not isinstance(items, Sequence):
        problems.append(FieldError(mode, msg("must be a list of actions")))
        return []
    if len(items) > MAX_ACTIONS:
        problems.append(
            FieldError(mode, msg("at most {max_actions} actions", max_actions=MAX_ACTIONS))
        )
        return []
    checked: list[_Checked] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        one = _check_item(session, actor, run_template, f"{mode}.{index}", item, stored, problems)
        if one is None:
            continue
        if one.action in seen:
            problems.append(
                FieldError(
                    f"{mode}.{index}.action",
                    msg("{action} is already in this list", action=one.action),
                )
            )
        seen.add(one.action)
        checked.append(one)
    return checked


# -- writing -----------------------------------------------------------------------------


def _write(
    session: Session,
    run_template: RunTemplate,
    mode: str,
    checked: list[_Checked],
    stored: Mapping[str, RunTemplateAction],
) -> None:
    made: list[RunTemplateAction] = []
    for position, item in enumerate(checked):
        before = stored.get(item.action)
        secrets = dict(item.secrets)
        token: str | None = None
        key_id: str | None = None
        if item.kept and before is not None and before.secrets is not None:
            if secrets:
                old = json.loads(vault.unseal(session, before.secrets, SECRETS_CONTEXT))
                secrets = {k: old[k] for k in item.kept if k in old} | secrets
            else:
                token, key_id = before.secrets, before.secrets_key_id
        if secrets:
            token, key_id = vault.seal(
                session, json.dumps(secrets, sort_keys=True), SECRETS_CONTEXT
            )
        names = set(secrets) | (item.kept if token is not None else set())
        made.append(
            RunTemplateAction(
                run_template_id=run_template.id,
                mode=mode,
                action=item.action,
                enabled=item.enabled,
                options=item.plain | dict.fromkeys(sorted(names), REDACTED) or None,
                secrets=token,
                secrets_key_id=key_id,
                position=position,
            )
        )
    for row in stored.values():
        session.delete(row)
    session.flush()  # the old rows go before the new ones take their (mode, kind) keys
    session.add_all(made)
    session.flush()


def _described(checked: Iterable[_Checked]) -> list[dict[str, Any]]:
    """What the audit row says of a list: kinds, enabled and option names, no values."""
    return [
        {
            "action": c.action,
            "enabled": c.enabled,
            "options": sorted({*c.plain, *c.secrets, *c.kept}),
        }
        for c in checked
    ]


def set_actions(
    session: Session,
    rt_id: int,
    lists: Mapping[str, Any],
    *,
    actor: Actor,
) -> dict[str, list[ActionView]]:
    """Replace the lists given (mode -> items ``{action, options, enabled}``); the
    other mode's list stays. Everything is checked before anything is written."""
    run_template = loaders.run_template(session, actor, rt_id, access.WRITE)
    problems: list[FieldError] = []
    plan: list[tuple[str, list[_Checked], dict[str, RunTemplateAction]]] = []
    for given_mode, items in lists.items():
        mode = MODE_ALIASES.get(given_mode, given_mode)
        if mode not in MODES:
            problems.append(
                FieldError(given_mode, msg("not a list of actions (success or failure)"))
            )
            continue
        stored = {row.action: row for row in _rows(session, run_template.id, mode)}
        checked = _check_list(session, actor, run_template, mode, items, stored, problems)
        plan.append((mode, checked, stored))
    if problems:
        session.rollback()
        raise ValidationError(msg("actions not changed"), problems)
    with transaction(session, msg("the actions were changed meanwhile; try again")):
        for mode, checked, stored in plan:
            _write(session, run_template, mode, checked, stored)
            audit.record(
                session,
                actor,
                "set_actions",
                "run_template",
                run_template.id,
                company_id=run_template.company_id,
                details={"mode": mode, "actions": _described(checked)},
            )
    return list_actions(session, actor, run_template.id)


def _current(session: Session, rt_id: int, mode: str) -> list[dict[str, Any]]:
    """A mode's stored list as items for :func:`set_actions` (secrets kept by the marker)."""
    return [
        {"action": row.action, "enabled": row.enabled, "options": dict(row.options or {})}
        for row in _rows(session, rt_id, mode)
    ]


def _index(items: list[dict[str, Any]], mode: str, action: str) -> int:
    for i, item in enumerate(items):
        if item["action"] == action:
            return i
    raise NotFound(msg("{mode} action", mode=mode), action)


def put_action(
    session: Session,
    rt_id: int,
    mode: str,
    action: str,
    options: Mapping[str, Any] | None = None,
    *,
    enabled: bool | None = None,
    actor: Actor,
) -> dict[str, list[ActionView]]:
    """Add an action at the end of a list, or give the one of that kind new options
    (a secret one left blank keeps its value); ``enabled`` None keeps it (new: on)."""
    mode = mode_of(mode)
    loaders.run_template(session, actor, rt_id, access.WRITE)
    items = _current(session, rt_id, mode)
    item: dict[str, Any] = {"action": action, "options": dict(options or {})}
    try:
        at = _index(items, mode, action)
    except NotFound:
        item["enabled"] = True if enabled is None else enabled
        items.append(item)
    else:
        item["enabled"] = items[at]["enabled"] if enabled is None else enabled
        items[at] = item
    return set_actions(session, rt_id, {mode: items}, actor=actor)


def remove_action(
    session: Session, rt_id: int, mode: str, action: str, *, actor: Actor
) -> dict[str, list[ActionView]]:
    """Take the action of kind ``action`` out of a list (NotFound when it is not in it)."""
    mode = mode_of(mode)
    loaders.run_template(session, actor, rt_id, access.WRITE)
    items = _current(session, rt_id, mode)
    del items[_index(items, mode, action)]
    return set_actions(session, rt_id, {mode: items}, actor=actor)


def set_enabled(
    session: Session, rt_id: int, mode: str, action: str, enabled: bool, *, actor: Actor
) -> dict[str, list[ActionView]]:
    """Enable or disable one action of a list (it keeps its place and options)."""
    mode = mode_of(mode)
    loaders.run_template(session, actor, rt_id, access.WRITE)
    items = _current(session, rt_id, mode)
    items[_index(items, mode, action)]["enabled"] = enabled
    return set_actions(session, rt_id, {mode: items}, actor=actor)


def move_action(
    session: Session, rt_id: int, mode: str, action: str, step: int, *, actor: Actor
) -> dict[str, list[ActionView]]:
    """Move an action ``step`` places later (negative: earlier), stopping at either end."""
    mode = mode_of(mode)
    loaders.run_template(session, actor, rt_id, access.WRITE)
    items = _current(session, rt_id, mode)
    at = _index(items, mode, action)
    to = max(0, min(len(items) - 1, at + step))
    items.insert(to, items.pop(at))
    return set_actions(session, rt_id, {mode: items}, actor=actor)


# -- the executor's side -----------------------------------------------------------------


def resolved_options(
    session: Session, options: Mapping[str, Any] | None, secrets: str | None
) -> dict[str, Any]:
    """An action's options as the plug-in needs them: the plain ones with each sealed
    secret decrypted in its place."""
    resolved = {k: v for k, v in (options or {}).items() if v != REDACTED}
    if secrets is not None:
        resolved |= json.loads(vault.unseal(session, secrets, SECRETS_CONTEXT))
    return resolved


__all__ = [
    "BUILTIN",
    "GROUP",
    "MAX_ACTIONS",
    "MAX_NAME",
    "MAX_TEXT",
    "MODES",
    "MODE_ALIASES",
    "OPTION_ALIASES",
    "OPTION_TYPES",
    "SECRETS_CONTEXT",
    "ActionView",
    "Kind",
    "OptionSpec",
    "before_secrets",
    "installed",
    "kind",
    "kinds",
    "list_actions",
    "mode_of",
    "move_action",
    "put_action",
    "remove_action",
    "resolved_options",
    "secret_names",
    "set_actions",
    "set_enabled",
]
