"""``company-app``: which applications a company uses."""

from __future__ import annotations

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import app_options, company_option, pagination, resolve_app_id


@click.group("company-app")
def group() -> None:
    """Assign applications to companies (assigning creates a default run template)."""


#: the table columns of the list across companies
ASSIGNMENT_COLUMNS = ["company_id", "company_slug", "company_name", "app_id", "app_name"]


@group.command("list")
@company_option(
    required=False,
    help_text="Company id or slug: list its applications. Without it: the assignments of "
    "every company.",
)
@app_options
@pagination(default_limit=1000)
@pass_app
def list_(
    app: App,
    company: str | None,
    app_id: int | None,
    app_uuid: str | None,
    limit: int,
    offset: int,
) -> None:
    """The applications assigned to a company, or the assignments of every company."""
    from multiflexi.core import companies

    application_id = None
    if app_id is not None or app_uuid:
        application_id = resolve_app_id(app.session, app_id, app_uuid)
    page = companies.list_assignments(
        app.session, company=company, app_id=application_id, limit=limit, offset=offset
    )
    if company is not None:
        found = [views.application(a.application) for a in page.items]
        app.emit(found, columns=["id", "name", "version", "uuid"])
    else:
        app.emit([views.assignment(a) for a in page.items], columns=ASSIGNMENT_COLUMNS)


@group.command("assign")
@company_option()
@app_options
@pass_app
def assign(app: App, company: str, app_id: int | None, app_uuid: str | None) -> None:
    """Assign an application; prints {"runtemplate_id": N} of its default run template."""
    from multiflexi.core import companies

    application_id = resolve_app_id(app.session, app_id, app_uuid)
    run_template, created = companies.assign_application(
        app.session, company, application_id, actor=app.actor
    )
    app.emit(
        {
            "runtemplate_id": run_template.id,
            "company_id": run_template.company_id,
            "app_id": application_id,
            "created": created,
        }
    )


@group.command("unassign")
@company_option()
@app_options
@pass_app
def unassign(app: App, company: str, app_id: int | None, app_uuid: str | None) -> None:
    """Unassign an application; the company's run templates of it are deleted."""
    from multiflexi.core import companies

    application_id = resolve_app_id(app.session, app_id, app_uuid)
    removed = companies.unassign_application(app.session, company, application_id, actor=app.actor)
    app.emit({"app_id": application_id, "unassigned": True, "run_templates_removed": removed})
