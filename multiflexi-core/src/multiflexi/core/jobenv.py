"""The environment of a run template's job, gathered from the database.

Reads each layer of :mod:`multiflexi.core.environment` (application defaults,
company variables, bound credentials, run-template configuration, one-time
overrides), unseals the secrets, and hands them to
:func:`multiflexi.core.environment.assemble` with the system layer of the job.

The stored layers a job reads are read here, and nowhere else: a run template's
configuration values (:func:`configured_values`), a job's sealed one-time overrides
(:func:`seal_overrides`, :func:`overrides_of`) and the required fields nothing fills
(:func:`missing_required`). That keeps the order of the core's modules one way:
``environment <- jobenv <- runtemplates <- jobs <- lifecycle``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import companies, credentials, environment, fieldtypes, limits, vault
from multiflexi.core.environment import JobContext, JobEnvironment, Variable
from multiflexi.core.errors import DecryptionError, ValidationError
from multiflexi.core.models import (
    ApplicationField,
    CompanyVariable,
    CredentialValue,
    Job,
    RunTemplate,
    RunTemplateCredential,
    RunTemplateValue,
)
from multiflexi.core.texts import msg
from multiflexi.core.unit import known_none, rows

#: the encryption context of a run template's secret configuration values
VALUE_CONTEXT = "run_template_values.value"
#: the encryption context of a job's one-time launch overrides
OVERRIDES_CONTEXT = "jobs.overrides"

_FIELDS: sa.Table = ApplicationField.__table__
#: name, default, secret flag and type of an application's fields (read for every job)
_FIELD_ROWS = (
    sa.select(_FIELDS.c.name, _FIELDS.c.default_value, _FIELDS.c.secret, _FIELDS.c.type)
    .where(_FIELDS.c.application_id == sa.bindparam("application_id"))
    .order_by(_FIELDS.c.position, _FIELDS.c.id)
)
#: the names of an application's required fields (asked at every launch)
_REQUIRED_FIELD_NAMES = (
    sa.select(_FIELDS.c.name)
    .where(_FIELDS.c.application_id == sa.bindparam("application_id"), _FIELDS.c.required.is_(True))
    .order_by(_FIELDS.c.position, _FIELDS.c.id)
)
_VALUES: sa.Table = RunTemplateValue.__table__
#: the stored configuration of one run template, as plain rows (read for every job)
_VALUE_ROWS = (
    sa.select(_VALUES.c.name, _VALUES.c.value, _VALUES.c.key_id)
    .where(_VALUES.c.run_template_id == sa.bindparam("run_template_id"))
    .order_by(_VALUES.c.name)
)


def configured_values(session: Session, run_template: RunTemplate) -> dict[str, tuple[str, bool]]:
    """name -> (plain value, secret) of the stored configuration, for environment assembly."""
    if known_none(session, "values", run_template.id):
        return {}
    values = rows(session, _VALUE_ROWS, {"run_template_id": run_template.id})
    return {
        name: (vault.unseal(session, value, VALUE_CONTEXT) if key_id else value, key_id is not None)
        for name, value, key_id in values
    }


def seal_overrides(
    session: Session, overrides: Mapping[str, str], secret: Iterable[str]
) -> tuple[str | None, str | None]:
    """A launch's one-time values sealed for its job row: (payload, key id), or two Nones."""
    if not overrides:
        return None, None
    payload = json.dumps({"values": dict(overrides), "secret": sorted(set(secret))})
    return vault.seal(session, payload, OVERRIDES_CONTEXT)


def overrides_of(session: Session, job: Job) -> tuple[dict[str, str], set[str]]:
    """The one-time launch overrides of a job (values, names marked secret)."""
    if not job.overrides:
        return {}, set()
    data = json.loads(vault.unseal(session, job.overrides, OVERRIDES_CONTEXT))
    return dict(data["values"]), set(data["secret"])


