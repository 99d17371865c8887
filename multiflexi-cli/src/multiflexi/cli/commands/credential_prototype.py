"""``credential-prototype``: the global kinds of credentials, imported from JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, pagination

PATTERNS = ("*.credprototype.json", "*.crdprototype.json", "*.crdprtype.json")


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted({p for pattern in PATTERNS for p in path.glob(pattern) if p.is_file()})
    return [path]


@click.group("credential-prototype")
def group() -> None:
    """Credential prototypes: import-json, validate-json, export-json, list, get."""


@group.command("list")
@pagination()
@pass_app
def list_(app: App, limit: int, offset: int) -> None:
    """List prototypes by id."""
    from multiflexi.core import credentials

    page = credentials.list_prototypes(app.session, limit=limit, offset=offset)
    app.emit([views.prototype(p) for p in page.items])


@group.command("get")
@click.option("--id", "object_id", type=ID, default=None, help="Prototype id.")
@click.option("--uuid", default=None, help="Prototype uuid.")
@click.option("--code", default=None, help="Prototype code.")
@pass_app
def get(app: App, object_id: int | None, uuid: str | None, code: str | None) -> None:
    """Show a prototype with its fields (by --id, --uuid or --code)."""
    from multiflexi.core import credentials

    ref: int | str | None = object_id if object_id is not None else (uuid or code)
    if ref is None:
        raise click.UsageError("give --id, --uuid or --code")
    app.emit(views.prototype(credentials.prototype(app.session, ref), detail=True))


@group.command("import-json")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="A *.credprototype.json file, or a folder of them.",
)
@pass_app
def import_json(app: App, path: Path) -> None:
    """Import (create or update) prototypes; exit 1 if any fails (the others are imported)."""
    from multiflexi.core import manifests
    from multiflexi.core.errors import MultiFlexiError

    files = _files(path)
    if not files:
        raise click.UsageError(f"{path}: no *.credprototype.json files in this folder")
    results: list[dict[str, Any]] = []
    failed = 0
    for file in files:
        try:
            result = manifests.import_credential_prototype(app.session, file, actor=app.actor)
        except MultiFlexiError as exc:
            failed += 1
            app.error(exc.kind, exc.message, getattr(exc, "errors", ()))
            results.append({"file": str(file), "error": exc.message})
            continue
        for warning in result.warnings:
            app.message(f"warning: {file.name}: {warning}")
        results.append(
            {
                "file": str(file),
                # the original's key; prototype_id is kept for the scripts of 0.1 (the same id)
                "credential_prototype_id": result.prototype_id,
                "prototype_id": result.prototype_id,
                "created": result.created,
            }
        )
    app.emit(results if path.is_dir() else results[0])
    if failed:
        raise SystemExit(1)


@group.command("validate-json")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The *.credprototype.json file to check.",
)
@pass_app
def validate_json(app: App, path: Path) -> None:
    """Check a credential prototype file; exit 1 with the violations when it is invalid."""
    from multiflexi.core import manifests
    from multiflexi.core.errors import ValidationError

    try:
        parsed = manifests.parse_credential_prototype(path)
    except ValidationError as exc:
        app.emit(
            {
                "file": str(path),
                "valid": False,
                "violations": exc.errors or [exc.summary],
                "warnings": [],
            }
        )
        raise
    app.emit({"file": str(path), "valid": True, "violations": [], "warnings": parsed.warnings})


@group.command("export-json")
@click.option("--id", "object_id", type=ID, required=True, help="Prototype id.")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@pass_app
def export_json(app: App, object_id: int, path: Path | None) -> None:
    """Write a prototype as JSON to stdout, or to a file.

    With --file it prints {"exported": true, "file": ...} (as the original did).
    """
    from multiflexi.core import manifests

    text = (
        json.dumps(
            manifests.export_credential_prototype(app.session, object_id),
            indent=4,
            ensure_ascii=False,
        )
        + "\n"
    )
    if path is None:
        click.echo(text, nl=False)
        return
    path.write_text(text, encoding="utf-8")
    app.emit({"exported": True, "file": str(path)})
