"""The errors of multiflexi.database that a user can cause, each with a one-line message.

- :class:`SettingError`: a setting (an environment variable, an env file, a command-line
  option) is missing or wrong. Its ``variable`` names the setting.
- :class:`DatabaseUnavailable`: the database cannot be used: the driver is missing, the
  server is unreachable, the login is refused, the database does not exist. Its
  ``problem`` says which; :meth:`DatabaseSettings.explain
  <multiflexi.database.settings.DatabaseSettings.explain>` turns it into a
  :class:`SettingError` naming the setting to fix.
- :class:`MigrationError`: a migration request that cannot be carried out (an unknown
  revision, a database newer than this code). Nothing was changed.

No message ever contains a password.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["DatabaseUnavailable", "MigrationError", "Problem", "SettingError"]

#: what went wrong when connecting
Problem = Literal["driver", "unreachable", "authentication", "database", "other"]


class SettingError(Exception):
    """A missing or wrong setting; ``str()`` is ``"VARIABLE: message"`` on one line."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(variable, message)
        self.variable = variable
        self.message = message

    def __str__(self) -> str:
        return f"{self.variable}: {self.message}"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or used; ``message`` is one line, password-free."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(problem, message)
        self.problem: Problem = problem
        self.message = message

    def __str__(self) -> str:
        return self.message


class MigrationError(Exception):
    """A migration request that cannot be carried out; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
