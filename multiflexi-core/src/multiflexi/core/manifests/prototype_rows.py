"""A `CredentialPrototype` as database rows, and back (losslessly).

The main-language texts go to the ``name``/``description``/``hint`` columns; a
text given in a language other than English alone is also kept whole in the
row's ``translations`` JSON (``{"name": {"en": ..., "cs": ...}, ...}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from multiflexi.core import models
from multiflexi.core.manifests.credential_model import (
    CredentialPrototype,
    Option,
    PrototypeField,
)
from multiflexi.core.manifests.localized import Localized
from multiflexi.core.manifests.row_texts import several_languages, text_from

PROTOTYPE_TEXTS = ("name", "description")
FIELD_TEXTS = ("name", "description", "hint")


@dataclass
class PrototypeRows:
    columns: dict[str, Any]
    fields: list[models.CredentialPrototypeField] = field(default_factory=list)


def prototype_rows_of(p: CredentialPrototype) -> PrototypeRows:
    """New, unattached rows holding everything `p` says."""
    columns = {
        "uuid": p.uuid,
        "code": p.code,
        "name": p.name.text,
        "description": p.description.text if p.description else None,
        "version": p.version,
        "url": p.url,
        "homepage": p.homepage,
        "tags": list(p.tags),
        "logo": p.logo,
        "translations": several_languages(p, PROTOTYPE_TEXTS) or None,
    }
    return PrototypeRows(columns, [_field_row(f, i) for i, f in enumerate(p.fields)])


def prototype_from_rows(row: models.CredentialPrototype) -> CredentialPrototype:
    several: Mapping[str, Any] = row.translations or {}
    return CredentialPrototype(
        uuid=row.uuid,
        code=row.code,
        name=text_from(row.name, several, "name") or Localized.of(""),
        version=row.version or "",
        description=text_from(row.description, several, "description"),
        url=row.url,
        homepage=row.homepage,
        logo=row.logo,
        tags=tuple(row.tags or ()),
        fields=tuple(_field(f) for f in row.fields),
    )


def _field_row(f: PrototypeField, position: int) -> models.CredentialPrototypeField:
    return models.CredentialPrototypeField(
        keyword=f.keyword,
        type=f.type,
        name=f.name.text if f.name else None,
        description=f.description.text if f.description else None,
        hint=f.hint.text if f.hint else None,
        default_value=f.default,
        required=f.required,
        secret=f.secret,
        options=[{"value": o.value, "label": o.label} for o in f.options] or None,
        translations=several_languages(f, FIELD_TEXTS) or None,
        position=position,
    )


def _field(row: models.CredentialPrototypeField) -> PrototypeField:
    several: Mapping[str, Any] = row.translations or {}
    return PrototypeField(
        keyword=row.keyword,
        type=row.type,
        name=text_from(row.name, several, "name"),
        description=text_from(row.description, several, "description"),
        hint=text_from(row.hint, several, "hint"),
        default=row.default_value,
        required=row.required,
        secret=row.secret,
        options=tuple(Option(o["value"], o["label"]) for o in row.options or ()),
    )
