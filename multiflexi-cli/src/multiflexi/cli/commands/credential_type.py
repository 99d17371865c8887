"""``credential-type``: a company's configured use of a credential prototype."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, company_option, pagination


@click.group("credential-type")
def group() -> None:
    """Credential types of companies: list, get, create (from a prototype), delete."""


@group.command("list")
@company_option(required=False)
@pagination()
@pass_app
def list_(app: App, company: str | None, limit: int, offset: int) -> None:
    """List credential types."""
    from multiflexi.core import companies, credentials

    company_id = companies.get(app.session, company).id if company else None
    page = credentials.list_types(app.session, company_id=company_id, limit=limit, offset=offset)
    app.emit(
        [views.credential_type(t) for t in page.items],
        columns=["id", "name", "company_id", "prototype_code", "version"],
    )


@group.command("get")
@click.option("--id", "object_id", type=ID, required=True, help="Credential type id.")
@pass_app
def get(app: App, object_id: int) -> None:
    """Show a credential type with its fields."""
    from multiflexi.core import credentials

    app.emit(views.credential_type(credentials.credential_type(app.session, object_id)))


@group.command("create")
@company_option()
@click.option("--name", required=True, help="Name of the type in the company.")
@click.option(
    "--prototype",
    "--class",
    "prototype",
    required=True,
    help="Prototype id, uuid or code (--class: the original's name).",
)
@pass_app
def create(app: App, company: str, name: str, prototype: str) -> None:
    """Create a company's credential type from a prototype; prints {"credential_type_id": N}."""
    from multiflexi.core import credentials

    ctype = credentials.create_type(
        app.session, company=company, name=name, prototype_ref=prototype, actor=app.actor
    )
    app.emit({"credential_type_id": ctype.id, "created": True})


@group.command("delete")
@click.option("--id", "object_id", type=ID, required=True, help="Credential type id.")
@pass_app
def delete(app: App, object_id: int) -> None:
    """Delete a credential type that no credential uses."""
    from multiflexi.core import credentials

    credentials.delete_type(app.session, object_id, actor=app.actor)
    app.emit({"credential_type_id": object_id, "deleted": True})