def _application_layer(session: Session, run_template: RunTemplate) -> list[Variable]:
    """Declared fields: their defaults, and which names are secret whoever fills them.

    A field is secret when flagged, of a secret type or by its name
    (:func:`multiflexi.core.fieldtypes.is_secret_field`): a run-template value stored in
    clear before its field counted as secret is masked in the job's output all the same.
    """
    if known_none(session, "fields", run_template.application_id):
        return []
    fields = rows(session, _FIELD_ROWS, {"application_id": run_template.application_id})
    return [
        Variable(name, default, fieldtypes.is_secret_field(name, kind, bool(secret)))
        for name, default, secret, kind in fields
    ]


def _pairs(values: Mapping[str, tuple[str, bool]], *, by_name: bool = False) -> list[Variable]:
    """Variables of a layer; ``by_name``: also secret when the name says so (untyped layers)."""
    return [
        Variable(name, value, secret or (by_name and fieldtypes.is_secret_name(name)))
        for name, (value, secret) in values.items()
    ]


def _credential_layers(
    session: Session, run_template: RunTemplate
) -> list[tuple[str, list[Variable]]]:
    layers = []
    for binding in sorted(run_template.credential_bindings, key=lambda b: b.id):
        credential = binding.credential
        layers.append(
            (credential.name, _pairs(credentials.provided_environment(session, credential)))
        )
    return layers


def context_for(
    run_template: RunTemplate, job: Job | None = None, work_dir: str | None = None
) -> JobContext:
    """The system layer: the application contract variables of this job."""
    company = run_template.company
    app = run_template.application
    return JobContext(
        job_id=job.id if job is not None else None,
        runtemplate_id=run_template.id,
        runtemplate_name=run_template.name,
        application_id=app.id,
        application_name=app.name,
        application_uuid=app.uuid,
        company_id=company.id,
        company_code=company.slug,
        company_name=company.name,
        executor=job.executor if job is not None else run_template.executor,
        work_dir=work_dir,
    )


def assemble(
    session: Session,
    run_template: RunTemplate,
    *,
    job: Job | None = None,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: set[str] | frozenset[str] = frozenset(),
    work_dir: str | None = None,
    inherited: Mapping[str, str] | None = None,
) -> JobEnvironment:
    """The complete environment of a job of ``run_template`` (secrets unsealed, marked).

    With a ``job``, its own one-time overrides are used (``overrides`` adds to
    them). ``inherited`` is the worker's own environment, of which only the
    allow-listed variables pass (ARCHITECTURE.md invariant 8).
    """
    one_time: dict[str, str] = {}
    secret_names = set(secret_overrides)
    if job is not None:
        stored, stored_secret = overrides_of(session, job)
        one_time.update(stored)
        secret_names |= stored_secret
    one_time.update(overrides or {})
    return environment.assemble(
        application=_application_layer(session, run_template),
        company=_pairs(companies.variable_values(session, run_template.company_id), by_name=True),
        credentials=_credential_layers(session, run_template),
        runtemplate=_pairs(configured_values(session, run_template)),
        overrides=[
            Variable(n, v, n in secret_names or fieldtypes.is_secret_name(n))
            for n, v in one_time.items()
        ],
        context=context_for(run_template, job, work_dir),
        inherited=inherited,
    )


def unfilled(session: Session, run_template: RunTemplate, names: Iterable[str]) -> set[str]:
    """Those of ``names`` that no configured layer gives a value (for required fields).

    Read from the stored rows without unsealing anything (a sealed value is a given
    value): this runs on every launch and activation. The layers are looked at from
    the cheapest and likeliest (application defaults, the run template's own values)
    and the looking stops as soon as every name is filled.
    """
    left = set(names)
    left -= {f.name for f in run_template.application.fields if f.default_value not in (None, "")}
    if left:
        left -= {v.name for v in run_template.values if v.key_id or v.value != ""}
    if left:
        left -= {v.name for v in run_template.company.environment if v.key_id or v.value != ""}
    for binding in run_template.credential_bindings if left else ():
        credential = binding.credential
        left -= {v.name for v in credential.values}
        left -= {
            f.keyword
            for f in credentials.fields_of(credential.credential_type)
            if f.default not in (None, "")
        }
        if not left:
            break
    return left


