"""The application catalogue: applications found by text and tags, in a reader's language,
an application described for reading, and what uses it (companies, run templates, jobs).

Every face that shows applications to a person (the web UI's catalogue and application
page, the per-company catalogue) reads them here; importing, changing and deleting stay in
:mod:`multiflexi.core.manifests` and :mod:`multiflexi.core.apps`, assigning in
:mod:`multiflexi.core.companies`.

Texts follow the reader's language: an application's name and description come from the
manifest's localized texts (``application_translations``), its fields', exit codes' and
artifacts' texts from the stored manifest; each falls back to the main (English) text.
A secret field's default is never given: :mod:`multiflexi.core.redaction` decides.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import apps, redaction
from multiflexi.core.manifests.importer import application_manifest
from multiflexi.core.manifests.localized import Localized
from multiflexi.core.models import (
    Application,
    ApplicationTranslation,
    Company,
    CompanyApplication,
    CredentialPrototype,
    Job,
    RunTemplate,
)
from multiflexi.core.unit import Page, clamp

#: how chosen tags combine: an application must carry every one of them
TAG_MATCH = "all"
#: the longest search text taken (longer input is cut, never an error)
SEARCH_MAX = 200


@dataclasses.dataclass(frozen=True)
class Entry:
    """One application of a catalogue page, its texts in the reader's language."""

    application: Application
    name: str
    description: str
    #: assigned to the company the catalogue is for (always False without a company)
    assigned: bool = False


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """A page of the catalogue, and the tags the applications matching the text carry."""

    page: Page[Entry]
    #: (tag, how many of the applications matching the search text carry it), by tag
    tags: list[tuple[str, int]]
    #: the chosen tags, as given (those no application carries find nothing)
    chosen: tuple[str, ...]
    search: str


@dataclasses.dataclass(frozen=True)
class FieldView:
    name: str
    type: str
    description: str | None
    hint: str | None
    required: bool
    secret: bool
    #: the default to show: redacted for a secret field
    default: str | None


@dataclasses.dataclass(frozen=True)
class ExitCodeView:
    code: int
    description: str
    severity: str
    retry: bool


@dataclasses.dataclass(frozen=True)
class ArtifactView:
    name: str
    pattern: str
    type: str
    description: str | None


@dataclasses.dataclass(frozen=True)
class Requirement:
    """A credential kind the application needs: a prototype code, and that prototype's id
    when one with that code is imported."""

    code: str
    prototype_id: int | None


@dataclasses.dataclass(frozen=True)
class CompanyUse:
    company: Company
    run_templates: int
    assigned: bool


@dataclasses.dataclass(frozen=True)
class Usage:
    """What uses an application, in the companies a reader may see."""

    companies: list[CompanyUse]
    run_templates: int
    jobs: int


@dataclasses.dataclass(frozen=True)
class ApplicationView:
    """An application described for reading, in one language."""

    application: Application
    name: str
    title: str | None
    description: str
    fields: list[FieldView]
    exit_codes: list[ExitCodeView]
    artifacts: list[ArtifactView]
    requirements: list[Requirement]
    usage: Usage


def _in(text: Localized | None, lang: str) -> str | None:
    if text is None:
        return None
    return text.get(lang) or text.text


