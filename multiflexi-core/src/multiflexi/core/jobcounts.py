"""The number of jobs of each company (table ``job_counts``), kept exact.

A job list filtered by company only (or by the companies a user may see, or not
at all) takes its total from these rows: a sum over a few rows instead of a
``COUNT(*)`` over every matching job (:func:`multiflexi.core.jobs.list_jobs`).

The rule that keeps them exact, for every code path that inserts or deletes job
rows: change the jobs first, then :func:`add` the difference per company, in
the same transaction. :func:`recount` locks the counter rows before it counts,
so a writer that changed jobs but not yet its counter is not counted and adds
its difference after the recount commits, while one that already changed its
counter is waited for and counted. The only other ways job rows disappear are
the foreign-key cascades: a deleted company takes its counter row with it, and
:func:`delete_jobs_of` deletes (and subtracts) the jobs of run templates before
they are deleted.

A company inserted behind the core's back has no counter row: the first
:func:`add` for it inserts the row with the exact count of its jobs, and
:func:`total` counts the jobs of such a company instead of reading a row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core.models import Company, Job, RunTemplate
from multiflexi.core.unit import rowcount
from multiflexi.database import tables as t

_COUNTS = t.job_counts


def _insert_counted(session: Session, company_id: int) -> bool:
    """Insert the counter row of a company with the exact count of its jobs.

    The count includes what the caller's transaction did to the company's jobs.
    False (and nothing changes) when the row exists already: a concurrent writer
    inserted it first, with a count that did not include this transaction's jobs.
    """
    select = sa.select(sa.literal(company_id, sa.Integer), sa.func.count().label("total")).where(
        Job.company_id == company_id
    )
    dialect = session.get_bind().dialect
    statement: Any
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(_COUNTS).from_select(["company_id", "total"], select)
        statement = statement.on_conflict_do_nothing()
    elif dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(_COUNTS).from_select(["company_id", "total"], select)
        statement = statement.on_conflict_do_nothing()
    else:  # MariaDB / MySQL
        statement = (
            sa.insert(_COUNTS).from_select(["company_id", "total"], select).prefix_with("IGNORE")
        )
    if dialect.insert_returning:
        inserted = session.execute(statement.returning(_COUNTS.c.company_id)).first()
        return inserted is not None
    # SQLAlchemy keeps the rowcount of an INSERT only when asked to
    return rowcount(session.execute(statement.execution_options(preserve_rowcount=True))) == 1


_ADD_ONE = (
    _COUNTS.update()
    .where(_COUNTS.c.company_id == sa.bindparam("counted_company"))
    .values(total=_COUNTS.c.total + sa.bindparam("number", type_=sa.BigInteger))
)


def _update(session: Session, changes: Mapping[int, int]) -> int:
    if len(changes) == 1:  # every launch: a statement built once
        ((company_id, number),) = changes.items()
        return rowcount(
            session.execute(_ADD_ONE, {"counted_company": company_id, "number": number})
        )
    statement = (
        sa.update(_COUNTS)
        .where(_COUNTS.c.company_id.in_(sorted(changes)))
        .values(total=_COUNTS.c.total + sa.case(dict(changes), value=_COUNTS.c.company_id, else_=0))
    )
    return rowcount(session.execute(statement))


def add(session: Session, changes: Mapping[int, int]) -> None:
    """Add ``changes`` (company id -> jobs inserted, negative for jobs deleted).

    One UPDATE for all companies, in the caller's transaction (the caller
    commits), after the caller's own insert or delete of the jobs. A company
    without a counter row gets one, with the exact count of its jobs.
    """
    changes = {int(c): int(n) for c, n in changes.items() if n}
    if not changes or _update(session, changes) == len(changes):
        return
    present = set(
        session.scalars(
            sa.select(_COUNTS.c.company_id).where(_COUNTS.c.company_id.in_(sorted(changes)))
        )
    )
    for company_id in sorted(set(changes) - present):
        if not _insert_counted(session, company_id):
            # inserted meanwhile by a transaction that did not see ours: add ours to it
            _update(session, {company_id: changes[company_id]})


def create(session: Session, company_id: int) -> None:
    """The counter row of a new company (no jobs yet), in the caller's transaction."""
    session.execute(sa.insert(_COUNTS).values(company_id=company_id, total=0))