def missing_required(
    session: Session, run_template: RunTemplate, supplied: Iterable[str] = ()
) -> list[str]:
    """Required application fields that no layer of the environment fills, in field order.

    ``supplied`` names the one-time values a launch gives (each with a value that is
    not empty): they fill a required field for that launch, as the original's launch
    page asks for the missing ones.
    """
    names = rows(session, _REQUIRED_FIELD_NAMES, {"application_id": run_template.application_id})
    given = set(supplied)
    required = [name for (name,) in names if name not in given]
    if not required:
        return []
    left = unfilled(session, run_template, required)
    return [name for name in required if name in left]


# -- the size of a launch's environment ---------------------------------------------------

#: room for what the stored rows do not show: the system layer, the allow-listed worker
#: variables and credential-type defaults
_UNSTORED_ROOM = 64 * 1024
#: UTF-8 bytes a stored character may take (SQL length() counts characters)
_BYTES_PER_CHAR = 4


def _stored_rows(table: sa.Table, value: sa.ColumnElement[Any], where: Any) -> sa.Select[Any]:
    size = sa.func.length(table.c.name) + sa.func.length(sa.func.coalesce(value, "")) + 2
    plain = table.c.key_id.is_(None) if "key_id" in table.c else sa.true()
    macro = sa.case((sa.and_(plain, value.contains("{", autoescape=True)), 1), else_=0)
    return sa.select(size.label("size"), macro.label("macro")).where(where)


def _stored_size_statement() -> sa.Select[Any]:
    values = RunTemplateValue.__table__
    variables = CompanyVariable.__table__
    credential_values = CredentialValue.__table__
    bindings = RunTemplateCredential.__table__
    rt: sa.BindParameter[int] = sa.bindparam("run_template_id")
    company: sa.BindParameter[int] = sa.bindparam("company_id")
    app: sa.BindParameter[int] = sa.bindparam("app_id")
    parts = sa.union_all(
        _stored_rows(values, values.c.value, values.c.run_template_id == rt),
        _stored_rows(variables, variables.c.value, variables.c.company_id == company),
        _stored_rows(
            credential_values,
            credential_values.c.value,
            credential_values.c.credential_id.in_(
                sa.select(bindings.c.credential_id).where(bindings.c.run_template_id == rt)
            ),
        ),
        _stored_rows(_FIELDS, _FIELDS.c.default_value, _FIELDS.c.application_id == app),
    ).subquery()
    return sa.select(
        sa.func.coalesce(sa.func.sum(parts.c.size), 0),
        sa.func.coalesce(sa.func.max(parts.c.macro), 0),
    )


#: (characters stored, whether a plain value holds a macro) of a run template's layers
_STORED_SIZE = _stored_size_statement()


def check_launch_size(
    session: Session,
    run_template_id: int,
    *,
    company_id: int,
    application_id: int,
    overrides: Mapping[str, str] | None = None,
    secret_overrides: Iterable[str] = (),
) -> None:
    """Refuse (ValidationError) a launch whose job's environment would be too large.

    One statement sums what the layers store; only when that sum could exceed
    :data:`multiflexi.core.limits.MAX_ENVIRONMENT_BYTES`, or a plain value holds a
    ``{VAR}`` macro that may grow when expanded, is the environment assembled for
    an exact answer. Values that cannot be unsealed here are left for the worker
    to report.
    """
    stored, macro = session.execute(
        _STORED_SIZE,
        {"run_template_id": run_template_id, "company_id": company_id, "app_id": application_id},
    ).one()
    one_time = dict(overrides or {})
    bound = int(stored) * _BYTES_PER_CHAR + limits.environment_size(one_time.items())
    if not macro and bound + _UNSTORED_ROOM <= limits.MAX_ENVIRONMENT_BYTES:
        return
    run_template = session.get(RunTemplate, run_template_id)
    if run_template is None:
        return
    try:
        assemble(
            session,
            run_template,
            overrides=one_time,
            secret_overrides=set(secret_overrides),
        )
    except DecryptionError:
        return  # the worker says so when it starts the job
    except ValidationError as exc:
        raise ValidationError(msg("job not launched"), exc.problems) from None


__all__ = [
    "OVERRIDES_CONTEXT",
    "VALUE_CONTEXT",
    "assemble",
    "check_launch_size",
    "configured_values",
    "context_for",
    "missing_required",
    "overrides_of",
    "seal_overrides",
    "unfilled",
]
