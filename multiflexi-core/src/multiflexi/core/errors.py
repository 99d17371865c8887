"""The errors a user can cause. Every face (API, CLI, web UI) turns them into messages.

Each error carries a one-line ``message`` fit to show as is; none of them is a
bug. The API maps them to 4xx problem documents, the CLI to exit codes
(``NotFound`` -> 3, everything else -> 1). Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from multiflexi.core.texts import Message, msg


class MultiFlexiError(Exception):
    """Base of every user-facing error."""

    #: short machine-readable kind, stable for API clients and JSON output
    kind = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(MultiFlexiError):
    """A setting is missing or wrong; ``variable`` names it."""

    kind = "configuration"

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


#: the names of what a :class:`NotFound` (or :class:`Ambiguous`) is about, for the faces
#: that translate them (a ``what`` not listed here is shown as it is)
THINGS: tuple[Message, ...] = (
    msg("administrator"),
    msg("API token"),
    msg("application"),
    msg("company"),
    msg("company named"),
    msg("company with IC"),
    msg("content of artifact"),
    msg("credential"),
    msg("credential prototype"),
    msg("credential type"),
    msg("job"),
    msg("membership"),
    msg("run template"),
    msg("user"),
    msg("user with e-mail"),
)


def thing(what: str) -> Message:
    """``what`` (the name of a kind of object) as a :class:`~multiflexi.core.texts.Message`."""
    return (
        what if isinstance(what, Message) else Message(what.replace("{", "{{").replace("}", "}}"))
    )


class NotFound(MultiFlexiError):
    """An id, code or name that does not exist (or that the caller may not see)."""

    kind = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(msg("{what} {key} not found", what=thing(what), key=key))
        self.what = what
        self.key = key


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with the input, and the input it is about.

    ``field`` is the name a form or an API request uses for that input (``slug``,
    ``values.API_TOKEN``, a manifest's ``environment.API_TOKEN.type``); None when
    the problem is about the whole object. ``message`` is what a page shows beside
    the input. ``label`` is how the one-line form (:attr:`line`) names what the
    problem is about: None names it as ``field``, ``""`` not at all (the message
    says it); a problem about the whole object may still name, say, a variable.
    """

    field: str | None
    message: str
    label: str | None = None

    @property
    def line(self) -> str:
        """The problem on one line: ``"field: message"``, or the message alone."""
        name = self.field if self.label is None else self.label
        return f"{name}: {self.message}" if name else self.message

    def __str__(self) -> str:
        return self.line


#: what a :class:`ValidationError` accepts as one problem: a :class:`FieldError`, a
#: ``(field, message)`` pair, a ``(field, message, label)`` triple, or a message about
#: the whole object
Problem = FieldError | tuple[str | None, str] | tuple[str | None, str, str] | str


def field_errors(problems: Iterable[Problem]) -> list[FieldError]:
    """Each problem as a :class:`FieldError` (pairs, triples and whole-object messages)."""
    result: list[FieldError] = []
    for problem in problems:
        if isinstance(problem, FieldError):
            result.append(problem)
        elif isinstance(problem, str):
            result.append(FieldError(None, problem))
        else:
            result.append(FieldError(*problem))
    return result


class ValidationError(MultiFlexiError):
    """Input that breaks a rule; ``problems`` lists every violation with the field it is about.

    ``errors`` gives the same problems one line each (``"field: message"`` or the
    message alone), as the API and the CLI show them; :meth:`for_field` and
    :meth:`general` sort them for a form that shows each beside its input.

    An error that lists no problems is one problem itself, its ``summary`` ("the
    password is too short: ..."); ``field`` names the input it is about, if one.
    """

    kind = "validation"

    def __init__(
        self, message: str, problems: Iterable[Problem] = (), *, field: str | None = None
    ) -> None:
        self.problems = field_errors(problems)
        full = message if not self.problems else f"{message}: " + "; ".join(self.errors)
        super().__init__(full)
        self.summary = message
        self.field = field

    @property
    def errors(self) -> list[str]:
        """Every problem on one line, in order."""
        return [problem.line for problem in self.problems]

    def placed(self) -> list[FieldError]:
        """Every problem where a form shows it: the listed ones, else the summary itself."""
        if self.problems:
            return list(self.problems)
        return [FieldError(self.field, self.summary, "")]

    def for_field(self, field: str) -> list[str]:
        """The messages about ``field``, to show beside its input."""
        return [p.message for p in self.placed() if p.field == field]

    def general(self) -> list[str]:
        """The problems about no one field but the whole object (to show above the form).

        Each on one line, so that one naming what it is about (a variable) still does.
        """
        return [p.line for p in self.placed() if p.field is None]


class MissingRequired(ValidationError):
    """Required configuration fields that nothing fills; ``missing`` names them, in order.

    A launch may give them as one-time values (the original's launch page asks for
    them); every face shows each name. Each problem's field is ``group.NAME``: the
    run template's ``values`` (default) or a launch's one-time ``overrides``.
    """

    def __init__(self, message: str, missing: Iterable[str], group: str = "values") -> None:
        self.missing = list(missing)
        super().__init__(
            message, [FieldError(f"{group}.{name}", msg("required"), name) for name in self.missing]
        )


class Conflict(MultiFlexiError):
    """The change clashes with existing data (a duplicate slug, a used name, ...)."""

    kind = "conflict"


class Ambiguous(Conflict):
    """A natural key (a company's IC or name, a user's e-mail) matches more than one object.

    The database does not make these keys unique, so a lookup that must answer one
    object refuses instead of choosing; ``ids`` lists the matches, in id order.
    """

    kind = "ambiguous"

    def __init__(self, what: str, key: object, ids: Iterable[int]) -> None:
        self.what = what
        self.key = key
        self.ids = list(ids)
        listed = ", ".join(str(i) for i in self.ids)
        super().__init__(
            msg(
                "{what} {key} is not unique: ids {ids} match; choose one by id",
                what=thing(what),
                key=key,
                ids=listed,
            )
        )


class InvalidTransition(MultiFlexiError):
    """A job (or other object) is not in a state that allows the requested change."""

    kind = "invalid_transition"


class PermissionDenied(MultiFlexiError):
    """The caller is known but may not do this."""

    kind = "permission_denied"


class SchemaMismatch(MultiFlexiError):
    """The database schema is not the one this code knows; the message says what to run."""

    kind = "schema"


class DecryptionError(MultiFlexiError):
    """A secret cannot be decrypted: wrong ENCRYPTION_MASTER_KEY or a damaged value."""

    kind = "decryption"


__all__ = [
    "THINGS",
    "Ambiguous",
    "ConfigurationError",
    "Conflict",
    "DecryptionError",
    "FieldError",
    "InvalidTransition",
    "MissingRequired",
    "MultiFlexiError",
    "NotFound",
    "PermissionDenied",
    "Problem",
    "SchemaMismatch",
    "ValidationError",
    "field_errors",
    "thing",
]
