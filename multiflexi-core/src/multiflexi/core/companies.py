"""Companies (the tenants), their environment variables and their applications."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, fieldtypes, ids, images, jobcounts, limits, lookups, vault
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, FieldError, NotFound, ValidationError
from multiflexi.core.models import (
    Application,
    Company,
    CompanyApplication,
    CompanyVariable,
    Credential,
    RunTemplate,
)
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, apply_changes, known_none, paginate, rows, transaction

SLUG_MAX = 64
#: a company's slug (its code)
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_SLUG_RE = re.compile(SLUG_PATTERN)
_VARIABLE_RE = re.compile(limits.VARIABLE_NAME_PATTERN)
_EMAIL_RE = re.compile(fieldtypes.EMAIL_PATTERN)
#: the columns a caller may change with :func:`update`
EDITABLE = ("name", "slug", "ic", "email", "logo", "zabbix_host", "enabled", "settings")
ENV_CONTEXT = "company_environment.value"


def slugify(name: str) -> str:
    """The original's slug rule: lower case, every run outside [a-z0-9] becomes one ``_``.

    Accents are folded first (``Účetní s.r.o.`` -> ``ucetni_s_r_o``) so that
    non-English names give readable slugs.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", folded.lower()).strip("_")
    return slug[:SLUG_MAX].rstrip("_")


def _check(
    name: str | None, slug: str | None, email: str | None, logo: str | None = None
) -> list[FieldError]:
    errors = []
    if name is not None and not name.strip():
        errors.append(FieldError("name", msg("must not be empty")))
    if name is not None and len(name) > 255:
        errors.append(FieldError("name", msg("at most 255 characters")))
    if slug is not None and not _SLUG_RE.fullmatch(slug):
        errors.append(
            FieldError(
                "slug",
                msg(
                    "{slug!r} must be 1-64 characters of a-z, 0-9, '_' or '-', starting with a "
                    "letter or digit",
                    slug=slug,
                ),
            )
        )
    if email and not _EMAIL_RE.fullmatch(email):
        errors.append(FieldError("email", msg("{email!r} is not an e-mail address", email=email)))
    logo_problem = images.logo_problem(logo) if logo else None
    if logo_problem:
        errors.append(FieldError("logo", logo_problem))
    return errors


def get(session: Session, ref: int | str) -> Company:
    """A company by id or by slug."""
    company: Company | None
    if isinstance(ref, int) or ids.looks_like_id(ref):
        number = ref if isinstance(ref, int) else ids.parse(ref)
        company = session.get(Company, number) if ids.is_id(number) else None
    else:
        company = session.scalar(sa.select(Company).where(Company.slug == ref))
    if company is None:
        raise NotFound("company", ref)
    return company


def get_by_ic(session: Session, ic: str, *, company_ids: set[int] | None = None) -> Company:
    """The one company with this IC (registration number), of the visible ones.

    NotFound when none has it; :class:`~multiflexi.core.errors.Ambiguous`
    (listing their ids) when several do: the database does not make IC unique.
    ``company_ids`` restricts the search to the companies a caller may see.
    """
    if not ic.strip():
        raise ValidationError(msg("cannot look a company up"), [("ic", msg("must not be empty"))])
    found = lookups.companies_with_ic(session, ic, company_ids=company_ids)
    return lookups.one(found, "company with IC", repr(ic.strip()))


def get_by_name(session: Session, name: str, *, company_ids: set[int] | None = None) -> Company:
    """The one company called exactly ``name``, of the visible ones.

    NotFound when none is; :class:`~multiflexi.core.errors.Ambiguous`
    (listing their ids) when several are: the database does not make names unique.
    """
    if not name.strip():
        raise ValidationError(msg("cannot look a company up"), [("name", msg("must not be empty"))])
    found = lookups.companies_named(session, name, company_ids=company_ids)
    return lookups.one(found, "company named", repr(name))


