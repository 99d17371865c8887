"""Object ids: the range every supported database stores, and reading one from text.

Ids are ``INTEGER`` columns: 32 bits on PostgreSQL and MariaDB, so a number
beyond :data:`MAX_ID` can name no object anywhere (and SQLite, PostgreSQL and
MariaDB each fail differently when asked for one). Every face checks an id it
is given against this range before it reaches a query: the API's path and
body models, the CLI's id options, the core's lookups by "id or name".

This module imports nothing, so the CLI can use it without loading SQLAlchemy.
"""

from __future__ import annotations

#: the largest id an object can have (INTEGER on PostgreSQL and MariaDB)
MAX_ID = 2**31 - 1
MIN_ID = 1


def is_id(value: object) -> bool:
    """Whether ``value`` is an int (not a bool) that an object could have as its id."""
    return isinstance(value, int) and not isinstance(value, bool) and MIN_ID <= value <= MAX_ID


def looks_like_id(text: str) -> bool:
    """Whether ``text`` is written as an id would be: ASCII digits only.

    A lookup by "id or name" treats such text as an id (found or not), never as a name.
    """
    return isinstance(text, str) and text.isascii() and text.isdigit()


def parse(text: str) -> int | None:
    """The id written in ``text`` (ASCII digits), or None when it is out of range or no number.

    ``"0012"`` is 12; ``"99999999999999999999"`` is None: no object has it.
    """
    if not looks_like_id(text) or len(text.lstrip("0")) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if is_id(number) else None


__all__ = ["MAX_ID", "MIN_ID", "is_id", "looks_like_id", "parse"]
