"""``audit``: who changed what, and who revealed which secret."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import check_time, company_option, pagination, parse_time


@click.group("audit")
def group() -> None:
    """The audit log."""


@group.command("list")
@click.option("--entity-type", default=None, help="e.g. company, run_template, credential, job.")
@click.option("--entity-id", default=None, help="Id of the object.")
@company_option(required=False, help_text="Only entries of this company (id or slug).")
@click.option("--actor", default=None, help="e.g. cli:root or a user's login.")
@click.option(
    "--since",
    default=None,
    callback=check_time,
    help="Only entries at or after this ISO time, like 2025-06-01T08:00 (MULTIFLEXI_TIMEZONE "
    "when it has no zone).",
)
@pagination()
@pass_app
def list_(
    app: App,
    entity_type: str | None,
    entity_id: str | None,
    company: str | None,
    actor: str | None,
    since: str | None,
    limit: int,
    offset: int,
) -> None:
    """Audit entries, newest first."""
    from multiflexi.core import audit, companies, ids

    # an id is taken as it is: the log keeps the entries of a company deleted since
    company_id = None
    if company and ids.looks_like_id(company):  # the option's type checked its range
        company_id = int(company)
    elif company:
        company_id = companies.get(app.session, company).id
    page = audit.entries(
        app.session,
        entity_type=entity_type,
        entity_id=entity_id,
        company_id=company_id,
        actor=actor,
        since=parse_time(since, app.settings.timezone) if since else None,
        limit=limit,
        offset=offset,
    )
    app.emit(
        [views.audit_entry(e) for e in page.items],
        columns=["id", "at", "actor", "action", "entity_type", "entity_id", "company_id"],
    )
