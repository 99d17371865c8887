"""Rewrite the legacy spellings of an application manifest into the current (3.4.0) ones.

Only rewrites whose meaning is certain happen here; anything else is left as it
is, for the schema to report. Each rewrite adds a note saying what changed.
When a key is given in both spellings, the current one wins (a document that
the schema accepts is never refused for carrying an old key too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from multiflexi.core.manifests.localized import LANGUAGES
from multiflexi.core.manifests.schema import APPLICATION_SCHEMA_URL, short

#: old field type names and the current ones (as the original's migration and fixType do)
LEGACY_FIELD_TYPES: dict[str, str] = {
    "checkbox": "bool",
    "switch": "bool",
    "boolean": "bool",
    "number": "integer",
    "int": "integer",
    "select": "set",
    "directory": "file-path",
    "file": "file-path",
}
#: a field of this old type is a password field marked secret
CONCEALED_TYPE = "secret"
#: optional text keys for which null or "" means "not given"
OPTIONAL_TEXTS = ("uuid", "version", "homepage", "ociimage", "image", "setup", "deploy", "code")
#: of those, the ones where the schema refuses "" (so dropping it is worth a note)
CHECKED_TEXTS = frozenset({"uuid", "version", "homepage", "ociimage"})
#: keys of a configuration field that hold yes/no
FLAGS = ("required", "secret", "multiline", "expiring")
DATA_FORMATS = frozenset({"file", "json", "text", "url", "custom"})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass
class Rewrite:
    """A manifest being modernised and the notes on what changed."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def modernise(document: dict[str, Any]) -> Rewrite:
    """A current-format copy of `document` (which is left untouched), with notes."""
    work = Rewrite(dict(document))
    for step in STEPS:
        step(work)
    return work


def _schema(work: Rewrite) -> None:
    if "$schema" not in work.document:
        work.notes.append("$schema: missing, the current application schema assumed")
    work.document["$schema"] = APPLICATION_SCHEMA_URL


def _optional_texts(work: Rewrite) -> None:
    doc = work.document
    for key in OPTIONAL_TEXTS:
        if key in doc and doc[key] in (None, ""):
            value = doc.pop(key)
            if value is None or key in CHECKED_TEXTS:
                work.notes.append(f"{key}: {short(value)} treated as not given")


def _renamed(
    work: Rewrite, old: str, new: str, convert: Callable[[Any], Any] = lambda v: v
) -> None:
    """Move `old` to `new`; when both are given, the current spelling `new` wins."""
    doc = work.document
    if old not in doc:
        return
    value = doc.pop(old)
    if new not in doc:
        doc[new] = value
        work.notes.append(f"{old}: read as {new!r}")
    elif convert(doc[new]) != convert(value):
        work.notes.append(f"{old}: ignored, {new!r} (the current spelling) differs and wins")


