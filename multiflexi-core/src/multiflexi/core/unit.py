"""One business action, one transaction; and the page object lists return."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from multiflexi.core.errors import Conflict

T = TypeVar("T")

MAX_LIMIT = 1000


def rows(
    session: Session, statement: sa.Executable, params: Mapping[str, Any] | None = None
) -> Sequence[sa.Row]:
    """The rows of a prebuilt plain (Core) statement, in the session's transaction.

    The session's pending changes are flushed first, as an ORM query would do
    itself: a plain statement does not, and would miss rows added just before.
    """
    session.flush()
    return session.execute(statement, params).all()


#: ``session.info`` key: (what, id) pairs a reader found to have no rows this session
_NONE = "multiflexi.none"


def note_none(session: Session, *pairs: tuple[str, int]) -> None:
    """Remember that these (what, id) have no rows, until the next note or the session's end.

    For a reader that learnt it as part of a bigger read (the executor's read of the
    job it starts): :func:`known_none` then spares the queries for that job. Each
    note replaces the last, so a long session never trusts an old one.
    """
    session.info[_NONE] = frozenset(pairs)


def known_none(session: Session, what: str, ident: int) -> bool:
    """Whether :func:`note_none` said ``what`` of ``ident`` has no rows (no query needed)."""
    return (what, ident) in session.info.get(_NONE, ())


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


def rowcount(result: Any) -> int:
    """Rows an UPDATE, DELETE or INSERT changed (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def clamp(limit: int, offset: int) -> tuple[int, int]:
    """Bring limit and offset into range (1..MAX_LIMIT, >= 0)."""
    return max(1, min(int(limit), MAX_LIMIT)), max(0, int(offset))


#: a select statement, of whatever columns
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def in_companies(
    query: _Query,
    column: Any,
    company_ids: Iterable[int] | None,
    company_id: int | None = None,
) -> _Query:
    """``query`` narrowed to the rows whose ``column`` (a company id) is one of
    ``company_ids`` (None: every company; empty: none), and is ``company_id`` when given."""
    if company_id is not None:
        query = query.where(column == company_id)
    if company_ids is not None:
        query = query.where(column.in_(sorted(company_ids)))
    return query


def paginate(
    session: Session,
    query: Select[Any],
    order_by: ColumnElement[Any]
    | InstrumentedAttribute[Any]
    | tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...],
    limit: int,
    offset: int,
    *,
    total: Callable[[], int] | None = None,
) -> Page[Any]:
    """One page of a query in a stable order, with the total number of matches.

    ``order_by`` is one column or a tuple of them (which together must be unique).

    The total is always exact. It is looked up only when the page cannot tell it: a
    page shorter than ``limit`` that has items, or that starts at 0, is the end of
    the list, so the total is ``offset + len(items)``. Otherwise it is ``total()``
    when the caller gives one (a number it keeps exact elsewhere, such as the job
    counters of :mod:`multiflexi.core.jobcounts`), else a ``COUNT(*)`` over the
    filtered query, whose cost grows with the number of matches (on PostgreSQL,
    about 65 ms per million rows on two cores: see bench/bench_api.py).
    """
    limit, offset = clamp(limit, offset)
    order = order_by if isinstance(order_by, tuple) else (order_by,)
    items = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
    if len(items) < limit and (items or offset == 0):
        return Page(items, offset + len(items), limit, offset)
    if total is not None:
        return Page(items, total(), limit, offset)
    counted = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    return Page(items, counted, limit, offset)


def apply_changes(target: object, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Set the attributes that really change; returns those (for the audit row)."""
    changed = {k: v for k, v in changes.items() if getattr(target, k) != v}
    for key, value in changed.items():
        setattr(target, key, value)
    return changed


__all__ = [
    "MAX_LIMIT",
    "Page",
    "apply_changes",
    "clamp",
    "known_none",
    "note_none",
    "paginate",
    "rowcount",
    "rows",
    "transaction",
]
