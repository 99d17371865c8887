"""Write a `Manifest` as a current-format (3.4.0) manifest document, keys in a fixed order."""

from __future__ import annotations

import json
from typing import Any

from multiflexi.core.manifests.frozen import thaw
from multiflexi.core.manifests.localized import Localized
from multiflexi.core.manifests.model import (
    MULTILINE_TYPES,
    SECRET_TYPES,
    Artifact,
    ExitCode,
    Field,
    Manifest,
)
from multiflexi.core.manifests.schema import APPLICATION_SCHEMA_URL, APPLICATION_SCHEMA_VERSION


def manifest_to_json(manifest: Manifest) -> dict[str, Any]:
    """The manifest as a JSON-ready dict that validates against the application schema."""
    m = manifest
    doc: dict[str, Any] = {
        "$schema": APPLICATION_SCHEMA_URL,
        "schemaVersion": APPLICATION_SCHEMA_VERSION,
    }
    _put(doc, "uuid", m.uuid)
    _put(doc, "code", m.code)
    doc["name"] = m.name.to_json()
    _put(doc, "title", m.title)
    doc["description"] = m.description.to_json()
    _put(doc, "version", m.version)
    doc["executable"] = m.executable
    _put(doc, "cmdparamsTemplate", m.cmdparams)
    _put(doc, "setup", m.setup)
    _put(doc, "deploy", m.deploy)
    _put(doc, "homepage", m.homepage)
    _put(doc, "author", m.author)
    _put(doc, "license", m.license)
    _put(doc, "category", m.category)
    _put(doc, "ociimage", m.ociimage)
    _put(doc, "image", m.image)
    doc["tags"] = list(m.tags)
    doc["requirements"] = list(m.requirements)
    _put(doc, "timeout", m.timeout)
    doc["environment"] = {f.name: _field(f) for f in m.fields}
    if m.exit_codes:
        doc["exitCodes"] = {str(e.code): _exit_code(e) for e in m.exit_codes}
    if m.artifacts:
        doc["artifacts"] = [_artifact(a) for a in m.artifacts]
    for key, block in (
        ("produces", m.produces),
        ("consumes", m.consumes),
        ("events", m.events),
        ("kubernetes", m.kubernetes),
    ):
        _put(doc, key, thaw(block) if block else None)
    return doc


def dump_manifest(manifest: Manifest) -> str:
    """The manifest as JSON text (UTF-8, indented, newline at the end), ready for a file."""
    return json.dumps(manifest_to_json(manifest), indent=4, ensure_ascii=False) + "\n"


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        return
    doc[key] = value.to_json() if isinstance(value, Localized) else value


def _field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"type": f.type}
    _put(out, "category", f.category)
    _put(out, "description", f.description)
    _put(out, "hint", f.hint)
    _put(out, "note", f.note)
    _put(out, "defval", f.default)
    out["required"] = f.required
    if f.secret != (f.type in SECRET_TYPES):
        out["secret"] = f.secret
    if f.multiline != (f.type in MULTILINE_TYPES):
        out["multiline"] = f.multiline
    if f.expiring:
        out["expiring"] = True
    if f.options is not None:
        out["options"] = thaw(f.options)
    return out


def _exit_code(e: ExitCode) -> dict[str, Any]:
    return {"description": e.description.to_json(), "severity": e.severity, "retry": e.retry}


def _artifact(a: Artifact) -> dict[str, Any]:
    out: dict[str, Any] = {"name": a.name.to_json(), "path": a.pattern, "type": a.type}
    _put(out, "description", a.description)
    return out
