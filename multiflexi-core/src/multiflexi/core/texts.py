"""Texts for people that a face may show in another language.

The core speaks English: every message it builds for a person (a validation error,
a refusal, a schedule's description) is a :class:`Message`, a ``str`` whose value is
the English text, so the API, the CLI and every comparison see plain English. A
face that speaks other languages (the web UI) reads :attr:`Message.template`, the
English text with ``{name}`` placeholders, looks it up in its catalog and fills the
placeholders from :attr:`Message.params` (a param may itself be a Message: a unit,
the name of a kind of object, a weekday).

Build them with :func:`msg` and a literal template (``msg("{what} {key} not found",
what=..., key=...)``): the web UI's catalog extraction finds the ``msg("...")`` calls
of the core's sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Message(str):
    """An English text (the str value) with the template and params it was made of."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, params: Mapping[str, object] | None = None) -> Message:
        values = dict(params or {})
        self = super().__new__(cls, template.format(**values))
        self.template = template
        self.params = values
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy rebuild it from its parts (a str subclass would otherwise
        # be rebuilt from its English value, losing the template)
        return (Message, (self.template, self.params))


def msg(template: str, /, **params: object) -> Message:
    """The message ``template.format(**params)``, keeping ``template`` and ``params``.

    ``template`` is the English text with ``{name}`` placeholders (``{name!r}`` and
    format specs as in :meth:`str.format`; a literal brace is written twice).
    """
    return Message(template, params)


__all__ = ["Message", "msg"]
