"""The catalogue of the kinds of actions after a job: the built-in ones with their options,
and those installed as plug-ins (entry points of :data:`GROUP`), whose options are free.

:mod:`multiflexi.core.actions` keeps a run template's lists of them and re-exports these
names; :mod:`multiflexi.core.redaction` reads here which options are secret.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

#: the entry point group of the action plug-ins (the executor loads them from it)
GROUP = "multiflexi.actions"
#: the option types of the catalogue
OPTION_TYPES = ("string", "url", "integer", "boolean", "run_template")


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One option of a kind: its type, whether it is required, its default, whether secret."""

    name: str
    type: str
    required: bool = False
    default: Any = None
    secret: bool = False
    help: str = ""


@dataclasses.dataclass(frozen=True)
class Kind:
    """A kind of action: a built-in one with declared options, or an installed plug-in."""

    name: str
    label: str
    help: str
    options: tuple[OptionSpec, ...] = ()
    builtin: bool = True

    def option(self, name: str) -> OptionSpec | None:
        return next((spec for spec in self.options if spec.name == name), None)

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.options if spec.secret)


#: the kinds the executor ships, in the order the faces offer them
BUILTIN: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "webhook",
            "Webhook",
            "POST the job's outcome (and its output) as JSON to a URL",
            (
                OptionSpec(
                    "url",
                    "url",
                    required=True,
                    secret=True,
                    help="http:// or https:// address; kept secret (it may carry a token)",
                ),
                OptionSpec("timeout", "integer", default=10, help="seconds to wait for an answer"),
                OptionSpec(
                    "include_output",
                    "boolean",
                    default=True,
                    help="send the job's output (at most 64 KiB)",
                ),
            ),
        ),
        Kind(
            "chain",
            "Launch another run template",
            "launch a run template of the same company now, passing this job's values on",
            (
                OptionSpec(
                    "run_template_id",
                    "run_template",
                    required=True,
                    help="the id of the run template to launch",
                ),
            ),
        ),
        Kind(
            "reschedule",
            "Run again later",
            "run this run template again after a delay",
            (OptionSpec("delay", "integer", default=3600, help="seconds after this job ends"),),
        ),
        Kind("deactivate", "Deactivate", "set this run template inactive (its schedule stops)"),
    )
}
#: the original's spellings of options -> the catalogue's
OPTION_ALIASES: Mapping[str, Mapping[str, str]] = {
    "webhook": {"uri": "url"},
    "chain": {"rtid": "run_template_id", "run_template": "run_template_id"},
}


@functools.cache
def installed() -> tuple[str, ...]:
    """The names of the action kinds installed as entry points (the executor's and plug-ins)."""
    return tuple(sorted({ep.name for ep in entry_points(group=GROUP)}))


def kinds() -> list[Kind]:
    """Every kind a list may hold: the built-in ones, then each installed plug-in."""
    plugins = [
        Kind(name, name, "an installed plug-in; its options are free", builtin=False)
        for name in installed()
        if name not in BUILTIN
    ]
    return [*BUILTIN.values(), *plugins]


def kind(name: str) -> Kind | None:
    """The kind named ``name``, None when it is neither built in nor installed."""
    return next((k for k in kinds() if k.name == name), None)


def secret_names(action: str) -> tuple[str, ...]:
    """The names of the options of the kind ``action`` that are secret (none for a plug-in)."""
    found = BUILTIN.get(action)
    return found.secret_names if found is not None else ()


__all__ = [
    "BUILTIN",
    "GROUP",
    "OPTION_ALIASES",
    "OPTION_TYPES",
    "Kind",
    "OptionSpec",
    "installed",
    "kind",
    "kinds",
    "secret_names",
]
