"""The errors a user can cause. Every face (API, CLI, web UI) turns them into messages.

Each error carries a one-line ``message`` fit to show as is; none of them is a
bug. The API maps them to 4xx problem documents, the CLI to exit codes
(``NotFound`` -> 3, everything else -> 1). Anything else that escapes is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable


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


class NotFound(MultiFlexiError):
    """An id, code or name that does not exist (or that the caller may not see)."""

    kind = "not_found"

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} not found")
        self.what = what
        self.key = key


class ValidationError(MultiFlexiError):
    """Input that breaks a rule; ``errors`` lists every violation, one line each."""

    kind = "validation"

    def __init__(self, message: str, errors: Iterable[str] = ()) -> None:
        self.errors = list(errors)
        full = message if not self.errors else f"{message}: " + "; ".join(self.errors)
        super().__init__(full)
        self.summary = message


class MissingRequired(ValidationError):
    """Required configuration fields that nothing fills; ``missing`` names them, in order.

    A launch may give them as one-time values (the original's launch page asks for
    them); every face shows each name.
    """

    def __init__(self, message: str, missing: Iterable[str]) -> None:
        self.missing = list(missing)
        super().__init__(message, [f"{name}: required" for name in self.missing])


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
        super().__init__(f"{what} {key} is not unique: ids {listed} match; choose one by id")


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
    "Ambiguous",
    "ConfigurationError",
    "Conflict",
    "DecryptionError",
    "InvalidTransition",
    "MissingRequired",
    "MultiFlexiError",
    "NotFound",
    "PermissionDenied",
    "SchemaMismatch",
    "ValidationError",
]
