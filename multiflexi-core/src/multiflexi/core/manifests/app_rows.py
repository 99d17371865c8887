"""A `Manifest` as database rows (models.Application and its children), and back.

The mapping is lossless: `manifest_from_rows(rows_of(m))` equals `m`. What the
tables have no column for is kept in ``applications.extra``:

- ``author``, ``license``, ``category``, ``events``: the manifest keys as given;
- ``field_texts``: for each field whose description, hint or note is given in
  a language other than English alone, those texts by language (the field
  columns hold the main text);
- ``artifact_texts``: the same for artifact names and descriptions, by position.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String

from multiflexi.core import models
from multiflexi.core.errors import FieldError
from multiflexi.core.manifests.build import coerce_default
from multiflexi.core.manifests.frozen import freeze, thaw
from multiflexi.core.manifests.localized import Localized
from multiflexi.core.manifests.model import Artifact, Default, ExitCode, Field, Manifest
from multiflexi.core.manifests.row_texts import several_languages, text_from
from multiflexi.core.texts import msg

_EXTRA_TEXTS = ("author", "license", "category")


@dataclass
class AppRows:
    """What one manifest puts in the database: the application's columns and its child rows."""

    columns: dict[str, Any]
    fields: list[models.ApplicationField] = field(default_factory=list)
    exit_codes: list[models.ApplicationExitCode] = field(default_factory=list)
    artifacts: list[models.ApplicationArtifact] = field(default_factory=list)
    translations: list[models.ApplicationTranslation] = field(default_factory=list)


def rows_of(m: Manifest) -> AppRows:
    """New, unattached rows holding everything `m` says."""
    extra: dict[str, Any] = {key: getattr(m, key) for key in _EXTRA_TEXTS if getattr(m, key)}
    if m.events:
        extra["events"] = thaw(m.events)
    field_texts = {f.name: texts for f in m.fields if (texts := several_languages(f, FIELD_TEXTS))}
    if field_texts:
        extra["field_texts"] = field_texts
    artifact_texts = [several_languages(a, ARTIFACT_TEXTS) for a in m.artifacts]
    if any(artifact_texts):
        extra["artifact_texts"] = artifact_texts
    columns: dict[str, Any] = {
        "uuid": m.uuid,
        "name": m.name.text,
        "code": m.code,
        "title": m.title.text if m.title else None,
        "description": m.description.text,
        "executable": m.executable,
        "cmdparams": m.cmdparams,
        "setup": m.setup,
        "deploy": m.deploy,
        "homepage": m.homepage,
        "version": m.version,
        "ociimage": m.ociimage,
        "tags": list(m.tags),
        "requirements": list(m.requirements),
        "image": m.image,
        "timeout": m.timeout,
        "produces": thaw(m.produces) if m.produces else None,
        "consumes": thaw(m.consumes) if m.consumes else None,
        "kubernetes": thaw(m.kubernetes) if m.kubernetes else None,
        "extra": extra or None,
    }
    return AppRows(
        columns=columns,
        fields=[_field_row(f, position) for position, f in enumerate(m.fields)],
        exit_codes=[row for e in m.exit_codes for row in _exit_code_rows(e)],
        artifacts=[_artifact_row(a, position) for position, a in enumerate(m.artifacts)],
        translations=_translation_rows(m),
    )


def manifest_from_rows(app: models.Application) -> Manifest:
    """The manifest an application row (with its children loaded) stands for."""
    extra: Mapping[str, Any] = app.extra or {}
    names, titles, descriptions = _translations(app)
    field_texts = extra.get("field_texts", {})
    artifact_texts = extra.get("artifact_texts", [])
    return Manifest(
        name=names or Localized.of(app.name),
        description=descriptions or Localized.of(app.description or ""),
        executable=app.executable,
        uuid=app.uuid,
        title=titles or Localized.optional(app.title),
        code=app.code,
        version=app.version,
        cmdparams=app.cmdparams,
        setup=app.setup,
        deploy=app.deploy,
        homepage=app.homepage,
        author=extra.get("author"),
        license=extra.get("license"),
        category=extra.get("category"),
        ociimage=app.ociimage,
        image=app.image,
        tags=tuple(app.tags or ()),
        requirements=tuple(app.requirements or ()),
        timeout=app.timeout,
        fields=tuple(_field(row, field_texts.get(row.name, {})) for row in app.fields),
        exit_codes=_exit_codes(app.exit_codes),
        artifacts=tuple(
            _artifact(row, artifact_texts[i] if i < len(artifact_texts) else {})
            for i, row in enumerate(app.artifacts)
        ),
        produces=freeze(app.produces) if app.produces else None,
        consumes=freeze(app.consumes) if app.consumes else None,
        events=freeze(extra["events"]) if extra.get("events") else None,
        kubernetes=freeze(app.kubernetes) if app.kubernetes else None,
    )


