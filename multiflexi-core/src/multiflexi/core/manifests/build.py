"""Turn a schema-valid, current-format manifest document into a `Manifest`.

The schema leaves some things open (keys it does not declare, field names it
does not match, values that must fit a database); those are checked here and
reported the same way, as readable violations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from multiflexi.core.errors import FieldError
from multiflexi.core.manifests.frozen import freeze
from multiflexi.core.manifests.localized import Localized, localized_problem, type_name
from multiflexi.core.manifests.model import (
    CATEGORIES,
    DEFAULT_SEVERITY,
    FIELD_TYPES,
    MULTILINE_TYPES,
    SECRET_TYPES,
    Artifact,
    Default,
    ExitCode,
    Field,
    Manifest,
)
from multiflexi.core.manifests.schema import canonical_uuid, problem_at, short

#: the largest exit code a database integer column holds
MAX_EXIT_CODE = 2**31 - 1
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_INTEGER = re.compile(r"^[+-]?\d+$")


class Problems(list[FieldError]):
    """Violations found while building, each at its place as the schema's are."""

    def add(self, where: str, what: str) -> None:
        self.append(problem_at(where, what))


def build_manifest(doc: Mapping[str, Any], problems: Problems) -> Manifest | None:
    """The `Manifest` of `doc`, or None with `problems` saying why not."""
    before = len(problems)
    name = required_text(doc["name"])
    if not name.text.strip():
        problems.add("name", "must not be empty")
    executable = doc["executable"]
    if not executable.strip():
        problems.add("executable", "must not be empty")
    fields = _fields(doc.get("environment", {}), problems)
    exit_codes = _exit_codes(doc.get("exitCodes", {}), problems)
    artifacts = _artifacts(doc.get("artifacts", []), problems)
    extras = {key: _text(doc, key, problems) for key in ("code", "author", "license", "category")}
    timeout = _timeout(doc.get("timeout"), problems)
    if len(problems) > before:
        return None
    return Manifest(
        name=name,
        description=required_text(doc["description"]),
        executable=executable,
        uuid=canonical_uuid(doc["uuid"]) if "uuid" in doc else None,
        title=Localized.optional(doc.get("title")),
        code=extras["code"],
        version=doc.get("version"),
        cmdparams=doc.get("cmdparamsTemplate"),
        setup=doc.get("setup"),
        deploy=doc.get("deploy"),
        homepage=doc.get("homepage"),
        author=extras["author"],
        license=extras["license"],
        category=extras["category"],
        ociimage=doc.get("ociimage"),
        image=doc.get("image"),
        tags=tuple(doc.get("tags", ())),
        requirements=tuple(doc.get("requirements", ())),
        timeout=timeout,
        fields=tuple(f for f in fields if f is not None),
        exit_codes=tuple(sorted(exit_codes, key=lambda e: e.code)),
        artifacts=tuple(artifacts),
        produces=_block(doc.get("produces")),
        consumes=_block(doc.get("consumes")),
        events=_block(doc.get("events")),
        kubernetes=_block(doc.get("kubernetes")),
    )


def required_text(value: str | Mapping[str, str]) -> Localized:
    """A text that must be there: empty languages dropped, but never less than ``""``."""
    return Localized.optional(value) or Localized.of("")


def _text(doc: Mapping[str, Any], key: str, problems: Problems) -> str | None:
    value = doc.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        problems.add(key, f"must be a string, not {type_name(value)}")
        return None
    return value


