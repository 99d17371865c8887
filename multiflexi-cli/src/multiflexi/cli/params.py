"""Options and value parsers shared by the command families (named the same everywhere)."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

F = TypeVar("F", bound=Callable[..., Any])

_RELATIVE = re.compile(r"^\+(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_pairs(
    ctx: click.Context | None, param: click.Parameter | None, values: tuple[str, ...]
) -> dict[str, str]:
    """``KEY=VALUE`` words (repeatable option) as a dict; the original's ``KEY:VALUE`` too."""
    result: dict[str, str] = {}
    for word in values:
        key, sep, value = word.partition("=")
        if not sep:
            key, sep, value = word.partition(":")
        if not sep or not key.strip():
            raise click.BadParameter(f"{word!r} is not KEY=VALUE", ctx=ctx, param=param)
        result[key.strip()] = value
    return result


def _time_error(text: str) -> str:
    return f"{text!r}: use now, +30m, +2h, +1d or an ISO time like 2025-06-01T08:00"


def _parse_time(text: str, zone: dt.tzinfo | str, now: dt.datetime | None) -> dt.datetime:
    moment = now or dt.datetime.now(dt.UTC)
    word = text.strip()
    if word.lower() == "now" or word == "":
        return moment
    relative = _RELATIVE.match(word)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return moment + dt.timedelta(**{_UNITS[unit]: amount})
    parsed = dt.datetime.fromisoformat(word)  # ValueError: not a time
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(zone) if isinstance(zone, str) else zone)
    return parsed


def parse_time(text: str, zone: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """``now``, ``+30m``/``+2h``/``+1d``, or an ISO 8601 time (without a zone: in ``zone``).

    Options read with it check the value with :func:`check_time` first, so a bad
    value is reported naming the option the user gave.
    """
    try:
        return _parse_time(text, zone, now)
    except ValueError:
        raise click.BadParameter(_time_error(text)) from None


def check_time(
    ctx: click.Context | None, param: click.Parameter | None, value: str | None
) -> str | None:
    """Option callback: a usage error naming the option when ``value`` is no time."""
    if value is None:
        return None
    try:
        _parse_time(value, dt.UTC, None)
    except ValueError:
        raise click.BadParameter(_time_error(value), ctx=ctx, param=param) from None
    return value


class IdType(click.ParamType):
    """An object id: a whole number from 1 to the largest id the database stores.

    Every id option of every command uses :data:`ID`, so a number no object can
    have (``--id 99999999999999999999``, ``--id 0``) is a usage error naming the
    option (exit 2), never a query the database would overflow on.
    """

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from multiflexi.core import ids

        if ids.is_id(value):
            return int(value)
        text = str(value).strip()
        number = ids.parse(text)
        if number is None:
            what = "an id" if ids.looks_like_id(text) or text.startswith("-") else "a number"
            self.fail(
                f"{_shown(text)} is not {what}: ids are whole numbers from {ids.MIN_ID}"
                f" to {ids.MAX_ID}",
                param,
                ctx,
            )
        return number


def _shown(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class IdOrKeyType(IdType):
    """An id or a natural key (a slug, a name): text, but digits must be an id in range."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from multiflexi.core import ids

        if isinstance(value, str) and ids.looks_like_id(value.strip()):
            return str(super().convert(value, param, ctx))
        return value


#: the type of every id option (``--id``, ``--user-id``, ``--app-id``, ...)
ID = IdType()
#: the type of every option that takes an id or a slug (``--company``)
ID_OR_KEY = IdOrKeyType()


def id_option(help_text: str = "Id of the object.", *, required: bool = True) -> Callable[[F], F]:
    return click.option("--id", "object_id", type=ID, required=required, help=help_text)


class LazyChoice(click.Choice[Any]):
    """A :class:`click.Choice` whose choices are loaded on first use, from the core.

    The choices come from modules that import SQLAlchemy; loading them only when a
    value is checked (or the command's own help is shown) keeps the family's import,
    ``--help`` and ``--version`` light. ``separator`` also accepts several choices in
    one word (``failed,lost``); the value is then a tuple of choices.
    """

    def __init__(
        self,
        load: Callable[[], Iterable[str]],
        *,
        case_sensitive: bool = False,
        separator: str | None = None,
    ) -> None:
        self._load = load
        self._loaded: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive
        self.separator = separator

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._load())
        return self._loaded

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:
        self._loaded = tuple(value)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if self.separator is None or not isinstance(value, str):
            return super().convert(value, param, ctx)
        words = [w.strip() for w in value.split(self.separator) if w.strip()]
        if not words:
            self.fail(f"{value!r} names no choice", param, ctx)
        return tuple(super(LazyChoice, self).convert(w, param, ctx) for w in words)


def runtemplate_id_option(help_text: str = "Run template id.") -> Callable[[F], F]:
    """The run template a command is about: ``--id``, also ``--runtemplate-id`` (the original's)."""
    return click.option(
        "--id", "--runtemplate-id", "object_id", type=ID, required=True, help=help_text
    )


def company_option(
    *, required: bool = True, help_text: str = "Company id or slug."
) -> Callable[[F], F]:
    return click.option(
        "--company-id",
        "--company",
        "company",
        type=ID_OR_KEY,
        required=required,
        help=help_text,
    )


def app_options(func: F) -> F:
    func = click.option("--app-uuid", default=None, help="Application uuid.")(func)
    func = click.option("--app-id", type=ID, default=None, help="Application id.")(func)
    return func


def pagination(default_limit: int = 100) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        func = click.option(
            "--offset", type=click.IntRange(min=0), default=0, help="Skip this many."
        )(func)
        func = click.option(
            "--limit",
            type=click.IntRange(1, 1000),
            default=default_limit,
            show_default=True,
            help="At most this many.",
        )(func)
        return func

    return decorate


def boolean_choice(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ("1", "true", "yes", "y", "on")


BOOL = click.Choice(["true", "false", "yes", "no", "1", "0"], case_sensitive=False)


def resolve_app_id(session: Any, app_id: int | None, app_uuid: str | None) -> int:
    """The application id from ``--app-id`` or ``--app-uuid`` (one of them is required)."""
    if app_id is not None:
        return app_id
    if app_uuid:
        from multiflexi.core import apps

        return apps.get(session, app_uuid).id
    raise click.UsageError("give --app-id or --app-uuid")


def read_secret(label: str, *, hide: bool = True, confirm: bool = False) -> str:
    """A value the user types (hidden on a terminal), else one line of a piped stdin.

    On a terminal it asks (``confirm``: twice). When stdin is not a terminal
    (``echo "$VALUE" | multiflexi-cli ...``) it reads one line, without a prompt and
    without Python's GetPassWarning; an empty stdin is a usage error naming ``label``.
    """
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise click.UsageError(f"{label}: no value (stdin is not a terminal and is empty)")
        return line.rstrip("\r\n")
    value: str = click.prompt(label, hide_input=hide, confirmation_prompt=confirm, err=True)
    return value
