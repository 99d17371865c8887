"""``company-env``: environment variables every job of a company gets."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import company_option, read_secret


@click.group("company-env")
def group() -> None:
    """A company's environment variables (secret ones are stored encrypted, shown as ***)."""


@group.command("list")
@company_option()
@pass_app
def list_(app: App, company: str) -> None:
    """The company's variables; secret values redacted."""
    from multiflexi.core import companies

    variables = companies.variables(app.session, company)
    app.emit([views.company_variable(v) for v in sorted(variables, key=lambda v: v.name)])


@group.command("set")
@company_option()
@click.option("--name", required=True, help="Variable name.")
@click.option(
    "--value",
    default=None,
    help="Its value. Omit it to be asked (hidden with --secret), or to read one line from "
    "stdin when it is not a terminal: keeps a secret out of the shell history and ps.",
)
@click.option("--secret", is_flag=True, help="Store encrypted; never shown again.")
@pass_app
def set_(app: App, company: str, name: str, value: str | None, secret: bool) -> None:
    """Create or replace a variable."""
    from multiflexi.core import companies

    if value is None:
        value = read_secret(f"Value of {name}", hide=secret)
    variable = companies.set_variable(
        app.session, company, name, value, actor=app.actor, secret=secret
    )
    app.emit({"name": variable.name, "secret": variable.secret, "set": True})


@group.command("unset")
@company_option()
@click.option("--name", required=True, help="Variable name.")
@pass_app
def unset(app: App, company: str, name: str) -> None:
    """Remove a variable."""
    from multiflexi.core import companies

    companies.unset_variable(app.session, company, name, actor=app.actor)
    app.emit({"name": name, "deleted": True})


group.add_command(unset, "remove")
