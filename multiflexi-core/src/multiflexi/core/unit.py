"""One business action, one transaction; and the page object lists return."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from multiflexi.core.errors import Conflict

T = TypeVar("T")

MAX_LIMIT = 1000


@contextmanager
def transaction(
    session: Session, conflict: str = "the change conflicts with existing data"
) -> Iterator[Session]:
    """Commit what the block did, or roll all of it back.

    A database integrity error (a unique key the caller did not check first,
    a concurrent insert) becomes :class:`Conflict` with the given message, so
    a race never surfaces as a traceback; any other error propagates after the
    rollback, so a failed action changes nothing.
    """
    try:
        yield session
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(conflict) from None
    except BaseException:
        session.rollback()
        raise


@dataclasses.dataclass(frozen=True)
class Page(Generic[T]):
    """A slice of a list in a stable order, with the total number of matches."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int


def clamp(limit: int, offset: int) -> tuple[int, int]:
    """Bring limit and offset into range (1..MAX_LIMIT, >= 0)."""
    return max(1, min(int(limit), MAX_LIMIT)), max(0, int(offset))