def split_names(value: Any) -> Any:
    """A comma-separated text or a list of names -> a list of names; other shapes unchanged."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(",")]
    else:
        return value
    names: list[str] = []
    for item in items:
        name = item.strip()
        if name and name not in names:
            names.append(name)
    return names


def _names(work: Rewrite, key: str) -> None:
    doc = work.document
    if key not in doc:
        return
    before = doc[key]
    after = split_names(before)
    doc[key] = after
    if isinstance(before, str):
        work.notes.append(f"{key}: comma-separated text read as a list")
    elif before is None:
        work.notes.append(f"{key}: null read as an empty list")
    elif after != before:
        work.notes.append(f"{key}: names trimmed, split at commas and repeats dropped")


def _command_line(work: Rewrite) -> None:
    doc = work.document
    for key in ("cmdparams", "cmdparamsTemplate"):
        if key in doc and doc[key] in (None, ""):
            del doc[key]
    _renamed(work, "cmdparams", "cmdparamsTemplate")


def _tags(work: Rewrite) -> None:
    _renamed(work, "topics", "tags", split_names)
    _names(work, "tags")


def _requirements(work: Rewrite) -> None:
    _renamed(work, "reqirements", "requirements", split_names)
    _names(work, "requirements")


def _environment(work: Rewrite) -> None:
    doc = work.document
    env = doc.get("environment")
    if isinstance(env, list):
        converted = _environment_from_list(env)
        if converted is not None:
            doc["environment"] = converted
            work.notes.append("environment: list of fields read as an object keyed by name")
            env = converted
    if not isinstance(env, dict):
        return
    doc["environment"] = {
        name: _field(work, name, entry) if isinstance(entry, dict) else entry
        for name, entry in env.items()
    }


def _environment_from_list(entries: list[Any]) -> dict[str, Any] | None:
    """``[{"name": "X", ...}, ...]`` -> ``{"X": {...}}``; None when the list has another shape."""
    result: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            return None
        keys = [k for k in ("name", "keyname", "key") if isinstance(entry.get(k), str)]
        if len(keys) != 1 or entry[keys[0]] in result:
            return None
        rest = {k: v for k, v in entry.items() if k != keys[0]}
        result[entry[keys[0]]] = rest
    return result


def _field(work: Rewrite, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    entry = dict(entry)
    where = f"environment.{name}"
    kind = entry.get("type")
    if isinstance(kind, str) and kind in LEGACY_FIELD_TYPES:
        entry["type"] = LEGACY_FIELD_TYPES[kind]
        work.notes.append(f"{where}.type: old name {kind!r} read as {entry['type']!r}")
    elif kind == CONCEALED_TYPE:
        entry["type"] = "password"
        if "secret" not in entry:
            entry["secret"] = True
        work.notes.append(f"{where}.type: old name 'secret' read as 'password', secret")
    for flag in FLAGS:
        if flag not in entry:
            continue
        value = entry[flag]
        if value is None:
            del entry[flag]
            work.notes.append(f"{where}.{flag}: null treated as not given")
        elif not isinstance(value, bool):
            flag_value = read_flag(value)
            if flag_value is not None:
                entry[flag] = flag_value
                work.notes.append(f"{where}.{flag}: {short(value)} read as {flag_value}")
    return entry


def read_flag(value: Any) -> bool | None:
    """0/1 and yes/no spelled as numbers or text -> bool; None when it means neither."""
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _exit_codes(work: Rewrite) -> None:
    for alias in ("exitcodes", "returnCodes"):
        _renamed(work, alias, "exitCodes")
    codes = work.document.get("exitCodes")
    if not isinstance(codes, dict):
        return
    rewritten: dict[str, Any] = {}
    for code, entry in codes.items():
        where = f"exitCodes.{code}"
        if isinstance(entry, str):
            entry = {"description": entry}
            work.notes.append(f"{where}: plain text read as its description")
        elif (
            isinstance(entry, dict)
            and entry
            and "description" not in entry
            and all(k in LANGUAGES for k in entry)
        ):
            entry = {"description": entry}
            work.notes.append(f"{where}: texts keyed by language read as its description")
        elif isinstance(entry, dict) and "retry" in entry and not isinstance(entry["retry"], bool):
            before = entry["retry"]
            flag_value = read_flag(before)
            if flag_value is not None:
                entry = {**entry, "retry": flag_value}
                work.notes.append(f"{where}.retry: {short(before)} read as {flag_value}")
        rewritten[code] = entry
    work.document["exitCodes"] = rewritten


def _data_blocks(work: Rewrite) -> None:
    """produces/consumes entries that say ``type`` where the format wants ``format``."""
    for block in ("produces", "consumes"):
        entries = work.document.get(block)
        if not isinstance(entries, dict):
            continue
        rewritten: dict[str, Any] = {}
        for name, entry in entries.items():
            if (
                isinstance(entry, dict)
                and "format" not in entry
                and entry.get("type") in DATA_FORMATS
            ):
                entry = {k: v for k, v in entry.items() if k != "type"}
                entry["format"] = entries[name]["type"]
                work.notes.append(f"{block}.{name}.type: read as 'format'")
            rewritten[name] = entry
        work.document[block] = rewritten


def _events(work: Rewrite) -> None:
    events = work.document.get("events")
    if isinstance(events, dict) and "listens" in events and "consumes" not in events:
        events = dict(events)
        events["consumes"] = events.pop("listens")
        work.document["events"] = events
        work.notes.append("events.listens: read as 'consumes'")


STEPS: tuple[Callable[[Rewrite], None], ...] = (
    _schema,
    _optional_texts,
    _command_line,
    _tags,
    _requirements,
    _environment,
    _exit_codes,
    _data_blocks,
    _events,
)