def _timeout(value: Any, problems: Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.add("timeout", f"{short(value)} is not a whole number of seconds (1 or more)")
        return None
    return value


def _block(value: Any) -> Any:
    return freeze(value) if value else None


def _fields(env: Mapping[str, Any], problems: Problems) -> list[Field | None]:
    return [_field(name, entry, problems) for name, entry in env.items()]


def _field(name: str, entry: Any, problems: Problems) -> Field | None:
    where = f"environment.{name}"
    if not name or "=" in name or "\0" in name:
        problems.add(where, "a field name must be non-empty and contain no '=' or NUL")
        return None
    if not isinstance(entry, Mapping):
        problems.add(where, f"must be an object, not {type_name(entry)}")
        return None
    before = len(problems)
    kind = entry.get("type", "string")
    if kind not in FIELD_TYPES:
        problems.add(f"{where}.type", f"{short(kind)} is not one of {list(FIELD_TYPES)!r}")
        kind = "string"
    texts = {
        key: _localized(entry, key, where, problems) for key in ("description", "hint", "note")
    }
    flags = {
        key: _bool(entry, key, where, problems)
        for key in ("required", "secret", "multiline", "expiring")
    }
    category = entry.get("category")
    if category is not None and category not in CATEGORIES:
        problems.add(f"{where}.category", f"{short(category)} is not one of {list(CATEGORIES)!r}")
    options = entry.get("options")
    if options is not None and not isinstance(options, Mapping | list):
        problems.add(f"{where}.options", f"must be an object or an array, not {type_name(options)}")
    default = _default(kind, entry.get("defval"), f"{where}.defval", problems)
    if len(problems) > before:
        return None
    return Field(
        name=name,
        type=kind,
        default=default,
        required=bool(flags["required"]),
        secret=kind in SECRET_TYPES if flags["secret"] is None else flags["secret"],
        description=texts["description"],
        hint=texts["hint"],
        note=texts["note"],
        category=category,
        multiline=kind in MULTILINE_TYPES if flags["multiline"] is None else flags["multiline"],
        expiring=bool(flags["expiring"]),
        options=freeze(options) if options else None,
    )


def _localized(
    entry: Mapping[str, Any], key: str, where: str, problems: Problems
) -> Localized | None:
    value = entry.get(key)
    if value is None:
        return None
    problem = localized_problem(value)
    if problem:
        problems.add(f"{where}.{key}", problem)
        return None
    return Localized.optional(value)


def _bool(entry: Mapping[str, Any], key: str, where: str, problems: Problems) -> bool | None:
    value = entry.get(key)
    if value is None or isinstance(value, bool):
        return value
    problems.add(f"{where}.{key}", f"{short(value)} is not true or false")
    return None


def coerce_default(kind: str, value: Any) -> Default | None:
    """A field default in its canonical form for the field's type.

    Empty text means "no default". bool defaults read true/false, 1/0, yes/no,
    on/off; integer and float defaults read numbers written as text. A text
    that is none of these (a ``{VAR}`` macro, say) stays text. Other types keep
    text, and numbers or booleans given for them are written as JSON would.
    Raises ValueError for a value that is not a single value.
    """
    if value is None or value == "":
        return None
    if isinstance(value, Mapping | list | tuple):
        raise ValueError("must be a single value (text, number or true/false), not a structure")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    if kind == "bool":
        return _bool_default(value)
    if kind == "integer":
        return _integer_default(value)
    if kind == "float":
        return _float_default(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bool_default(value: str | int | float | bool) -> Default:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return str(value)


def _integer_default(value: str | int | float | bool) -> Default:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value)
    text = value.strip()
    return int(text) if _INTEGER.match(text) else value


def _float_default(value: str | int | float | bool) -> Default:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return float(value)
    try:
        number = float(value.strip())
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _default(kind: str, value: Any, where: str, problems: Problems) -> Default | None:
    try:
        return coerce_default(kind, value)
    except ValueError as exc:
        problems.add(where, str(exc))
        return None


def _exit_codes(codes: Mapping[str, Any], problems: Problems) -> list[ExitCode]:
    result = []
    for key, entry in codes.items():
        code = int(key)
        if code > MAX_EXIT_CODE:
            problems.add(f"exitCodes.{key}", f"exit code is larger than {MAX_EXIT_CODE}")
            continue
        result.append(
            ExitCode(
                code=code,
                description=required_text(entry["description"]),
                severity=entry.get("severity", DEFAULT_SEVERITY),
                retry=entry.get("retry", False),
            )
        )
    codes_seen = [e.code for e in result]
    for code in sorted({c for c in codes_seen if codes_seen.count(c) > 1}):
        problems.add("exitCodes", f"exit code {code} is given more than once")
    return result


def _artifacts(entries: list[Mapping[str, Any]], problems: Problems) -> list[Artifact]:
    result = []
    for index, entry in enumerate(entries):
        try:
            re.compile(entry["path"])
        except re.error as exc:
            problems.add(f"artifacts[{index}].path", f"not a valid regular expression: {exc}")
            continue
        result.append(
            Artifact(
                name=required_text(entry["name"]),
                pattern=entry["path"],
                type=entry["type"],
                description=Localized.optional(entry.get("description")),
            )
        )
    return result
