"""Activating an application for a company, step by step (the web UI's wizard).

The wizard's steps write through the same core calls as the API (run templates are
created inactive by :func:`multiflexi.core.runtemplates.create`, credentials bound by
``bind_credential``, values stored by ``set_values``...). What this module adds is what
those calls do not answer on their own:

- which companies a user may activate an application for, and the catalogue of one
  company's choices (the applications already assigned to it first);
- the defaults a new run template starts from;
- where each configuration value comes from besides the run template itself (the
  application's default, a company variable, a bound credential);
- what a run template still misses before the wizard may activate it (:func:`gaps`),
  each with the step that fills it, and the activation that refuses while one remains.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import access, credentials, jobenv, runtemplates
from multiflexi.core.audit import Actor
from multiflexi.core.errors import FieldError, ValidationError
from multiflexi.core.models import (
    Application,
    ApplicationTranslation,
    Company,
    CompanyApplication,
    CredentialType,
    RunTemplate,
)
from multiflexi.core.texts import msg

#: the wizard's steps, in order: the first two write nothing, the third creates the run
#: template (inactive), the others work on it
STEPS = (
    "company",
    "application",
    "runtemplate",
    "credentials",
    "configuration",
    "schedule",
    "summary",
)
#: the steps that work on an existing run template (their address names it)
RUN_TEMPLATE_STEPS = STEPS[2:]

#: where a value comes from when the run template does not store it (see :func:`sources`)
FROM_DEFAULT = "default"
FROM_COMPANY = "company"
FROM_CREDENTIAL = "credential"


def writable_companies(session: Session, actor: Actor) -> list[Company]:
    """The companies whose run templates the actor may create (manager or admin; every
    company for a global administrator), by name."""
    query = sa.select(Company).order_by(Company.name, Company.id)
    visible = access.visible_company_ids(actor)
    if visible is not None:
        mine = {company_id for company_id in visible if access.can_write(actor, company_id)}
        query = query.where(Company.id.in_(mine))
    return list(session.scalars(query))


@dataclasses.dataclass(frozen=True)
class Choice:
    """An application the wizard offers, with its texts in the asked language."""

    application: Application
    name: str
    description: str
    assigned: bool


def catalogue(session: Session, company_id: int, language: str) -> list[Choice]:
    """The enabled applications, those assigned to the company first, then by name; the
    name and description in ``language`` when the manifest has them (three statements
    whatever the number of applications)."""
    apps = list(session.scalars(sa.select(Application).where(Application.enabled.is_(True))))
    assigned = set(
        session.scalars(
            sa.select(CompanyApplication.application_id).where(
                CompanyApplication.company_id == company_id
            )
        )
    )
    texts = {
        row.application_id: row
        for row in session.scalars(
            sa.select(ApplicationTranslation).where(ApplicationTranslation.lang == language)
        )
    }
    choices = []
    for app in apps:
        local = texts.get(app.id)
        name = (local and (local.title or local.name)) or app.title or app.name
        description = (local and local.description) or app.description or ""
        choices.append(Choice(app, name, description, app.id in assigned))
    return sorted(choices, key=lambda c: (not c.assigned, c.name.lower(), c.application.id))


def proposal(session: Session, company_id: int, app: Application) -> dict[str, str]:
    """What a new run template of ``app`` starts with: a name not taken yet in the company
    (the one :func:`~multiflexi.core.runtemplates.create` would choose) and the default
    executor."""
    defaults = runtemplates._defaults()
    return {
        "name": runtemplates._default_name(session, company_id, app),
        "executor": str(defaults["executor"]),
        "note": "",
    }


@dataclasses.dataclass(frozen=True)
class Source:
    """Where a value the run template does not store comes from."""

    kind: str  # FROM_DEFAULT, FROM_COMPANY or FROM_CREDENTIAL
    #: the credential's name (FROM_CREDENTIAL)
    name: str | None = None


def sources(session: Session, run_template: RunTemplate) -> dict[str, Source]:
    """Field name -> where its value comes from when the run template stores none: the
    layer that wins among the application's default, the company's variables and the
    bound credentials (the order :func:`multiflexi.core.jobenv.assemble` applies them).
    Nothing is unsealed: a stored secret is a given value."""
    names = {f.name for f in run_template.application.fields}
    found: dict[str, Source] = {
        f.name: Source(FROM_DEFAULT) for f in run_template.application.fields if f.default_value
    }
    for variable in run_template.company.environment:
        if variable.name in names and (variable.key_id or variable.value != ""):
            found[variable.name] = Source(FROM_COMPANY)
    for binding in sorted(run_template.credential_bindings, key=lambda b: b.id):
        credential = binding.credential
        given = {v.name for v in credential.values}
        given |= {
            spec.keyword
            for spec in credentials.fields_of(credential.credential_type)
            if spec.default not in (None, "")
        }
        for name in given & names:
            found[name] = Source(FROM_CREDENTIAL, credential.name)
    return found


def _stored(run_template: RunTemplate) -> set[str]:
    return {v.name for v in run_template.values if v.key_id or v.value != ""}


def unfilled_after(
    session: Session, run_template: RunTemplate, values: Mapping[str, str | None]
) -> list[str]:
    """The required fields nothing would fill once ``values`` are stored as
    :func:`~multiflexi.core.runtemplates.set_values` stores them (``None`` removes a value,
    a blank secret keeps the stored one), in field order."""
    provided = set(sources(session, run_template))
    stored = _stored(run_template)
    missing = []
    for field in run_template.application.fields:
        if not field.required or field.name in provided:
            continue
        if field.name in values:
            new = values[field.name]
            keeps = new == "" and field.name in stored
            if new is None or (new == "" and not keeps):
                missing.append(field.name)
        elif field.name not in stored:
            missing.append(field.name)
    return missing


def configure(
    session: Session,
    rt_id: int,
    values: Mapping[str, str | None],
    *,
    actor: Actor,
) -> RunTemplate:
    """The wizard's configuration step: store ``values`` as
    :func:`~multiflexi.core.runtemplates.set_values` does, refusing (nothing stored) while
    a required field would have no value from any layer."""
    run_template = runtemplates.get(session, rt_id)
    missing = unfilled_after(session, run_template, values)
    if missing:
        raise ValidationError(
            msg("configuration not saved"),
            [FieldError(f"values.{name}", msg("required"), name) for name in missing],
        )
    return runtemplates.set_values(session, rt_id, values, actor=actor)


@dataclasses.dataclass(frozen=True)
class Gap:
    """Something a run template misses before the wizard activates it."""

    #: the wizard step that fills it (one of :data:`STEPS`)
    step: str
    #: ``credential`` (``name``: the required kind's code) or ``value`` (a field's name)
    kind: str
    name: str

    @property
    def field(self) -> str:
        """The form field the gap is about (``credentials.CODE`` or ``values.NAME``)."""
        return f"{'credentials' if self.kind == 'credential' else 'values'}.{self.name}"


def gaps(session: Session, run_template: RunTemplate) -> list[Gap]:
    """What the run template misses, in the wizard's order: the credential kinds its
    application requires with none of that kind bound, then the required fields no layer
    fills (:func:`multiflexi.core.jobenv.missing_required`)."""
    bound = {
        binding.credential.credential_type.prototype_code
        for binding in run_template.credential_bindings
    }
    found = [
        Gap("credentials", "credential", code)
        for code in dict.fromkeys(run_template.application.requirements or ())
        if code not in bound
    ]
    found += [
        Gap("configuration", "value", name)
        for name in jobenv.missing_required(session, run_template)
    ]
    return found


def credential_types_of(session: Session, company_id: int, code: str) -> list[CredentialType]:
    """The company's credential types of a required kind (a prototype code): where a new
    credential of that kind can be made."""
    return list(
        session.scalars(
            sa.select(CredentialType)
            .where(CredentialType.company_id == company_id, CredentialType.prototype_code == code)
            .order_by(CredentialType.name, CredentialType.id)
        )
    )


def activate(session: Session, rt_id: int, *, actor: Actor) -> RunTemplate:
    """Activate a run template the wizard made, refusing (naming each) while it has a
    :func:`gap`; then :func:`~multiflexi.core.runtemplates.set_active` applies its own rules."""
    run_template = runtemplates.get(session, rt_id)
    missing = gaps(session, run_template)
    if missing:
        raise ValidationError(
            msg("run template not activated"),
            [
                FieldError(
                    gap.field,
                    msg("no credential of this kind bound")
                    if gap.kind == "credential"
                    else msg("required"),
                    gap.name,
                )
                for gap in missing
            ],
        )
    return runtemplates.set_active(session, rt_id, True, actor=actor)


__all__ = [
    "FROM_COMPANY",
    "FROM_CREDENTIAL",
    "FROM_DEFAULT",
    "RUN_TEMPLATE_STEPS",
    "STEPS",
    "Choice",
    "Gap",
    "Source",
    "activate",
    "catalogue",
    "configure",
    "credential_types_of",
    "gaps",
    "proposal",
    "sources",
    "unfilled_after",
    "writable_companies",
]
