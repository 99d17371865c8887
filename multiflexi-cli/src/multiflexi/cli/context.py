"""What every command gets: the output format, the settings, a database session, Redis.

Everything is made on first use, so a command that needs no database opens
none, and a command that needs one checks its schema first
(:func:`multiflexi.core.config.require_schema`): an unmigrated or unreachable
database is one line and exit 1, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click

from multiflexi.cli import output

if TYPE_CHECKING:
    from redis import Redis
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from multiflexi.core.audit import Actor
    from multiflexi.core.config import Settings

P = ParamSpec("P")
R = TypeVar("R")


class App:
    """The state of one invocation of ``multiflexi-cli``."""

    def __init__(self, *, fmt: str, env_file: str | None, verbose: bool) -> None:
        self.fmt = fmt
        self.env_file = env_file
        self.verbose = verbose
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._session: Session | None = None
        self._redis: Redis | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from multiflexi.core.config import load_settings

            self._settings = load_settings(env_file=self.env_file)
        return self._settings

    @property
    def session(self) -> Session:
        """A session on a database whose schema this code knows."""
        if self._session is None:
            from multiflexi.core import config

            config.require_schema(self.settings)
            self._engine = config.create_engine(self.settings.database_url)
            self._session = config.session_factory(self._engine, self.settings)()
        return self._session

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            from multiflexi.core import queue

            self._redis = queue.connect(self.settings.redis_url)
        return self._redis

    @property
    def actor(self) -> Actor:
        from multiflexi.core.audit import Actor

        return Actor.cli()

    def emit(self, value: Any, *, columns: Sequence[str] | None = None) -> None:
        output.emit(self.fmt, value, columns=columns)

    def message(self, text: str) -> None:
        output.message(text)

    def error(self, kind: str, text: str, errors: Sequence[str] = (), code: int = 1) -> None:
        """Report an error without stopping (the command decides its exit code)."""
        output.report_error(self.fmt, kind, text, code, errors)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._engine is not None:
            self._engine.dispose()


def pass_app(func: Callable[Concatenate[App, P], R]) -> Callable[P, R]:
    """Give a command the :class:`App` of the invocation as its first argument."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        app = click.get_current_context().find_object(App)
        if app is None:  # pragma: no cover - every command runs under the root group
            raise click.UsageError("run this command through multiflexi-cli")
        return func(app, *args, **kwargs)

    return wrapper
