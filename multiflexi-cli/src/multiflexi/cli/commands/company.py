"""``company``: the tenants."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import BOOL, ID_OR_KEY, boolean_choice, pagination

COLUMNS = ["id", "slug", "name", "ic", "email", "enabled"]


@click.group("company")
def group() -> None:
    """Companies (tenants): list, get, create, update, remove."""


@group.command("list")
@pagination()
@pass_app
def list_(app: App, limit: int, offset: int) -> None:
    """List companies by id."""
    from multiflexi.core import companies

    page = companies.list_companies(app.session, limit=limit, offset=offset)
    app.emit([views.company(c) for c in page.items], columns=COLUMNS)


@group.command("get")
@click.option("--id", "ref", type=ID_OR_KEY, default=None, help="Company id.")
@click.option("--slug", default=None, help="Company slug.")
@click.option(
    "--ic",
    default=None,
    help="Company registration number (IC); an error listing the ids when several share it.",
)
@click.option(
    "--name",
    default=None,
    help="Exact company name (letter case counts); an error listing the ids when several share it.",
)
@pass_app
def get(app: App, ref: str | None, slug: str | None, ic: str | None, name: str | None) -> None:
    """Show one company (by one of --id, --slug, --ic or --name)."""
    from multiflexi.core import companies

    if sum(bool(v) for v in (ref, slug, ic, name)) != 1:
        raise click.UsageError("give one of --id, --slug, --ic or --name")
    if ic:
        found = companies.get_by_ic(app.session, ic)
    elif name:
        found = companies.get_by_name(app.session, name)
    else:
        found = companies.get(app.session, str(ref or slug))
    app.emit(views.company(found))


@group.command("create")
@click.option("--name", required=True, help="Company name.")
@click.option("--slug", default=None, help="Short code (default: made from the name).")
@click.option("--ic", default=None, help="Company registration number.")
@click.option("--email", default=None, help="Contact e-mail.")
@click.option(
    "--enabled",
    type=BOOL,
    default="true",
    show_default=True,
    help="Enable the company (or create it disabled).",
)
@pass_app
def create(
    app: App, name: str, slug: str | None, ic: str | None, email: str | None, enabled: str
) -> None:
    """Create a company; prints {"company_id": N}."""
    from multiflexi.core import companies

    company = companies.create(
        app.session,
        name=name,
        slug=slug,
        ic=ic,
        email=email,
        enabled=bool(boolean_choice(enabled)),
        actor=app.actor,
    )
    app.emit({"company_id": company.id, "slug": company.slug, "created": True})


@group.command("update")
@click.option("--id", "company", type=ID_OR_KEY, required=True, help="Company id or slug.")
@click.option("--name", default=None, help="New name.")
@click.option("--slug", default=None, help="New short code.")
@click.option("--ic", default=None, help="New company registration number.")
@click.option("--email", default=None, help="New contact e-mail.")
@click.option("--enabled", type=BOOL, default=None, help="Enable or disable the company.")
@pass_app
def update(
    app: App,
    company: str,
    name: str | None,
    slug: str | None,
    ic: str | None,
    email: str | None,
    enabled: str | None,
) -> None:
    """Change a company's properties."""
    from multiflexi.core import companies

    changes: dict[str, object] = {
        k: v for k, v in {"name": name, "slug": slug, "ic": ic, "email": email}.items() if v
    }
    if enabled is not None:
        changes["enabled"] = boolean_choice(enabled)
    updated = companies.update(app.session, company, changes, actor=app.actor)
    app.emit({"company_id": updated.id, "updated": True})


@group.command("remove")
@click.option("--id", "company", type=ID_OR_KEY, required=True, help="Company id or slug.")
@pass_app
def remove(app: App, company: str) -> None:
    """Delete a company with everything it owns (run templates, jobs, credentials)."""
    from multiflexi.core import companies

    found = companies.get(app.session, company)
    company_id = found.id
    companies.delete(app.session, company_id, actor=app.actor)
    app.emit({"company_id": company_id, "deleted": True})


group.add_command(remove, "delete")
