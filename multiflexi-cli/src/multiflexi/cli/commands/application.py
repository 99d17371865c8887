"""``application``: the programs MultiFlexi runs, registered from their manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import BOOL, ID, boolean_choice, pagination

COLUMNS = ["id", "name", "version", "uuid", "enabled", "executable"]
MANIFEST_PATTERNS = ("*.multiflexi.app.json", "*.app.json")


def _manifest_files(path: Path) -> list[Path]:
    """The file itself, or every manifest in a folder (``*.app.json``), sorted."""
    if path.is_dir():
        found = {p for pattern in MANIFEST_PATTERNS for p in path.glob(pattern)}
        return sorted(p for p in found if p.is_file())
    return [path]


def _lookup(app: App, object_id: int | None, uuid: str | None, name: str | None) -> Any:
    from multiflexi.core import apps

    ref: int | str | None = object_id if object_id is not None else (uuid or name)
    if ref is None:
        raise click.UsageError("give --id, --uuid or --name")
    return apps.get(app.session, ref)


@click.group("application")
def group() -> None:
    """Applications: list, get, import-json (a file or a folder), export-json, validate-json, ..."""


@group.command("list")
@click.option("--search", default=None, help="Only names or titles containing this text.")
@click.option("--enabled", type=BOOL, default=None, help="Only enabled (or disabled) ones.")
@pagination()
@pass_app
def list_(app: App, search: str | None, enabled: str | None, limit: int, offset: int) -> None:
    """List applications by id."""
    from multiflexi.core import apps

    page = apps.list_applications(
        app.session, search=search, enabled=boolean_choice(enabled), limit=limit, offset=offset
    )
    app.emit([views.application(a) for a in page.items], columns=COLUMNS)


@group.command("get")
@click.option("--id", "object_id", type=ID, default=None, help="Application id.")
@click.option("--uuid", default=None, help="Application uuid.")
@click.option("--name", default=None, help="Application name.")
@pass_app
def get(app: App, object_id: int | None, uuid: str | None, name: str | None) -> None:
    """Show one application with its fields and exit codes (by --id, --uuid or --name)."""
    app.emit(views.application(_lookup(app, object_id, uuid, name), detail=True))


@group.command("create")
@click.option("--name", required=True, help="Application name.")
@click.option("--executable", required=True, help="Program to run.")
@click.option("--description", default="", help="What it does.")
@click.option("--title", default=None, help="Title shown to people (default: the name).")
@click.option("--uuid", default=None, help="Its uuid (default: a new one).")
@click.option("--appversion", "--version", "version", default=None, help="Its version.")
@click.option("--cmdparams", default=None, help="Command-line template with {VAR} macros.")
@click.option("--homepage", default=None, help="URL of its home page.")
@pass_app
def create(
    app: App,
    name: str,
    executable: str,
    description: str,
    title: str | None,
    uuid: str | None,
    version: str | None,
    cmdparams: str | None,
    homepage: str | None,
) -> None:
    """Register an application without a manifest file; prints {"application_id": N}.

    Prefer import-json with the application's own manifest: it carries the
    configuration fields too.
    """
    from multiflexi.core import manifests

    document: dict[str, Any] = {
        "name": name,
        "description": description or name,
        "executable": executable,
        "environment": {},
    }
    optional = {
        "title": title,
        "uuid": uuid,
        "version": version,
        "cmdparamsTemplate": cmdparams,
        "homepage": homepage,
    }
    document.update({k: v for k, v in optional.items() if v})
    result = manifests.import_manifest(app.session, document, actor=app.actor)
    for warning in result.warnings:
        app.message(f"warning: {warning}")
    app.emit({"application_id": result.application_id, "created": result.created})


@group.command("update")
@click.option("--id", "object_id", type=ID, required=True, help="Application id.")
@click.option("--enabled", type=BOOL, default=None, help="Enable or disable it.")
@click.option("--title", default=None, help="New title.")
@click.option("--description", default=None, help="New description.")
@click.option("--homepage", default=None, help="New home page URL.")
@click.option("--ociimage", default=None, help="OCI image for container executors.")
@click.option("--timeout", type=int, default=None, help="Seconds after which a run is stopped.")
@pass_app
def update(
    app: App,
    object_id: int,
    enabled: str | None,
    title: str | None,
    description: str | None,
    homepage: str | None,
    ociimage: str | None,
    timeout: int | None,
) -> None:
    """Change what a manifest does not own (re-import the manifest for the rest)."""
    from multiflexi.core import apps

    given = {
        "title": title,
        "description": description,
        "homepage": homepage,
        "ociimage": ociimage,
        "timeout": timeout,
    }
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if enabled is not None:
        changes["enabled"] = boolean_choice(enabled)
    if not changes:
        raise click.UsageError("nothing to change: give at least one property")
    apps.update(app.session, object_id, changes, actor=app.actor)
    app.emit({"application_id": object_id, "updated": True})


@group.command("delete")
@click.option("--id", "object_id", type=ID, required=True, help="Application id.")
@click.option("--force", is_flag=True, help="Also delete the run templates that use it.")
@pass_app
def delete(app: App, object_id: int, force: bool) -> None:
    """Delete an application (refused while run templates use it, unless --force)."""
    from multiflexi.core import apps

    removed = apps.delete(app.session, object_id, actor=app.actor, force=force)
    app.emit({"application_id": object_id, "deleted": True, "run_templates_removed": removed})


@group.command("import-json")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="A manifest, or a folder of *.app.json manifests.",
)
@pass_app
def import_json(app: App, path: Path) -> None:
    """Import (create or update) applications from manifests; exit 1 if any fails.

    Each manifest is imported on its own: a bad one is reported and changes
    nothing, the good ones are imported.
    """
    from multiflexi.core import manifests
    from multiflexi.core.errors import MultiFlexiError

    files = _manifest_files(path)
    if not files:
        raise click.UsageError(f"{path}: no *.app.json manifests in this folder")
    results: list[dict[str, Any]] = []
    failed = 0
    for file in files:
        try:
            result = manifests.import_manifest(app.session, file, actor=app.actor)
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
                "application_id": result.application_id,
                "created": result.created,
            }
        )
    if path.is_dir():
        app.emit(results)
    else:
        app.emit(results[0])
    if failed:
        raise SystemExit(1)


@group.command("export-json")
@click.option("--id", "object_id", type=ID, required=True, help="Application id.")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write here instead of stdout.",
)
@pass_app
def export_json(app: App, object_id: int, path: Path | None) -> None:
    """Write an application's manifest (current format) to stdout, or to a file.

    With --file it prints {"exported": true, "file": ...} (as the original did).
    """
    from multiflexi.core import manifests

    document = manifests.export_manifest(app.session, object_id)
    text = json.dumps(document, indent=4, ensure_ascii=False) + "\n"
    if path is None:
        click.echo(text, nl=False)
        return
    path.write_text(text, encoding="utf-8")
    app.emit({"exported": True, "file": str(path)})


@group.command("validate-json")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The manifest to check.",
)
@pass_app
def validate_json(app: App, path: Path) -> None:
    """Check a manifest against the schema; exit 1 and list the violations if it is invalid.

    Legacy spellings the import would accept are reported as warnings.
    """
    from multiflexi.core import manifests
    from multiflexi.core.errors import ValidationError

    violations = manifests.check_manifest(path)
    importable = True
    problems: list[str] = []
    try:
        parsed = manifests.parse_manifest(path)
        warnings = list(parsed.warnings)
    except ValidationError as exc:
        importable = False
        warnings = []
        problems = exc.errors or [exc.summary]
    valid = not violations
    app.emit(
        {
            "file": str(path),
            "valid": valid,
            "importable": importable,
            "violations": violations if importable else problems,
            "warnings": warnings,
        }
    )
    if not importable:
        raise ValidationError(f"{path} is not a valid manifest", problems)


@group.command("remove-json")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The manifest of the application to delete.",
)
@click.option("--force", is_flag=True, help="Also delete the run templates that use it.")
@pass_app
def remove_json(app: App, path: Path, force: bool) -> None:
    """Delete the application a manifest describes (when a package is removed)."""
    from multiflexi.core import housekeeping

    app_id, removed = housekeeping.remove_manifest(app.session, path, actor=app.actor, force=force)
    app.emit({"application_id": app_id, "deleted": True, "run_templates_removed": removed})
