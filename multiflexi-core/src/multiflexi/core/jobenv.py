"""The environment of a run template's job, gathered from the database.

Reads each layer of :mod:`multiflexi.core.environment` (application defaults,
company variables, bound credentials, run-template configuration, one-time
overrides), unseals the secrets, and hands them to
:func:`multiflexi.core.environment.assemble` with the system layer of the job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import companies, credentials, environment, fieldtypes, limits, runtemplates
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
from multiflexi.core.unit import known_none, rows

_FIELDS: sa.Table = ApplicationField.__table__
#: name, default, secret flag and type of an application's fields (read for every job)
_FIELD_ROWS = (
    sa.select(_FIELDS.c.name, _FIELDS.c.default_value, _FIELDS.c.secret, _FIELDS.c.type)
    .where(_FIELDS.c.application_id == sa.bindparam("application_id"))
    .order_by(_FIELDS.c.position, _FIELDS.c.id)
)


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
        from multiflexi.core import jobs

        stored, stored_secret = jobs.overrides_of(session, job)
        one_time.update(stored)
        secret_names |= stored_secret
    one_time.update(overrides or {})
    return environment.assemble(
        application=_application_layer(session, run_template),
        company=_pairs(companies.variable_values(session, run_template.company_id), by_name=True),
        credentials=_credential_layers(session, run_template),
        runtemplate=_pairs(runtemplates.configured_values(session, run_template)),
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
        raise ValidationError("job not launched", exc.problems) from None