def list_companies(
    session: Session,
    *,
    limit: int = 100,
    offset: int = 0,
    ids: set[int] | None = None,
) -> Page[Company]:
    """Companies by id; ``ids`` restricts the list to the ones a caller may see."""
    query = sa.select(Company)
    if ids is not None:
        query = query.where(Company.id.in_(ids))
    return paginate(session, query, Company.id, limit, offset)


def create(
    session: Session,
    *,
    name: str,
    actor: Actor,
    slug: str | None = None,
    ic: str | None = None,
    email: str | None = None,
    logo: str | None = None,
    enabled: bool = True,
) -> Company:
    """A new company; the slug is derived from the name when not given.

    ``logo`` is an image as a data URI (see :func:`multiflexi.core.images.logo_problem`).
    """
    if slug is None and name:
        slug = slugify(name) or None
        if slug is None:
            raise ValidationError(
                msg("company not created"),
                [("slug", msg("cannot derive one from {name!r}", name=name))],
            )
    errors = _check(name, slug, email, logo)
    if errors:
        raise ValidationError(msg("company not created"), errors)
    assert slug is not None
    with transaction(session, msg("company slug {slug!r} is taken", slug=slug)):
        if session.scalar(sa.select(Company.id).where(Company.slug == slug)) is not None:
            raise Conflict(msg("company slug {slug!r} is taken", slug=slug))
        company = Company(
            name=name.strip(), slug=slug, ic=ic, email=email, logo=logo or None, enabled=enabled
        )
        session.add(company)
        session.flush()
        jobcounts.create(session, company.id)
        audit.record(
            session,
            actor,
            "create",
            "company",
            company.id,
            company_id=company.id,
            details={"name": company.name, "slug": slug},
        )
    return company


def update(
    session: Session, ref: int | str, changes: Mapping[str, Any], *, actor: Actor
) -> Company:
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationError(
            msg("company not changed"), [(k, msg("not a company property")) for k in unknown]
        )
    errors = _check(
        changes.get("name"), changes.get("slug"), changes.get("email"), changes.get("logo")
    )
    if errors:
        raise ValidationError(msg("company not changed"), errors)
    company = get(session, ref)
    slug = changes.get("slug")
    with transaction(session, msg("company slug {slug!r} is taken", slug=slug)):
        if (
            slug
            and slug != company.slug
            and session.scalar(sa.select(Company.id).where(Company.slug == slug)) is not None
        ):
            raise Conflict(msg("company slug {slug!r} is taken", slug=slug))
        changed = apply_changes(company, changes)
        if changed:
            audit.record(
                session,
                actor,
                "update",
                "company",
                company.id,
                company_id=company.id,
                details={"changed": sorted(changed)},
            )
    return company


def delete(session: Session, ref: int | str, *, actor: Actor) -> None:
    """Delete a company with everything it owns (run templates, jobs, credentials).

    The database's foreign keys cascade (SQLite included: the core's engines turn
    them on), which takes the company's job counter row too. The credentials go
    first: a credential type in use may not be deleted (ON DELETE RESTRICT), and
    MariaDB checks that row by row while it cascades from the company.
    """
    company = get(session, ref)
    with transaction(session):
        audit.record(
            session,
            actor,
            "delete",
            "company",
            company.id,
            details={"name": company.name, "slug": company.slug},
        )
        session.execute(
            sa.delete(Credential)
            .where(Credential.company_id == company.id)
            .execution_options(synchronize_session=False)
        )
        session.delete(company)


# -- environment variables ---------------------------------------------------


def variables(session: Session, ref: int | str) -> list[CompanyVariable]:
    """The company's variables; secret ones still sealed (see :func:`variable_values`)."""
    return list(get(session, ref).environment)


_VARIABLES: sa.Table = CompanyVariable.__table__
#: the variables of one company, as plain rows (read for every job: built once, no ORM)
_VARIABLE_ROWS = (
    sa.select(_VARIABLES.c.name, _VARIABLES.c.value, _VARIABLES.c.secret, _VARIABLES.c.key_id)
    .where(_VARIABLES.c.company_id == sa.bindparam("company_id"))
    .order_by(_VARIABLES.c.name)
)