def too_long(row: object, where: str) -> list[FieldError]:
    """A problem at ``where.column`` for each text of `row` longer than its column allows."""
    problems = []
    table = getattr(row, "__table__", None)
    for column in table.columns if table is not None else ():
        value = getattr(row, column.key, None)
        limit = column.type.length if isinstance(column.type, String) else None
        if limit and isinstance(value, str) and len(value) > limit:
            problems.append(
                FieldError(
                    f"{where}{column.key}", msg("longer than {limit} characters", limit=limit)
                )
            )
    return problems


# -- texts in several languages -------------------------------------------------------------

FIELD_TEXTS = ("description", "hint", "note")
ARTIFACT_TEXTS = ("name", "description")


def _translation_rows(m: Manifest) -> list[models.ApplicationTranslation]:
    by_lang: dict[str, models.ApplicationTranslation] = {}
    for key, text in (("name", m.name), ("title", m.title), ("description", m.description)):
        for lang, value in text.texts if text is not None else ():
            row = by_lang.setdefault(lang, models.ApplicationTranslation(lang=lang))
            setattr(row, key, value)
    return [by_lang[lang] for lang in sorted(by_lang)]


def _translations(
    app: models.Application,
) -> tuple[Localized | None, Localized | None, Localized | None]:
    found: dict[str, dict[str, str]] = {"name": {}, "title": {}, "description": {}}
    for row in app.translations:
        for key, texts in found.items():
            value = getattr(row, key)
            if value is not None:
                texts[row.lang] = value
    name, title, description = (Localized.of(t) if t else None for t in found.values())
    return name, title, description


# -- fields, exit codes, artifacts -----------------------------------------------------------


def _field_row(f: Field, position: int) -> models.ApplicationField:
    return models.ApplicationField(
        name=f.name,
        type=f.type,
        description=f.description.text if f.description else None,
        hint=f.hint.text if f.hint else None,
        note=f.note.text if f.note else None,
        category=f.category,
        default_value=default_text(f.default),
        required=f.required,
        secret=f.secret,
        multiline=f.multiline,
        expiring=f.expiring,
        options=thaw(f.options) if f.options is not None else None,
        position=position,
    )


def default_text(value: Default | None) -> str | None:
    """A field default as the text the database (and the job's environment) holds."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _field(row: models.ApplicationField, several: Mapping[str, Any]) -> Field:
    return Field(
        name=row.name,
        type=row.type,
        default=coerce_default(row.type, row.default_value),
        required=row.required,
        secret=row.secret,
        description=text_from(row.description, several, "description"),
        hint=text_from(row.hint, several, "hint"),
        note=text_from(row.note, several, "note"),
        category=row.category,
        multiline=row.multiline,
        expiring=row.expiring,
        options=freeze(row.options) if row.options is not None else None,
    )


def _exit_code_rows(e: ExitCode) -> list[models.ApplicationExitCode]:
    return [
        models.ApplicationExitCode(
            exit_code=e.code, lang=lang, description=text, severity=e.severity, retry=e.retry
        )
        for lang, text in e.description.texts
    ]


def _exit_codes(rows: list[models.ApplicationExitCode]) -> tuple[ExitCode, ...]:
    grouped: dict[int, list[models.ApplicationExitCode]] = {}
    for row in rows:
        grouped.setdefault(row.exit_code, []).append(row)
    return tuple(
        ExitCode(
            code=code,
            description=Localized.of({r.lang: r.description for r in group}),
            severity=group[0].severity,
            retry=group[0].retry,
        )
        for code, group in sorted(grouped.items())
    )


def _artifact_row(a: Artifact, position: int) -> models.ApplicationArtifact:
    return models.ApplicationArtifact(
        pattern=a.pattern,
        type=a.type,
        name=a.name.text,
        description=a.description.text if a.description else None,
        position=position,
    )


def _artifact(row: models.ApplicationArtifact, several: Mapping[str, Any]) -> Artifact:
    return Artifact(
        name=text_from(row.name, several, "name") or Localized.of(""),
        pattern=row.pattern,
        type=row.type,
        description=text_from(row.description, several, "description"),
    )