def total(session: Session, company_ids: Collection[int] | None = None) -> int:
    """The number of jobs of these companies (of all companies when None).

    A sum over the counter rows; the jobs of a company without one (inserted
    behind the core's back) are counted instead, in a second query that the
    usual case does not need. (The sum is kept free of correlated subqueries:
    their estimated cost would make PostgreSQL JIT-compile a query of a few rows.)
    """
    if company_ids is not None and not company_ids:
        return 0
    joined = Company.__table__.outerjoin(_COUNTS, _COUNTS.c.company_id == Company.id)
    scope = [] if company_ids is None else [Company.id.in_(sorted(company_ids))]
    counted, missing = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(_COUNTS.c.total), 0),
            sa.func.count(Company.id) - sa.func.count(_COUNTS.c.company_id),
        )
        .select_from(joined)
        .where(*scope)
    ).one()
    number = int(counted or 0)
    if missing:
        uncounted = (
            sa.select(Company.id).select_from(joined).where(_COUNTS.c.company_id.is_(None), *scope)
        )
        number += int(
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Job)
                .where(Job.company_id.in_(uncounted.scalar_subquery()))
            )
            or 0
        )
    return number


def delete_jobs_of(session: Session, run_templates: Iterable[RunTemplate]) -> int:
    """Delete the jobs of run templates about to be deleted, and subtract them.

    In the caller's transaction, before it deletes the run templates (whose
    foreign-key cascade would otherwise delete the jobs without a word). The
    run template rows are locked first, so a job created for one of them
    concurrently is either counted here or refused by its foreign key. Returns
    how many jobs were deleted.
    """
    templates = sorted(run_templates, key=lambda rt: rt.id)
    if not templates:
        return 0
    session.execute(
        sa.select(RunTemplate.id)
        .where(RunTemplate.id.in_([rt.id for rt in templates]))
        .order_by(RunTemplate.id)
        .with_for_update()
    )
    removed: dict[int, int] = {}
    for rt in templates:
        result = session.execute(
            sa.delete(Job)
            .where(Job.run_template_id == rt.id)
            .execution_options(synchronize_session=False)
        )
        removed[rt.company_id] = removed.get(rt.company_id, 0) - rowcount(result)
    add(session, removed)
    return -sum(removed.values())


def recount(session: Session) -> dict[int, tuple[int | None, int]]:
    """Set every company's counter to the real number of its jobs, in the caller's transaction.

    Returns the corrections: company id -> (what the counter said, None when the
    company had no counter row; the real number). The counter rows are locked
    (every dialect: an UPDATE of all of them) before the jobs are counted.
    """
    session.execute(sa.update(_COUNTS).values(total=_COUNTS.c.total))
    stored: dict[int, int] = {
        int(company_id): int(number)
        for company_id, number in session.execute(sa.select(_COUNTS.c.company_id, _COUNTS.c.total))
    }
    real: dict[int, int] = {
        int(company_id): int(number)
        for company_id, number in session.execute(
            sa.select(Job.company_id, sa.func.count()).group_by(Job.company_id)
        )
    }
    corrections: dict[int, tuple[int | None, int]] = {}
    for company_id in session.scalars(sa.select(Company.id).order_by(Company.id)).all():
        was, now = stored.get(company_id), real.get(company_id, 0)
        if was == now:
            continue
        if was is None:
            _insert_counted(session, company_id)
        else:
            session.execute(
                sa.update(_COUNTS).where(_COUNTS.c.company_id == company_id).values(total=now)
            )
        corrections[company_id] = (was, now)
    return corrections


__all__ = ["add", "create", "delete_jobs_of", "recount", "total"]