def variable_values(session: Session, ref: int | str) -> dict[str, tuple[str, bool]]:
    """name -> (plain value, secret) of the company's variables, for environment assembly.

    ``ref`` by id is read as given (the caller holds the company's id from a row
    that references it); by slug the company is looked up first.
    """
    company_id = ref if isinstance(ref, int) else get(session, ref).id
    if known_none(session, "variables", company_id):
        return {}
    return {
        name: (vault.unseal(session, value, ENV_CONTEXT) if key_id else value, bool(secret))
        for name, value, secret, key_id in rows(session, _VARIABLE_ROWS, {"company_id": company_id})
    }


def set_variable(
    session: Session,
    ref: int | str,
    name: str,
    value: str,
    *,
    actor: Actor,
    secret: bool = False,
) -> CompanyVariable:
    """Create or replace one variable; a secret one is stored sealed.

    A variable whose name says it is a secret (``*_PASSWORD``, ``*_TOKEN``, ``*_API_KEY``,
    see :func:`multiflexi.core.fieldtypes.is_secret_name`) is secret whatever ``secret`` says.
    """
    if not _VARIABLE_RE.fullmatch(name or ""):
        raise ValidationError(
            msg("variable not set"),
            [("name", msg("{name!r} is not an environment variable name", name=name))],
        )
    too_large = limits.value_problem(value)
    if too_large:
        # the form's input is the value; its line names the variable, as a launch's does
        raise ValidationError(msg("variable not set"), [("value", too_large, name)])
    company = get(session, ref)
    secret = secret or fieldtypes.is_secret_name(name)
    with transaction(session):
        variable = next((v for v in company.environment if v.name == name), None)
        if variable is None:
            variable = CompanyVariable(company_id=company.id, name=name)
            company.environment.append(variable)
        variable.secret = secret
        if secret:
            variable.value, variable.key_id = vault.seal(session, value, ENV_CONTEXT)
        else:
            variable.value, variable.key_id = value, None
        session.flush()
        audit.record(
            session,
            actor,
            "set",
            "company_variable",
            variable.id,
            company_id=company.id,
            details={"name": name, "secret": secret},
        )
    return variable


def unset_variable(session: Session, ref: int | str, name: str, *, actor: Actor) -> None:
    company = get(session, ref)
    variable = next((v for v in company.environment if v.name == name), None)
    if variable is None:
        raise NotFound(msg("variable of company {slug}", slug=company.slug), name)
    with transaction(session):
        company.environment.remove(variable)
        audit.record(
            session,
            actor,
            "delete",
            "company_variable",
            variable.id,
            company_id=company.id,
            details={"name": name},
        )


# -- applications ------------------------------------------------------------


def _application(session: Session, app_id: int) -> Application:
    app = session.get(Application, app_id)
    if app is None:
        raise NotFound("application", app_id)
    return app


def applications(session: Session, ref: int | str) -> list[Application]:
    """The applications assigned to a company, by id."""
    company = get(session, ref)
    return list(
        session.scalars(
            sa.select(Application)
            .join(CompanyApplication, CompanyApplication.application_id == Application.id)
            .where(CompanyApplication.company_id == company.id)
            .order_by(Application.id)
        )
    )


@dataclasses.dataclass(frozen=True)
class Assignment:
    """An application assigned to a company, with both objects."""

    company: Company
    application: Application
    assigned_at: dt.datetime | None


