"""Credential types and credentials of a company; values sealed at rest.

A *credential prototype* (imported from JSON, see :mod:`multiflexi.core.manifests`)
defines a kind of credential and its fields. A company's *credential type* is
its configured use of a prototype (with its own settings, and extra fields); a
*credential* fills the fields in. Every credential value is stored sealed,
secret or not, and every view shows them redacted unless revealed (audited).
Binding a credential to a run template (see :mod:`multiflexi.core.runtemplates`)
puts its values into the job's environment and satisfies an application's
requirement of the prototype's code.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, companies, fieldtypes, ids, limits, redaction, vault
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, FieldError, NotFound, ValidationError
from multiflexi.core.models import (
    Credential,
    CredentialPrototype,
    CredentialPrototypeField,
    CredentialType,
    CredentialTypeField,
    CredentialTypeSetting,
    CredentialValue,
    RunTemplate,
    RunTemplateCredential,
)
from multiflexi.core.texts import msg
from multiflexi.core.unit import Page, paginate, transaction
from multiflexi.database.tables import utc_now

VALUE_CONTEXT = "credential_values.value"
SETTING_CONTEXT = "credential_type_settings.value"
_KEYWORD_RE = re.compile(limits.VARIABLE_NAME_PATTERN)


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One field a credential of a type has: from the prototype or the type itself."""

    keyword: str
    type: str
    required: bool
    secret: bool
    default: str | None
    description: str | None
    options: object = None


# -- prototypes --------------------------------------------------------------


def prototype(session: Session, ref: int | str) -> CredentialPrototype:
    """A prototype by id, uuid or code."""
    found: CredentialPrototype | None
    if isinstance(ref, int) or ids.looks_like_id(ref):
        number = ref if isinstance(ref, int) else ids.parse(ref)
        found = session.get(CredentialPrototype, number) if ids.is_id(number) else None
    else:
        found = session.scalar(
            sa.select(CredentialPrototype).where(
                sa.or_(CredentialPrototype.code == ref, CredentialPrototype.uuid == ref)
            )
        )
    if found is None:
        raise NotFound("credential prototype", ref)
    return found


def list_prototypes(
    session: Session, *, limit: int = 100, offset: int = 0
) -> Page[CredentialPrototype]:
    total = session.scalar(sa.select(sa.func.count()).select_from(CredentialPrototype)) or 0
    items = session.scalars(
        sa.select(CredentialPrototype).order_by(CredentialPrototype.id).limit(limit).offset(offset)
    ).all()
    return Page(items, total, limit, offset)


# -- credential types --------------------------------------------------------


def credential_type(session: Session, type_id: int) -> CredentialType:
    found = session.get(CredentialType, type_id)
    if found is None:
        raise NotFound("credential type", type_id)
    return found


