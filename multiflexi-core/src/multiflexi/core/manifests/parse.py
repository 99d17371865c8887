"""Application manifests: source -> legacy rewrite -> schema check -> `Manifest`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multiflexi.core.errors import ValidationError
from multiflexi.core.manifests.build import Problems, build_manifest
from multiflexi.core.manifests.legacy import modernise
from multiflexi.core.manifests.model import Manifest
from multiflexi.core.manifests.schema import (
    kept_uuid,
    readable,
    schema_problems,
    schema_violations,
    tolerating_kept_uuid,
    uuid_note,
)
from multiflexi.core.manifests.source import Source, label, load_object
from multiflexi.core.texts import msg

WHAT = "application manifest"

#: top-level keys a manifest may carry; "multiflexi" (the minimum MultiFlexi
#: version) and "schemaVersion" are read and not kept
KNOWN_KEYS = frozenset(
    [
        "$schema",
        "schemaVersion",
        "multiflexi",
        "uuid",
        "code",
        "name",
        "title",
        "description",
        "version",
        "executable",
        "cmdparamsTemplate",
        "setup",
        "deploy",
        "homepage",
        "author",
        "license",
        "category",
        "ociimage",
        "image",
        "tags",
        "requirements",
        "timeout",
        "environment",
        "exitCodes",
        "artifacts",
        "produces",
        "consumes",
        "events",
        "kubernetes",
    ]
)
#: keys a configuration field may carry
FIELD_KEYS = frozenset(
    [
        "type",
        "category",
        "description",
        "hint",
        "note",
        "defval",
        "required",
        "secret",
        "multiline",
        "expiring",
        "options",
    ]
)


@dataclass(frozen=True)
class ParsedManifest:
    """A manifest that can be imported, and what was read liberally or ignored to get it."""

    manifest: Manifest
    warnings: tuple[str, ...] = ()


def parse_manifest(source: Source) -> ParsedManifest:
    """Read, normalise and check an application manifest.

    `source` is JSON text (str or bytes), a file path (`pathlib.Path`) or a
    parsed mapping. Legacy spellings are rewritten to the current ones (each
    rewrite is listed in ``warnings``); what is still wrong after that raises
    `ValidationError` with one readable line per violation. Nothing else is raised
    for bad input.
    """
    name = label(WHAT, source)
    rewrite = modernise(load_object(source, WHAT))
    violations = tolerating_kept_uuid(
        rewrite.document, schema_problems(rewrite.document, "application")
    )
    if violations:
        raise ValidationError(msg("{name} is not valid", name=name), violations)
    problems = Problems()
    manifest = build_manifest(rewrite.document, problems)
    if manifest is None:
        raise ValidationError(msg("{name} is not valid", name=name), readable(problems))
    kept = kept_uuid(rewrite.document)
    notes = (*rewrite.notes, *([uuid_note(kept)] if kept else []))
    return ParsedManifest(manifest, notes + _ignored(rewrite.document))


def check_manifest(source: Source) -> list[str]:
    """The violations of `source` read strictly, as the schema says, without any rewriting.

    An empty list means the document is a valid 3.4.0 manifest as it stands;
    `parse_manifest` may still accept a document with violations here.
    """
    return schema_violations(load_object(source, WHAT), "application")


def _ignored(doc: Mapping[str, Any]) -> tuple[str, ...]:
    found = [
        f"{key}: not part of the manifest format, ignored" for key in doc if key not in KNOWN_KEYS
    ]
    env = doc.get("environment")
    for field_name, entry in env.items() if isinstance(env, Mapping) else ():
        found.extend(
            f"environment.{field_name}.{key}: not part of the manifest format, ignored"
            for key in entry
            if key not in FIELD_KEYS
        )
    return tuple(found)
