"""Write credential prototypes and credential type definitions as JSON documents."""

from __future__ import annotations

from typing import Any

from multiflexi.core.manifests.credential_model import (
    CredentialPrototype,
    CredentialTypeDefinition,
    CredentialTypeField,
    PrototypeField,
)
from multiflexi.core.manifests.localized import Localized
from multiflexi.core.manifests.schema import CREDENTIAL_PROTOTYPE_SCHEMA_URL


def prototype_to_json(prototype: CredentialPrototype) -> dict[str, Any]:
    """A ``*.credprototype.json`` document; texts in several languages stay localized objects."""
    p = prototype
    doc: dict[str, Any] = {
        "$schema": CREDENTIAL_PROTOTYPE_SCHEMA_URL,
        "uuid": p.uuid,
        "code": p.code,
        "name": p.name.to_json(),
    }
    _put(doc, "description", p.description)
    doc["version"] = p.version
    _put(doc, "url", p.url)
    _put(doc, "homepage", p.homepage)
    _put(doc, "logo", p.logo)
    doc["tags"] = list(p.tags)
    doc["fields"] = [_prototype_field(f) for f in p.fields]
    return doc


def credential_type_to_json(definition: CredentialTypeDefinition) -> dict[str, Any]:
    """A ``*.credtype.json`` document (the credential-type schema allows no ``$schema`` key)."""
    d = definition
    return {
        "uuid": d.uuid,
        "code": d.code,
        "name": d.name.to_json(),
        "description": d.description.to_json(),
        "version": d.version,
        "fields": [_credential_type_field(f) for f in d.fields],
    }


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        return
    doc[key] = value.to_json() if isinstance(value, Localized) else value


def _prototype_field(f: PrototypeField) -> dict[str, Any]:
    out: dict[str, Any] = {"keyword": f.keyword, "type": f.type}
    _put(out, "name", f.name)
    _put(out, "description", f.description)
    _put(out, "hint", f.hint)
    _put(out, "default_value", f.default)
    out["required"] = f.required
    if f.secret != (f.type == "password"):
        out["secret"] = f.secret
    if f.options:
        out["options"] = [{"value": o.value, "label": o.label} for o in f.options]
    return out


def _credential_type_field(f: CredentialTypeField) -> dict[str, Any]:
    out: dict[str, Any] = {"keyword": f.keyword, "name": f.name.to_json(), "type": f.type}
    _put(out, "description", f.description)
    out["required"] = f.required
    _put(out, "default", f.default)
    if f.options:
        out["options"] = list(f.options)
    return out