def _like(text: str) -> str:
    """A LIKE pattern that finds ``text`` anywhere (its own % and _ taken literally)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matching(search: str) -> sa.Select[int, list[str]]:
    """The ids and tags of the applications whose name, title, description, uuid,
    executable or a localized name or description contains ``search``."""
    query = sa.select(Application.id, Application.tags)
    if not search:
        return query
    pattern = _like(search)

    def has(column: Any) -> sa.ColumnElement[bool]:
        return sa.func.lower(sa.func.coalesce(column, "")).like(pattern, escape="\\")

    translated = sa.select(ApplicationTranslation.application_id).where(
        sa.or_(has(ApplicationTranslation.name), has(ApplicationTranslation.description))
    )
    return query.where(
        sa.or_(
            has(Application.name),
            has(Application.title),
            has(Application.description),
            has(Application.uuid),
            has(Application.executable),
            Application.id.in_(translated),
        )
    )


def texts(
    session: Session, applications: Iterable[Application], lang: str
) -> dict[int, tuple[str, str]]:
    """Application id -> (name, description) in ``lang``, else the main texts (one query)."""
    found = list(applications)
    translated = {
        row.application_id: row
        for row in session.scalars(
            sa.select(ApplicationTranslation).where(
                ApplicationTranslation.application_id.in_([a.id for a in found]),
                ApplicationTranslation.lang == lang,
            )
        )
    }
    result = {}
    for app in found:
        row = translated.get(app.id)
        name = (row.name if row is not None else None) or app.name
        description = (row.description if row is not None else None) or app.description or ""
        result[app.id] = (name, description)
    return result


def search(
    session: Session,
    *,
    lang: str,
    text: str | None = None,
    tags: Collection[str] = (),
    company_id: int | None = None,
    limit: int = 24,
    offset: int = 0,
) -> Catalogue:
    """A page of the applications that contain ``text`` and carry every tag of ``tags``,
    by name; with ``company_id``, each marked when assigned to that company.

    The catalogue is small (hundreds of applications, not millions): the matching ids
    and tags are read in one query and the tags filtered here (JSON lists compare alike
    in every database this way); the page's rows, texts and marks take one query each.
    """
    limit, offset = clamp(limit, offset)
    wanted = (text or "").strip()[:SEARCH_MAX]
    chosen = tuple(dict.fromkeys(tag for tag in tags if tag))
    rows: list[tuple[int, list[str] | None]] = [
        (row[0], row[1])
        for row in session.execute(
            _matching(wanted).order_by(sa.func.lower(Application.name), Application.id)
        )
    ]
    counts: Counter[str] = Counter(tag for _, carried in rows for tag in set(carried or ()))
    kept = [app_id for app_id, carried in rows if set(chosen) <= set(carried or ())]
    ids = kept[offset : offset + limit]
    by_id = {
        a.id: a for a in session.scalars(sa.select(Application).where(Application.id.in_(ids)))
    }
    found = [by_id[i] for i in ids if i in by_id]
    names = texts(session, found, lang)
    marked: set[int] = set()
    if company_id is not None and found:
        marked = set(
            session.scalars(
                sa.select(CompanyApplication.application_id).where(
                    CompanyApplication.company_id == company_id,
                    CompanyApplication.application_id.in_(ids),
                )
            )
        )
    entries = [Entry(a, *names[a.id], assigned=a.id in marked) for a in found]
    return Catalogue(
        page=Page(entries, len(kept), limit, offset),
        tags=sorted(counts.items(), key=lambda item: item[0].lower()),
        chosen=chosen,
        search=wanted,
    )


def entry(session: Session, app_id: int, *, lang: str, company_id: int | None = None) -> Entry:
    """One application as a catalogue card (NotFound for an unknown id)."""
    app = apps.get(session, app_id)
    name, description = texts(session, [app], lang)[app.id]
    assigned = False
    if company_id is not None:
        assigned = (
            session.scalar(
                sa.select(CompanyApplication.id).where(
                    CompanyApplication.company_id == company_id,
                    CompanyApplication.application_id == app.id,
                )
            )
            is not None
        )
    return Entry(app, name, description, assigned)


def usage(
    session: Session,
    app_id: int,
    *,
    company_ids: Collection[int] | None = None,
) -> Usage:
    """The companies (of ``company_ids``; None: all) that have the application assigned or
    run templates of it, with their run templates count, and the run templates and jobs
    of the application in those companies (what deleting it would take along)."""
    app = apps.get(session, app_id)
    per_company = (
        sa.select(RunTemplate.company_id, sa.func.count(RunTemplate.id))
        .where(RunTemplate.application_id == app.id)
        .group_by(RunTemplate.company_id)
    )
    assigned_query = sa.select(CompanyApplication.company_id).where(
        CompanyApplication.application_id == app.id
    )
    jobs_query = sa.select(sa.func.count(Job.id)).where(Job.application_id == app.id)
    if company_ids is not None:
        per_company = per_company.where(RunTemplate.company_id.in_(company_ids))
        assigned_query = assigned_query.where(CompanyApplication.company_id.in_(company_ids))
        jobs_query = jobs_query.where(Job.company_id.in_(company_ids))
    counts: dict[int, int] = {company: count for company, count in session.execute(per_company)}
    assigned = set(session.scalars(assigned_query))
    wanted = set(counts) | assigned
    found = session.scalars(
        sa.select(Company).where(Company.id.in_(wanted)).order_by(Company.name, Company.id)
    ).all()
    return Usage(
        companies=[CompanyUse(c, counts.get(c.id, 0), c.id in assigned) for c in found],
        run_templates=sum(counts.values()),
        jobs=session.scalar(jobs_query) or 0,
    )


def company_usage(session: Session, company_id: int, app_id: int) -> tuple[list[RunTemplate], int]:
    """The company's run templates of the application, by name, and their jobs count:
    what unassigning the application from the company deletes."""
    app = apps.get(session, app_id)
    templates = session.scalars(
        sa.select(RunTemplate)
        .where(RunTemplate.company_id == company_id, RunTemplate.application_id == app.id)
        .order_by(RunTemplate.name, RunTemplate.id)
    ).all()
    jobs = session.scalar(
        sa.select(sa.func.count(Job.id)).where(
            Job.application_id == app.id, Job.company_id == company_id
        )
    )
    return list(templates), jobs or 0


def describe(
    session: Session,
    app_id: int,
    *,
    lang: str,
    company_ids: Collection[int] | None = None,
) -> ApplicationView:
    """The application with its fields (secret defaults redacted), exit codes, artifacts,
    required credential kinds and usage (in ``company_ids``), its texts in ``lang``."""
    app = apps.get(session, app_id)
    manifest = application_manifest(session, app.id)
    rows = {row.name: row for row in app.fields}
    fields = [
        FieldView(
            name=f.name,
            type=f.type,
            description=_in(f.description, lang),
            hint=_in(f.hint, lang),
            required=f.required,
            secret=rows[f.name].is_secret,
            default=redaction.application_field_default(rows[f.name]),
        )
        for f in manifest.fields
    ]
    codes = [
        ExitCodeView(e.code, _in(e.description, lang) or "", e.severity, e.retry)
        for e in manifest.exit_codes
    ]
    artifacts = [
        ArtifactView(_in(a.name, lang) or "", a.pattern, a.type, _in(a.description, lang))
        for a in manifest.artifacts
    ]
    codes_needed = list(app.requirements or ())
    prototypes = dict(
        session.execute(
            sa.select(CredentialPrototype.code, CredentialPrototype.id).where(
                CredentialPrototype.code.in_(codes_needed)
            )
        ).all()
    )
    return ApplicationView(
        application=app,
        name=_in(manifest.name, lang) or app.name,
        title=_in(manifest.title, lang),
        description=_in(manifest.description, lang) or "",
        fields=fields,
        exit_codes=codes,
        artifacts=artifacts,
        requirements=[Requirement(code, prototypes.get(code)) for code in codes_needed],
        usage=usage(session, app.id, company_ids=company_ids),
    )


__all__ = [
    "SEARCH_MAX",
    "TAG_MATCH",
    "ApplicationView",
    "ArtifactView",
    "Catalogue",
    "CompanyUse",
    "Entry",
    "ExitCodeView",
    "FieldView",
    "Requirement",
    "Usage",
    "company_usage",
    "describe",
    "entry",
    "search",
    "texts",
    "usage",
]
