"""Credential prototypes and credential type definitions: source -> checks -> dataclasses.

Credential prototype files in the wild give their names and descriptions as
localized objects (as the original's importer accepts), while the prototype
schema says plain strings. So a prototype is checked in two parts: every
localized text must be a valid localized text, and the document with each text
replaced by its main (English) text must satisfy the schema.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests.build import Problems, required_text
from multiflexi.core.manifests.credential_model import (
    CredentialPrototype,
    CredentialTypeDefinition,
    CredentialTypeField,
    Option,
    PrototypeField,
)
from multiflexi.core.manifests.legacy import read_flag, split_names
from multiflexi.core.manifests.localized import Localized, localized_problem
from multiflexi.core.manifests.schema import (
    canonical_uuid,
    kept_uuid,
    location,
    readable,
    schema_problems,
    short,
    tolerating_kept_uuid,
    uuid_note,
)
from multiflexi.core.manifests.source import Source, label, load_object
from multiflexi.core.texts import msg

PROTOTYPE = "credential prototype"
CREDENTIAL_TYPE = "credential type"

PROTOTYPE_KEYS = frozenset(
    ["uuid", "code", "name", "description", "version", "logo", "url", "homepage", "tags", "fields"]
)
PROTOTYPE_FIELD_KEYS = frozenset(
    [
        "keyword",
        "type",
        "name",
        "description",
        "hint",
        "default_value",
        "required",
        "secret",
        "options",
    ]
)
CREDENTIAL_TYPE_KEYS = frozenset(
    ["uuid", "code", "name", "description", "version", "fields", "localized"]
)
CREDENTIAL_TYPE_FIELD_KEYS = frozenset(
    ["keyword", "name", "type", "description", "required", "default", "options"]
)
#: old or foreign field type names in prototypes
PROTOTYPE_TYPE_ALIASES = {
    "number": "integer",
    "int": "integer",
    "bool": "boolean",
    "checkbox": "boolean",
    "secret": "password",
}
CREDENTIAL_TYPE_TYPE_ALIASES = {"integer": "number", "int": "number", "bool": "boolean"}
#: prototype field keys with another spelling and the current one
PROTOTYPE_FIELD_RENAMES = (("title", "name"), ("example", "hint"), ("default", "default_value"))
_SCHEMA_KEYS = ("$schema", "schema")
_LOCALIZED_FIELD_TEXTS = ("name", "description", "hint")


@dataclass(frozen=True)
class ParsedPrototype:
    prototype: CredentialPrototype
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedCredentialType:
    credential_type: CredentialTypeDefinition
    warnings: tuple[str, ...] = ()


def credential_kind(
    document: Mapping[str, Any], filename: str | os.PathLike[str] | None = None
) -> Literal["prototype", "type"]:
    """Whether a credential definition is a prototype or a credential type.

    The ``$schema`` (or ``schema``) URL decides; without one, the file name does
    (``*.credprototype.json``, ``*.crdprototype.json``, ``*.crdprtype.json`` are
    prototypes; ``*.credtype.json``, ``*.credential-type.json`` are types).
    """
    for key in _SCHEMA_KEYS:
        url = document.get(key)
        if isinstance(url, str) and "credential-prototype" in url:
            return "prototype"
        if isinstance(url, str) and "credential-type" in url:
            return "type"
    name = os.path.basename(os.fspath(filename)).lower() if filename is not None else ""
    if any(mark in name for mark in ("prototype", "crdprtype", "prtype")):
        return "prototype"
    if any(mark in name for mark in ("credtype", "credential-type", "crtype")):
        return "type"
    raise ValidationError(
        msg("cannot tell whether this is a credential prototype or a credential type"),
        ["set $schema, or name the file *.credprototype.json or *.credtype.json"],
    )


def parse_credential_prototype(source: Source) -> ParsedPrototype:
    """Read, normalise and check a credential prototype (``*.credprototype.json``)."""
    name = label(PROTOTYPE, source)
    doc, notes = _prototype_document(load_object(source, PROTOTYPE))
    problems = Problems()
    projected = _project_localized(doc, problems)
    violations = tolerating_kept_uuid(
        doc, readable([*problems, *schema_problems(projected, "credential-prototype")])
    )
    if violations:
        raise ValidationError(msg("{name} is not valid", name=name), violations)
    prototype = _build_prototype(doc, problems)
    if prototype is None:
        raise ValidationError(msg("{name} is not valid", name=name), readable(problems))
    kept = kept_uuid(doc)
    return ParsedPrototype(prototype, (*notes, *([uuid_note(kept)] if kept else [])))


def parse_credential_type(source: Source) -> ParsedCredentialType:
    """Read, normalise and check a credential type definition (``*.credtype.json``)."""
    name = label(CREDENTIAL_TYPE, source)
    doc, notes = _credential_type_document(load_object(source, CREDENTIAL_TYPE))
    violations = schema_problems(doc, "credential-type")
    if violations:
        raise ValidationError(msg("{name} is not valid", name=name), violations)
    problems = Problems()
    for i, entry in enumerate(doc["fields"]):
        if isinstance(entry.get("default"), Mapping | list):
            problems.add(f"fields[{i}].default", "must be a single value, not a structure")
    fields = tuple(_credential_type_field(f) for f in doc["fields"])
    _unique((f.keyword for f in fields), "fields", problems)
    if problems:
        raise ValidationError(msg("{name} is not valid", name=name), readable(problems))
    definition = CredentialTypeDefinition(
        uuid=doc["uuid"],
        code=doc["code"],
        name=required_text(doc["name"]),
        description=required_text(doc["description"]),
        version=doc["version"],
        fields=fields,
    )
    return ParsedCredentialType(definition, tuple(notes))


# -- prototypes ---------------------------------------------------------------------------


def _prototype_document(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    doc = _known_keys(raw, PROTOTYPE_KEYS, notes)
    for key in ("description", "logo", "url", "homepage"):
        if doc.get(key) in (None, ""):
            doc.pop(key, None)
    if "tags" in doc:
        before = doc["tags"]
        doc["tags"] = split_names(before)
        if isinstance(before, str):
            notes.append("tags: comma-separated text read as a list")
    fields = doc.get("fields")
    if isinstance(fields, list):
        doc["fields"] = [
            _prototype_field(entry, f"fields[{i}]", notes) if isinstance(entry, dict) else entry
            for i, entry in enumerate(fields)
        ]
    return doc, notes


def _prototype_field(raw: dict[str, Any], where: str, notes: list[str]) -> dict[str, Any]:
    entry = dict(raw)
    for old, new in PROTOTYPE_FIELD_RENAMES:
        if old in entry:
            value = entry.pop(old)
            if new not in entry:
                entry[new] = value
                notes.append(f"{where}.{old}: read as {new!r}")
    kind = entry.get("type")
    if isinstance(kind, str) and kind in PROTOTYPE_TYPE_ALIASES:
        entry["type"] = PROTOTYPE_TYPE_ALIASES[kind]
        if kind == "secret":
            entry.setdefault("secret", True)
        notes.append(f"{where}.type: {kind!r} read as {entry['type']!r}")
    default = entry.get("default_value")
    if default is None:
        entry.pop("default_value", None)
    elif isinstance(default, bool):
        entry["default_value"] = "true" if default else "false"
    elif isinstance(default, int | float):
        entry["default_value"] = str(default)
    for flag in ("required", "secret"):
        value = entry.get(flag)
        if value is None:
            entry.pop(flag, None)
        elif not isinstance(value, bool) and read_flag(value) is not None:
            entry[flag] = read_flag(value)
            notes.append(f"{where}.{flag}: {short(value)} read as {entry[flag]}")
    entry["options"] = _options(entry.get("options"))
    if entry["options"] is None:
        del entry["options"]
    return _known_keys(entry, PROTOTYPE_FIELD_KEYS, notes, where)


def _options(value: Any) -> Any:
    """Options as ``[{"value", "label"}]``: plain strings and value->label objects are converted."""
    if isinstance(value, Mapping):
        return [{"value": str(k), "label": v} for k, v in value.items()]
    if isinstance(value, list):
        return [{"value": v, "label": v} if isinstance(v, str) else v for v in value]
    return value


def _project_localized(doc: Mapping[str, Any], problems: Problems) -> dict[str, Any]:
    """`doc` with each localized text replaced by its main text; bad texts go to `problems`."""
    out = dict(doc)
    for key in ("name", "description"):
        if key in out:
            out[key] = _main_text(out[key], [key], problems)
    if isinstance(doc.get("fields"), list):
        out["fields"] = [
            _project_field(entry, i, problems) if isinstance(entry, Mapping) else entry
            for i, entry in enumerate(doc["fields"])
        ]
    return out


def _project_field(entry: Mapping[str, Any], index: int, problems: Problems) -> dict[str, Any]:
    out = dict(entry)
    for key in _LOCALIZED_FIELD_TEXTS:
        if key in out:
            out[key] = _main_text(out[key], ["fields", index, key], problems)
    return out


def _main_text(value: Any, path: list[Any], problems: Problems) -> Any:
    """The main text of a localized object; other values as they are, for the schema to judge."""
    if not isinstance(value, Mapping):
        return value
    problem = localized_problem(value)
    if problem:
        problems.add(location(path), problem)
        return "?"  # reported above; keeps the schema from reporting the same text again
    return Localized.of(value).text


def _build_prototype(doc: Mapping[str, Any], problems: Problems) -> CredentialPrototype | None:
    fields = tuple(_build_prototype_field(entry) for entry in doc.get("fields", ()))
    _unique((f.keyword for f in fields), "fields", problems)
    if problems:
        return None
    return CredentialPrototype(
        uuid=canonical_uuid(doc["uuid"]),
        code=doc["code"],
        name=required_text(doc["name"]),
        version=doc["version"],
        description=Localized.optional(doc.get("description")),
        url=doc.get("url"),
        homepage=doc.get("homepage"),
        logo=doc.get("logo"),
        tags=tuple(doc.get("tags", ())),
        fields=fields,
    )


def _build_prototype_field(entry: Mapping[str, Any]) -> PrototypeField:
    kind = entry["type"]
    secret = entry.get("secret")
    return PrototypeField(
        keyword=entry["keyword"],
        type=kind,
        name=Localized.optional(entry.get("name")),
        description=Localized.optional(entry.get("description")),
        hint=Localized.optional(entry.get("hint")),
        default=entry.get("default_value") or None,
        required=bool(entry.get("required", False)),
        secret=kind == "password" if not isinstance(secret, bool) else secret,
        options=tuple(Option(o["value"], o["label"]) for o in entry.get("options", ())),
    )


# -- credential types ---------------------------------------------------------------------


def _credential_type_document(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    notes: list[str] = []
    doc = _known_keys(raw, CREDENTIAL_TYPE_KEYS, notes)
    localized = doc.pop("localized", None)
    if isinstance(localized, Mapping):
        for key in ("name", "description"):
            extra = localized.get(key)
            if isinstance(extra, Mapping) and extra:
                base = doc.get(key)
                merged = {"en": base} if isinstance(base, str) else dict(base or {})
                doc[key] = {**merged, **extra}
                notes.append(f"localized.{key}: merged into {key!r}")
    elif localized is not None:
        doc["localized"] = localized
    fields = doc.get("fields")
    if isinstance(fields, list):
        doc["fields"] = [
            _credential_type_field_document(entry, f"fields[{i}]", notes)
            if isinstance(entry, dict)
            else entry
            for i, entry in enumerate(fields)
        ]
    return doc, notes


def _credential_type_field_document(
    raw: dict[str, Any], where: str, notes: list[str]
) -> dict[str, Any]:
    entry = dict(raw)
    kind = entry.get("type")
    if isinstance(kind, str) and kind in CREDENTIAL_TYPE_TYPE_ALIASES:
        entry["type"] = CREDENTIAL_TYPE_TYPE_ALIASES[kind]
        notes.append(f"{where}.type: {kind!r} read as {entry['type']!r}")
    value = entry.get("required")
    if value is not None and not isinstance(value, bool) and read_flag(value) is not None:
        entry["required"] = read_flag(value)
        notes.append(f"{where}.required: {short(value)} read as {entry['required']}")
    return _known_keys(entry, CREDENTIAL_TYPE_FIELD_KEYS, notes, where)


def _credential_type_field(entry: Mapping[str, Any]) -> CredentialTypeField:
    default = entry.get("default")
    return CredentialTypeField(
        keyword=entry["keyword"],
        name=required_text(entry["name"]),
        type=entry["type"],
        description=Localized.optional(entry.get("description")),
        required=bool(entry.get("required", False)),
        default=default if isinstance(default, str | int | float | bool) else None,
        options=tuple(entry.get("options", ())),
    )


# -- shared -------------------------------------------------------------------------------


def _known_keys(
    raw: Mapping[str, Any], known: frozenset[str], notes: list[str], where: str = ""
) -> dict[str, Any]:
    """`raw` without keys the format does not know (each noted) and without ``$schema``."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in known:
            out[key] = value
        elif not (where == "" and key in _SCHEMA_KEYS):
            notes.append(f"{where + '.' if where else ''}{key}: not part of the format, ignored")
    return out


def _unique(keywords: Any, where: str, problems: Problems) -> None:
    seen: set[str] = set()
    for keyword in keywords:
        if keyword in seen:
            problems.add(where, f"keyword {keyword!r} is given more than once")
        seen.add(keyword)
