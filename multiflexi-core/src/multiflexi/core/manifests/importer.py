"""Put manifests and credential prototypes into the database, and take them out again.

Each import is one transaction on the caller's session: the document is read
and checked completely before anything is written, the application (or
prototype) is matched by uuid and then by name (or code), its fields, exit
codes, artifact patterns and translations are replaced, an audit row is added,
and the whole is committed, or none of it.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from multiflexi.core import audit, models
from multiflexi.core.audit import Actor
from multiflexi.core.errors import Conflict, NotFound, ValidationError
from multiflexi.core.manifests.app_rows import AppRows, manifest_from_rows, rows_of, too_long
from multiflexi.core.manifests.credential_export import prototype_to_json
from multiflexi.core.manifests.credential_model import CredentialPrototype
from multiflexi.core.manifests.credential_parse import parse_credential_prototype
from multiflexi.core.manifests.export import manifest_to_json
from multiflexi.core.manifests.model import Manifest
from multiflexi.core.manifests.parse import parse_manifest
from multiflexi.core.manifests.prototype_rows import (
    PrototypeRows,
    prototype_from_rows,
    prototype_rows_of,
)
from multiflexi.core.manifests.schema import readable
from multiflexi.core.manifests.source import Source, label
from multiflexi.core.texts import msg
from multiflexi.core.unit import transaction

#: the longest file name kept in ``applications.source_file``
_SOURCE_FILE_LENGTH = 255


@dataclass(frozen=True)
class ImportResult:
    """What an application import did."""

    application_id: int
    created: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrototypeImportResult:
    """What a credential prototype import did."""

    prototype_id: int
    created: bool
    warnings: tuple[str, ...] = ()


def import_manifest(session: Session, source: Source, *, actor: Actor) -> ImportResult:
    """Create or update the application `source` describes, in one transaction.

    Raises `ValidationError` for a manifest that cannot be imported and
    `Conflict` when it would take the name or code of another application; in
    both cases the database is left as it was.
    """
    parsed = parse_manifest(source)
    manifest = parsed.manifest
    warnings = list(parsed.warnings)
    rows = rows_of(manifest)
    _check_lengths(rows, label("application manifest", source))
    if isinstance(source, os.PathLike) and len(os.fspath(source)) <= _SOURCE_FILE_LENGTH:
        rows.columns["source_file"] = os.fspath(source)
    with transaction(
        session, conflict=msg("application {text!r} clashes", text=manifest.name.text)
    ):
        app = _find_application(session, manifest, warnings)
        created = app is None
        _refuse_taken(session, app, manifest)
        if app is None:
            app = models.Application()
            session.add(app)
        _replace_application(session, app, rows)
        session.flush()
        audit.record(
            session,
            actor,
            "create" if created else "update",
            "application",
            app.id,
            details={"name": app.name, "uuid": app.uuid, "version": app.version},
        )
        application_id = app.id
    return ImportResult(application_id, created, tuple(warnings))


@dataclass(frozen=True)
class ImportPreview:
    """What importing a manifest would do, found without writing anything."""

    application_id: int | None
    created: bool
    changed: bool
    manifest: Manifest
    warnings: tuple[str, ...] = ()


def preview_manifest(session: Session, source: Source) -> ImportPreview:
    """Whether importing `source` would create an application, change one, or do nothing.

    The same checks as `import_manifest` (so a manifest it would refuse raises the
    same errors), but nothing is written: an existing application "changes" when its
    stored manifest differs from the one in `source` (the order of the environment
    fields and exit codes, keys of JSON objects, does not count). ``manifest`` is `source` read
    and normalised, as the import would store it.
    """
    parsed = parse_manifest(source)
    manifest = parsed.manifest
    warnings = list(parsed.warnings)
    _check_lengths(rows_of(manifest), label("application manifest", source))
    app = _find_application(session, manifest, warnings)
    _refuse_taken(session, app, manifest)
    if app is None:
        return ImportPreview(None, True, True, manifest, tuple(warnings))
    changed = _content(manifest_from_rows(app)) != _content(manifest)
    return ImportPreview(app.id, False, changed, manifest, tuple(warnings))


def _content(manifest: Manifest) -> Manifest:
    """The manifest with its fields and exit codes in one order: a JSON object has none."""
    return dataclasses.replace(
        manifest,
        fields=tuple(sorted(manifest.fields, key=lambda f: f.name)),
        exit_codes=tuple(sorted(manifest.exit_codes, key=lambda e: e.code)),
    )


def application_manifest(session: Session, application_id: int) -> Manifest:
    """The manifest of a stored application."""
    app = session.get(models.Application, application_id)
    if app is None:
        raise NotFound("application", application_id)
    return manifest_from_rows(app)


def export_manifest(session: Session, application_id: int) -> dict[str, Any]:
    """A stored application as a current-format manifest document."""
    return manifest_to_json(application_manifest(session, application_id))


def import_credential_prototype(
    session: Session, source: Source, *, actor: Actor
) -> PrototypeImportResult:
    """Create or update the credential prototype `source` describes (by uuid, then code)."""
    parsed = parse_credential_prototype(source)
    prototype = parsed.prototype
    warnings = list(parsed.warnings)
    rows = prototype_rows_of(prototype)
    _check_prototype_lengths(rows, label("credential prototype", source))
    with transaction(
        session, conflict=msg("credential prototype {code!r} clashes", code=prototype.code)
    ):
        row = _find_prototype(session, prototype, warnings)
        created = row is None
        if row is None:
            row = models.CredentialPrototype()
            session.add(row)
        for key, value in rows.columns.items():
            setattr(row, key, value)
        row.fields = []
        session.flush()  # the old fields go before new ones take their keywords
        row.fields = rows.fields
        session.flush()
        audit.record(
            session,
            actor,
            "create" if created else "update",
            "credential_prototype",
            row.id,
            details={"code": row.code, "uuid": row.uuid, "version": row.version},
        )
        prototype_id = row.id
    return PrototypeImportResult(prototype_id, created, tuple(warnings))


@dataclass(frozen=True)
class PrototypeImportPreview:
    """What importing a credential prototype would do, found without writing anything."""

    prototype_id: int | None
    created: bool
    changed: bool
    prototype: CredentialPrototype
    warnings: tuple[str, ...] = ()


def preview_credential_prototype(session: Session, source: Source) -> PrototypeImportPreview:
    """Whether importing `source` would create a credential prototype, change one, or do nothing.

    The same checks as `import_credential_prototype` (a definition it would refuse
    raises the same errors) and the same match (by uuid, then code), but nothing is
    written. ``prototype`` is `source` read and normalised, as the import would store it.
    """
    parsed = parse_credential_prototype(source)
    prototype = parsed.prototype
    warnings = list(parsed.warnings)
    _check_prototype_lengths(prototype_rows_of(prototype), label("credential prototype", source))
    row = _find_prototype(session, prototype, warnings)
    if row is None:
        return PrototypeImportPreview(None, True, True, prototype, tuple(warnings))
    changed = prototype_from_rows(row) != prototype
    return PrototypeImportPreview(row.id, False, changed, prototype, tuple(warnings))


def stored_prototype(session: Session, prototype_id: int) -> CredentialPrototype:
    """The definition of a stored credential prototype."""
    row = session.get(models.CredentialPrototype, prototype_id)
    if row is None:
        raise NotFound("credential prototype", prototype_id)
    return prototype_from_rows(row)


def export_credential_prototype(session: Session, prototype_id: int) -> dict[str, Any]:
    """A stored credential prototype as a ``*.credprototype.json`` document."""
    return prototype_to_json(stored_prototype(session, prototype_id))


# -- applications ---------------------------------------------------------------------------


def _find_application(
    session: Session, manifest: Manifest, warnings: list[str]
) -> models.Application | None:
    """The application a manifest updates: same uuid, else same name (which then takes the uuid)."""
    if manifest.uuid is not None:
        app = session.scalar(sa.select(models.Application).filter_by(uuid=manifest.uuid))
        if app is not None:
            return app
    app = session.scalar(sa.select(models.Application).filter_by(name=manifest.name.text))
    if app is not None and app.uuid and manifest.uuid:
        warnings.append(
            f"application {app.id} ({app.name!r}) matched by name: "
            f"its uuid changes from {app.uuid} to {manifest.uuid}"
        )
    return app


def _refuse_taken(session: Session, app: models.Application | None, manifest: Manifest) -> None:
    """Conflict when another application already has the manifest's name or code."""
    own_id = app.id if app is not None else None
    for column, value in (("name", manifest.name.text), ("code", manifest.code)):
        if value is None:
            continue
        other = session.scalar(
            sa.select(models.Application).where(
                getattr(models.Application, column) == value, models.Application.id != own_id
            )
        )
        if other is not None:
            raise Conflict(
                msg(
                    "application {id} ({name!r}) already has the {column} {value!r}",
                    id=other.id,
                    name=other.name,
                    column=column,
                    value=value,
                )
            )


