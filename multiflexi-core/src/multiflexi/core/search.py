"""The global search: run templates, applications and companies by part of their
name, and a job by its id (``#123`` or ``123``), limited to what a principal may see.

Every face (the web UI's search box and Ctrl+K, later the API and the CLI) calls
:func:`find`. Run templates and companies come from the principal's companies
only (:func:`multiflexi.core.access.visible_company_ids`); applications are the
catalogue every signed-in user may read; a job is found only when it exists and
belongs to one of the principal's companies, so a user of company A cannot learn
that job 7 of company B exists.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import access
from multiflexi.core.audit import Actor
from multiflexi.core.errors import ValidationError
from multiflexi.core.models import Application, Company, Job, RunTemplate
from multiflexi.core.texts import msg
from multiflexi.core.unit import in_companies

#: the longest search text accepted
MAX_TEXT = 200
#: results per group (the group says when there are more)
LIMIT = 10
#: a job id as typed: "123" or "#123"
_JOB_ID = re.compile(r"#?\s*(\d{1,18})")
#: the largest id a database integer holds (a longer number is no job)
_MAX_ID = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class Hit:
    """One result: what it is called and, for a run template, its company and application."""

    id: int
    name: str
    detail: str | None = None
    company_id: int | None = None


@dataclasses.dataclass(frozen=True)
class Group:
    hits: list[Hit]
    #: more matched than ``hits`` lists
    more: bool


@dataclasses.dataclass(frozen=True)
class JobHit:
    id: int
    state: str
    run_template_id: int
    run_template_name: str
    company_name: str


@dataclasses.dataclass(frozen=True)
class Found:
    text: str
    #: the job the text names by id, when it exists and the principal may see it
    job: JobHit | None
    run_templates: Group
    applications: Group
    companies: Group

    @property
    def empty(self) -> bool:
        return self.job is None and not (
            self.run_templates.hits or self.applications.hits or self.companies.hits
        )


def job_id_of(text: str) -> int | None:
    """The job id the text is, if it is one ("123", "#123"); None otherwise."""
    matched = _JOB_ID.fullmatch(text.strip())
    if matched is None:
        return None
    number = int(matched.group(1))
    return number if 0 < number <= _MAX_ID else None


def _group(session: Session, query: Any, limit: int) -> Group:
    rows = session.execute(query.limit(limit + 1)).all()
    hits = [Hit(id=row[0], name=row[1], detail=row[2], company_id=row[3]) for row in rows]
    return Group(hits=hits[:limit], more=len(hits) > limit)


def _job(session: Session, job_id: int, company_ids: set[int] | None) -> JobHit | None:
    query = in_companies(
        sa.select(Job.id, Job.state, Job.run_template_id, RunTemplate.name, Company.name)
        .join(RunTemplate, RunTemplate.id == Job.run_template_id)
        .join(Company, Company.id == Job.company_id)
        .where(Job.id == job_id),
        Job.company_id,
        company_ids,
    )
    row = session.execute(query).first()
    if row is None:
        return None
    return JobHit(
        id=row[0],
        state=row[1],
        run_template_id=row[2],
        run_template_name=row[3],
        company_name=row[4],
    )


def find(session: Session, principal: Actor, text: str, *, limit: int = LIMIT) -> Found:
    """What ``text`` names, among what ``principal`` may see.

    Names match case-insensitively anywhere (``%`` and ``_`` are plain characters);
    a text that is a number (``123``, ``#123``) also names the job with that id.
    Blank text finds nothing. Text longer than :data:`MAX_TEXT` characters is a
    :class:`~multiflexi.core.errors.ValidationError`.
    """
    cleaned = " ".join(text.split())
    if len(cleaned) > MAX_TEXT:
        raise ValidationError(
            msg("bad search"), [f"q: at most {MAX_TEXT} characters, not {len(cleaned)}"]
        )
    nothing = Group(hits=[], more=False)
    if not cleaned:
        return Found(
            text="", job=None, run_templates=nothing, applications=nothing, companies=nothing
        )
    company_ids = access.visible_company_ids(principal)
    job_id = job_id_of(cleaned)
    job = _job(session, job_id, company_ids) if job_id is not None else None
    pattern = cleaned.removeprefix("#").strip() if job_id is not None else cleaned

    def like(column: Any) -> Any:
        return column.icontains(pattern, autoescape=True)

    run_templates = _group(
        session,
        in_companies(
            sa.select(
                RunTemplate.id,
                RunTemplate.name,
                Application.name + " · " + Company.name,
                RunTemplate.company_id,
            )
            .join(Company, Company.id == RunTemplate.company_id)
            .join(Application, Application.id == RunTemplate.application_id)
            .where(like(RunTemplate.name))
            .order_by(RunTemplate.name, RunTemplate.id),
            RunTemplate.company_id,
            company_ids,
        ),
        limit,
    )
    applications = _group(
        session,
        sa.select(Application.id, Application.name, Application.version, sa.null())
        .where(sa.or_(like(Application.name), like(Application.code), like(Application.title)))
        .order_by(Application.name, Application.id),
        limit,
    )
    companies = _group(
        session,
        in_companies(
            sa.select(Company.id, Company.name, Company.slug, Company.id)
            .where(sa.or_(like(Company.name), like(Company.slug), like(Company.ic)))
            .order_by(Company.name, Company.id),
            Company.id,
            company_ids,
        ),
        limit,
    )
    session.commit()  # end the read transaction
    return Found(
        text=cleaned,
        job=job,
        run_templates=run_templates,
        applications=applications,
        companies=companies,
    )


__all__ = ["LIMIT", "MAX_TEXT", "Found", "Group", "Hit", "JobHit", "find", "job_id_of"]