def list_assignments(
    session: Session,
    *,
    company: int | str | None = None,
    app_id: int | None = None,
    company_ids: set[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Assignment]:
    """Application assignments of every company, by company id, then application id.

    ``company`` (id or slug) and ``app_id`` narrow the list; each must exist
    (NotFound). ``company_ids`` restricts the list to the companies a caller may
    see; a ``company`` outside them is NotFound, like one that does not exist.
    """
    query = sa.select(CompanyApplication)
    if company is not None:
        found = get(session, company)
        if company_ids is not None and found.id not in company_ids:
            raise NotFound("company", company)
        query = query.where(CompanyApplication.company_id == found.id)
    if app_id is not None:
        query = query.where(CompanyApplication.application_id == _application(session, app_id).id)
    if company_ids is not None:
        query = query.where(CompanyApplication.company_id.in_(company_ids))
    order = (CompanyApplication.company_id, CompanyApplication.application_id)
    page: Page[CompanyApplication] = paginate(session, query, order, limit, offset)
    company_of = {
        c.id: c
        for c in session.scalars(
            sa.select(Company).where(Company.id.in_({a.company_id for a in page.items}))
        )
    }
    app_of = {
        a.id: a
        for a in session.scalars(
            sa.select(Application).where(Application.id.in_({a.application_id for a in page.items}))
        )
    }
    items = [
        Assignment(company_of[a.company_id], app_of[a.application_id], a.created_at)
        for a in page.items
    ]
    return Page(items, page.total, page.limit, page.offset)


def is_assigned(session: Session, company_id: int, app_id: int) -> bool:
    return (
        session.scalar(
            sa.select(CompanyApplication.id).where(
                CompanyApplication.company_id == company_id,
                CompanyApplication.application_id == app_id,
            )
        )
        is not None
    )


def ensure_assigned(session: Session, company: Company, app: Application) -> bool:
    """Record the assignment inside the caller's transaction; True when it is new."""
    if is_assigned(session, company.id, app.id):
        return False
    session.add(CompanyApplication(company_id=company.id, application_id=app.id))
    session.flush()
    return True


def assign_application(
    session: Session, ref: int | str, app_id: int, *, actor: Actor
) -> tuple[RunTemplate, bool]:
    """Assign an application; as in the original, this creates a default run template.

    The default run template has the application's name and interval ``n``
    (not scheduled). Assigning again changes nothing and returns the
    company's first run template of that application, with ``False``.
    """
    company = get(session, ref)
    app = _application(session, app_id)
    with transaction(session):
        if not ensure_assigned(session, company, app):
            existing = session.scalar(
                sa.select(RunTemplate)
                .where(RunTemplate.company_id == company.id, RunTemplate.application_id == app.id)
                .order_by(RunTemplate.id)
                .limit(1)
            )
            if existing is not None:
                return existing, False
        run_template = RunTemplate(
            company_id=company.id, application_id=app.id, name=app.name, interval_code="n"
        )
        session.add(run_template)
        session.flush()
        audit.record(
            session,
            actor,
            "assign",
            "company_application",
            app.id,
            company_id=company.id,
            details={"application": app.name, "run_template_id": run_template.id},
        )
    return run_template, True


def unassign_application(session: Session, ref: int | str, app_id: int, *, actor: Actor) -> int:
    """Unassign an application and delete the company's run templates of it (and their jobs).

    Returns how many run templates were removed.
    """
    company = get(session, ref)
    app = _application(session, app_id)
    if not is_assigned(session, company.id, app.id):
        raise NotFound(
            msg("assignment to company {slug} of application", slug=company.slug), app.id
        )
    with transaction(session):
        templates = session.scalars(
            sa.select(RunTemplate).where(
                RunTemplate.company_id == company.id, RunTemplate.application_id == app.id
            )
        ).all()
        jobcounts.delete_jobs_of(session, templates)
        for run_template in templates:
            session.delete(run_template)
        session.execute(
            sa.delete(CompanyApplication).where(
                CompanyApplication.company_id == company.id,
                CompanyApplication.application_id == app.id,
            )
        )
        audit.record(
            session,
            actor,
            "unassign",
            "company_application",
            app.id,
            company_id=company.id,
            details={"application": app.name, "run_templates_removed": [t.id for t in templates]},
        )
    return len(templates)


__all__ = [
    "EDITABLE",
    "ENV_CONTEXT",
    "SLUG_MAX",
    "SLUG_PATTERN",
    "Assignment",
    "applications",
    "assign_application",
    "create",
    "delete",
    "ensure_assigned",
    "get",
    "get_by_ic",
    "get_by_name",
    "is_assigned",
    "list_assignments",
    "list_companies",
    "set_variable",
    "slugify",
    "unassign_application",
    "unset_variable",
    "update",
    "variable_values",
    "variables",
]