def _replace_application(session: Session, app: models.Application, rows: AppRows) -> None:
    for key, value in rows.columns.items():
        setattr(app, key, value)
    app.fields = []
    app.exit_codes = []
    app.artifacts = []
    app.translations = []
    session.flush()  # old children go before new ones take their unique keys
    app.fields = rows.fields
    app.exit_codes = rows.exit_codes
    app.artifacts = rows.artifacts
    app.translations = rows.translations


def _check_lengths(rows: AppRows, name: str) -> None:
    probe = models.Application(**rows.columns)
    problems = too_long(probe, "")
    for f in rows.fields:
        problems += too_long(f, f"environment.{f.name}.")
    for e in rows.exit_codes:
        problems += too_long(e, f"exitCodes.{e.exit_code}.")
    for i, a in enumerate(rows.artifacts):
        problems += too_long(a, f"artifacts[{i}].")
    for t in rows.translations:
        problems += too_long(t, f"translations.{t.lang}.")
    if problems:
        raise ValidationError(
            msg("{name} does not fit the database", name=name), readable(problems)
        )


# -- credential prototypes ------------------------------------------------------------------


def _find_prototype(
    session: Session, prototype: CredentialPrototype, warnings: list[str]
) -> models.CredentialPrototype | None:
    """The prototype a definition updates: same uuid, else same code (which then takes the uuid)."""
    row = session.scalar(sa.select(models.CredentialPrototype).filter_by(uuid=prototype.uuid))
    if row is None:
        row = session.scalar(sa.select(models.CredentialPrototype).filter_by(code=prototype.code))
        if row is not None:
            warnings.append(
                f"credential prototype {row.id} ({row.code!r}) matched by code: "
                f"its uuid changes from {row.uuid} to {prototype.uuid}"
            )
        return row
    other = session.scalar(
        sa.select(models.CredentialPrototype).where(
            models.CredentialPrototype.code == prototype.code,
            models.CredentialPrototype.id != row.id,
        )
    )
    if other is not None:
        raise Conflict(
            msg(
                "credential prototype {id} already has the code {code!r}",
                id=other.id,
                code=other.code,
            )
        )
    return row


def _check_prototype_lengths(rows: PrototypeRows, name: str) -> None:
    problems = too_long(models.CredentialPrototype(**rows.columns), "")
    for i, f in enumerate(rows.fields):
        problems += too_long(f, f"fields[{i}].")
    if problems:
        raise ValidationError(
            msg("{name} does not fit the database", name=name), readable(problems)
        )