def list_types(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[CredentialType]:
    query = sa.select(CredentialType)
    if company_id is not None:
        query = query.where(CredentialType.company_id == company_id)
    if company_ids is not None:
        query = query.where(CredentialType.company_id.in_(company_ids))
    return paginate(session, query, CredentialType.id, limit, offset)


def _prototype_spec(f: CredentialPrototypeField) -> FieldSpec:
    return FieldSpec(
        f.keyword,
        f.type,
        f.required,
        fieldtypes.is_secret_field(f.keyword, f.type, f.secret),
        f.default_value,
        f.description,
        f.options,
    )


def prototype_fields(proto: CredentialPrototype) -> list[FieldSpec]:
    """The fields a prototype defines, in its order (secret by flag, type or name)."""
    return [_prototype_spec(f) for f in proto.fields]


def fields_of(ctype: CredentialType) -> list[FieldSpec]:
    """The fields of a credential type: its prototype's, then its own (which win)."""
    specs: dict[str, FieldSpec] = {}
    if ctype.prototype is not None:
        for spec in prototype_fields(ctype.prototype):
            specs[spec.keyword] = spec
    for own in ctype.fields:
        specs[own.keyword] = FieldSpec(
            own.keyword,
            own.type,
            own.required,
            fieldtypes.is_secret_field(own.keyword, own.type, own.secret),
            own.default_value,
            own.description,
        )
    return list(specs.values())


def create_type(
    session: Session,
    *,
    company: int | str,
    name: str,
    actor: Actor,
    prototype_ref: int | str | None = None,
    fields: list[Mapping[str, object]] | None = None,
    settings: Mapping[str, str] | None = None,
) -> CredentialType:
    """A company's credential type, usually made from a prototype."""
    owner = companies.get(session, company)
    proto = prototype(session, prototype_ref) if prototype_ref is not None else None
    errors: list[FieldError] = []
    if not name or not name.strip():
        errors.append(FieldError("name", msg("must not be empty")))
    own_fields = []
    seen: set[str] = set()
    for index, spec in enumerate(fields or []):
        keyword = str(spec.get("keyword", ""))
        if not _KEYWORD_RE.fullmatch(keyword):
            problem = msg("{keyword!r} is not an environment variable name", keyword=keyword)
            errors.append(FieldError(f"fields.{index}.keyword", problem, "fields"))
            continue
        if keyword in seen:
            problem = msg("{keyword} is given twice", keyword=keyword)
            errors.append(FieldError(f"fields.{index}.keyword", problem, "fields"))
            continue
        seen.add(keyword)
        default = spec.get("default")
        if default is not None and default != "":
            try:
                fieldtypes.check(str(spec.get("type", "string")), str(default))
            except ValueError as exc:
                errors.append(FieldError(f"fields.{index}.default", str(exc), "fields"))
                continue
        own_fields.append(
            CredentialTypeField(
                keyword=keyword,
                type=str(spec.get("type", "string")),
                description=spec.get("description"),
                hint=spec.get("hint"),
                default_value=spec.get("default"),
                required=bool(spec.get("required", False)),
                secret=bool(spec.get("secret", False)),
                helper=spec.get("helper"),
            )
        )
    if proto is None and not own_fields:
        errors.append(
            FieldError("prototype_id", msg("give a prototype or at least one field"), "prototype")
        )
    if errors:
        raise ValidationError(msg("credential type not created"), errors)
    with transaction(
        session, msg("credential type {name!r} conflicts with an existing one", name=name)
    ):
        ctype = CredentialType(
            company_id=owner.id,
            prototype_id=proto.id if proto else None,
            prototype_code=proto.code if proto else None,
            name=name.strip(),
            version=proto.version if proto else None,
        )
        ctype.fields.extend(own_fields)
        session.add(ctype)
        session.flush()
        for key, value in (settings or {}).items():
            token, key_id = vault.seal(session, value, SETTING_CONTEXT)
            ctype.settings.append(CredentialTypeSetting(name=key, value=token, key_id=key_id))
        audit.record(
            session,
            actor,
            "create",
            "credential_type",
            ctype.id,
            company_id=owner.id,
            details={
                "name": ctype.name,
                "prototype": ctype.prototype_code,
                "settings": sorted(settings or {}),
            },
        )
    return ctype


def delete_type(session: Session, type_id: int, *, actor: Actor) -> None:
    """Delete a credential type that no credential uses; one in use is refused (Conflict).

    Its credentials are never deleted with it: the database refuses too
    (``credentials.credential_type_id`` is ON DELETE RESTRICT).
    """
    ctype = credential_type(session, type_id)
    used = session.scalar(
        sa.select(sa.func.count())
        .select_from(Credential)
        .where(Credential.credential_type_id == ctype.id)
    )
    in_use = (
        msg(
            "credential type {id} ({name}) is used by 1 credential; delete it first",
            id=ctype.id,
            name=ctype.name,
        )
        if used == 1
        else msg(
            "credential type {id} ({name}) is used by {count} credentials; delete them first",
            id=ctype.id,
            name=ctype.name,
            count=used or "some",
        )
    )
    if used:
        raise Conflict(in_use)
    with transaction(session, in_use):
        audit.record(
            session,
            actor,
            "delete",
            "credential_type",
            ctype.id,
            company_id=ctype.company_id,
            details={"name": ctype.name},
        )
        session.delete(ctype)


# -- credentials -------------------------------------------------------------


def get(session: Session, credential_id: int) -> Credential:
    found = session.get(Credential, credential_id)
    if found is None:
        raise NotFound("credential", credential_id)
    return found


def list_credentials(
    session: Session,
    *,
    company_id: int | None = None,
    company_ids: set[int] | None = None,
    credential_type_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page[Credential]:
    query = sa.select(Credential)
    if company_id is not None:
        query = query.where(Credential.company_id == company_id)
    if credential_type_id is not None:
        query = query.where(Credential.credential_type_id == credential_type_id)
    if company_ids is not None:
        query = query.where(Credential.company_id.in_(company_ids))
    return paginate(session, query, Credential.id, limit, offset)


def _check_values(
    specs: list[FieldSpec], values: Mapping[str, str | None], summary: str
) -> dict[str, str | None]:
    by_name = {s.keyword: s for s in specs}
    errors: list[FieldError] = []
    checked: dict[str, str | None] = {}
    for name, value in values.items():
        spec = by_name.get(name)
        if spec is None:
            errors.append(
                FieldError(f"values.{name}", msg("not a field of this credential type"), name)
            )
            continue
        if value is None:
            checked[name] = None
            continue
        try:
            checked[name] = fieldtypes.check(spec.type, value, spec.options)
        except ValueError as exc:
            errors.append(FieldError(f"values.{name}", str(exc), name))
    if errors:
        raise ValidationError(summary, errors)
    return checked


def _checked_with_name(
    specs: list[FieldSpec], values: Mapping[str, str | None], name: str | None, summary: str
) -> dict[str, str | None]:
    """The checked values; every problem of the name and the values raised at once."""
    errors: list[FieldError] = []
    if name is not None and not name.strip():
        errors.append(FieldError("name", msg("must not be empty")))
    checked: dict[str, str | None] = {}
    try:
        checked = _check_values(specs, values, summary)
    except ValidationError as exc:
        errors.extend(exc.problems)
    if errors:
        raise ValidationError(summary, errors)
    return checked


def _store(
    session: Session,
    credential: Credential,
    specs: list[FieldSpec],
    checked: Mapping[str, str | None],
) -> None:
    by_name = {s.keyword: s for s in specs}
    rows = {v.name: v for v in credential.values}
    for name, value in checked.items():
        row = rows.get(name)
        if value is None:
            if row is not None:
                credential.values.remove(row)
            continue
        if value == "" and row is not None and by_name[name].secret:
            continue  # a blank secret keeps the stored value
        if row is None:
            row = CredentialValue(name=name)
            credential.values.append(row)
        row.value_type = by_name[name].type
        row.value, row.key_id = vault.seal(session, value, VALUE_CONTEXT)
    session.flush()


def _missing(specs: list[FieldSpec], credential: Credential) -> list[str]:
    present = {v.name for v in credential.values}
    return [s.keyword for s in specs if s.required and s.keyword not in present and not s.default]


def _required(missing: list[str]) -> list[FieldError]:
    return [FieldError(f"values.{name}", msg("required"), name) for name in missing]


def create(
    session: Session,
    *,
    company: int | str,
    credential_type_id: int,
    name: str,
    values: Mapping[str, str | None],
    actor: Actor,
) -> Credential:
    """A credential of a company; every required field must be given."""
    owner = companies.get(session, company)
    ctype = credential_type(session, credential_type_id)
    if ctype.company_id != owner.id:
        raise NotFound("credential type", credential_type_id)
    specs = fields_of(ctype)
    checked = _checked_with_name(specs, values, name, "credential not created")
    with transaction(
        session,
        msg("company {slug} already has a credential named {name!r}", slug=owner.slug, name=name),
    ):
        credential = Credential(company_id=owner.id, credential_type_id=ctype.id, name=name.strip())
        session.add(credential)
        session.flush()
        _store(session, credential, specs, checked)
        missing = _missing(specs, credential)
        if missing:
            raise ValidationError(msg("credential not created"), _required(missing))
        audit.record(
            session,
            actor,
            "create",
            "credential",
            credential.id,
            company_id=owner.id,
            details={"name": credential.name, "fields": sorted(checked)},
        )
    return credential


def update(
    session: Session,
    credential_id: int,
    *,
    actor: Actor,
    name: str | None = None,
    values: Mapping[str, str | None] | None = None,
) -> Credential:
    """Rename or change values (``None`` removes one; a blank secret keeps the stored one)."""
    credential = get(session, credential_id)
    specs = fields_of(credential.credential_type)
    checked = _checked_with_name(specs, values or {}, name, "credential not changed")
    with transaction(session, msg("a credential named {name!r} already exists", name=name)):
        if name is not None:
            credential.name = name.strip()
        if checked:
            # a change of values alone touches only their rows: the credential's own
            # updated_at says it changed (availability results are kept per it)
            credential.updated_at = utc_now()
        _store(session, credential, specs, checked)
        missing = _missing(specs, credential)
        if missing:
            raise ValidationError(msg("credential not changed"), _required(missing))
        audit.record(
            session,
            actor,
            "update",
            "credential",
            credential.id,
            company_id=credential.company_id,
            details={"fields": sorted(checked), "renamed": name is not None},
        )
    return credential


def used_by(session: Session, credential_id: int) -> list[RunTemplate]:
    """The run templates the credential is bound to, by id."""
    return list(
        session.scalars(
            sa.select(RunTemplate)
            .join(RunTemplateCredential, RunTemplateCredential.run_template_id == RunTemplate.id)
            .where(RunTemplateCredential.credential_id == credential_id)
            .order_by(RunTemplate.id)
        )
    )


def delete(session: Session, credential_id: int, *, actor: Actor) -> None:
    """Delete a credential no run template uses; one in use is refused (Conflict), naming
    the run templates to unbind it from first."""
    credential = get(session, credential_id)
    users = used_by(session, credential.id)
    if users:
        names = ", ".join(f"{rt.name!r} ({rt.id})" for rt in users)
        params = {"id": credential.id, "name": credential.name, "names": names}
        raise Conflict(
            msg(
                "credential {id} ({name}) is used by run templates {names}; unbind it first",
                **params,
            )
            if len(users) > 1
            else msg(
                "credential {id} ({name}) is used by run template {names}; unbind it first",
                **params,
            )
        )
    with transaction(session):
        audit.record(
            session,
            actor,
            "delete",
            "credential",
            credential.id,
            company_id=credential.company_id,
            details={"name": credential.name},
        )
        session.delete(credential)


def redacted_values(credential: Credential) -> dict[str, str]:
    """What any view shows of a credential's values (see :mod:`multiflexi.core.redaction`)."""
    return redaction.credential_values(credential)


def reveal(session: Session, credential_id: int, *, actor: Actor) -> dict[str, str]:
    """The plaintext values; the reveal itself is audited (who, which credential, when)."""
    credential = get(session, credential_id)
    plain = {v.name: vault.unseal(session, v.value, VALUE_CONTEXT) for v in credential.values}
    with transaction(session):
        audit.record(
            session,
            actor,
            "reveal",
            "credential",
            credential.id,
            company_id=credential.company_id,
            details={"fields": sorted(plain)},
        )
    return plain


def provided_environment(session: Session, credential: Credential) -> dict[str, tuple[str, bool]]:
    """name -> (value, secret) that the credential gives a job (defaults included)."""
    specs = {s.keyword: s for s in fields_of(credential.credential_type)}
    provided: dict[str, tuple[str, bool]] = {}
    for keyword, spec in specs.items():
        if spec.default not in (None, ""):
            provided[keyword] = (str(spec.default), spec.secret)
    for row in credential.values:
        secret = specs[row.name].secret if row.name in specs else True
        provided[row.name] = (vault.unseal(session, row.value, VALUE_CONTEXT), secret)
    return provided


__all__ = [
    "SETTING_CONTEXT",
    "VALUE_CONTEXT",
    "FieldSpec",
    "create",
    "create_type",
    "credential_type",
    "delete",
    "delete_type",
    "fields_of",
    "get",
    "list_credentials",
    "list_prototypes",
    "list_types",
    "prototype",
    "prototype_fields",
    "provided_environment",
    "redacted_values",
    "reveal",
    "update",
    "used_by",
]
