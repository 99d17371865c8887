"""``credential``: a company's filled-in credentials; values stored encrypted, shown redacted."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, company_option, pagination, parse_pairs, read_secret

COLUMNS = ["id", "name", "company_id", "prototype", "credential_type_id"]


@click.group("credential")
def group() -> None:
    """Credentials: list, get (--reveal asks, then shows values; audited), check, create, ..."""


@group.command("list")
@company_option(required=False)
@pagination()
@pass_app
def list_(app: App, company: str | None, limit: int, offset: int) -> None:
    """List credentials (values as ***)."""
    from multiflexi.core import companies, credentials

    company_id = companies.get(app.session, company).id if company else None
    page = credentials.list_credentials(
        app.session, company_id=company_id, limit=limit, offset=offset
    )
    app.emit([views.credential(c) for c in page.items], columns=COLUMNS)


@group.command("get")
@click.option("--id", "object_id", type=ID, required=True, help="Credential id.")
@click.option("--reveal", is_flag=True, help="Show the values in plain text (asks; audited).")
@click.option("--yes", is_flag=True, help="With --reveal: do not ask (for scripts).")
@pass_app
def get(app: App, object_id: int, reveal: bool, yes: bool) -> None:
    """Show a credential; values are *** unless --reveal is given and confirmed."""
    from multiflexi.core import credentials

    credential = credentials.get(app.session, object_id)
    data = views.credential(credential)
    if reveal:
        if not yes:
            click.confirm(
                f"Show the secret values of credential {object_id} ({credential.name})? "
                "This is recorded in the audit log",
                abort=True,
                err=True,
            )
        data["values"] = credentials.reveal(app.session, object_id, actor=app.actor)
    elif yes:
        raise click.UsageError("--yes only goes with --reveal")
    app.emit(data)


@group.command("create")
@company_option()
@click.option("--credential-type-id", type=ID, required=True, help="The company's type.")
@click.option("--name", required=True, help="Credential name.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    callback=parse_pairs,
    metavar="KEY=VALUE",
    help="A value (repeatable). Required secret fields left out are asked for (hidden), or "
    "read from stdin, one line each in the type's field order, when it is not a terminal.",
)
@click.option("--no-prompt", is_flag=True, help="Never ask; fail when a required field is missing.")
@pass_app
def create(
    app: App,
    company: str,
    credential_type_id: int,
    name: str,
    fields: dict[str, str],
    no_prompt: bool,
) -> None:
    """Create a credential; prints {"credential_id": N}."""
    from multiflexi.core import credentials

    values: dict[str, str | None] = dict(fields)
    if not no_prompt:
        ctype = credentials.credential_type(app.session, credential_type_id)
        for spec in credentials.fields_of(ctype):
            if spec.secret and spec.required and spec.keyword not in values:
                values[spec.keyword] = read_secret(spec.keyword)
    credential = credentials.create(
        app.session,
        company=company,
        credential_type_id=credential_type_id,
        name=name,
        values=values,
        actor=app.actor,
    )
    app.emit({"credential_id": credential.id, "created": True})


@group.command("update")
@click.option("--id", "object_id", type=ID, required=True, help="Credential id.")
@click.option("--name", default=None, help="New name.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    callback=parse_pairs,
    metavar="KEY=VALUE",
    help="A new value (repeatable; an empty secret keeps the stored one).",
)
@click.option("--remove-field", multiple=True, metavar="KEY", help="Remove a value.")
@pass_app
def update(
    app: App,
    object_id: int,
    name: str | None,
    fields: dict[str, str],
    remove_field: tuple[str, ...],
) -> None:
    """Rename a credential or change its values."""
    from multiflexi.core import credentials

    values: dict[str, str | None] = dict(fields)
    values.update(dict.fromkeys(remove_field))
    if name is None and not values:
        raise click.UsageError("nothing to change: give --name, --field or --remove-field")
    credentials.update(app.session, object_id, name=name, values=values, actor=app.actor)
    app.emit({"credential_id": object_id, "updated": True})


@group.command("check")
@click.option("--id", "object_id", type=ID, required=True, help="Credential id.")
@pass_app
def check(app: App, object_id: int) -> None:
    """Check now whether the credential is usable (state, message; never a value; audited)."""
    from multiflexi.core import availability

    result = availability.check_credential(app.session, object_id, actor=app.actor)
    app.emit(views.availability(object_id, result))


@group.command("remove")
@click.option("--id", "object_id", type=ID, required=True, help="Credential id.")
@pass_app
def remove(app: App, object_id: int) -> None:
    """Delete a credential (refused while a run template uses it: unbind it first)."""
    from multiflexi.core import credentials

    credentials.delete(app.session, object_id, actor=app.actor)
    app.emit({"credential_id": object_id, "deleted": True})


group.add_command(remove, "delete")
