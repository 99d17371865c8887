"""``token``: API tokens; the token itself is shown once, when it is created."""

from __future__ import annotations

import datetime as dt

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import ID, pagination


@click.group("token")
def group() -> None:
    """API tokens: list, get, create (shows the token once), revoke."""


@group.command("list")
@click.option("--user-id", "--user", "user_id", type=ID, default=None, help="Only this user's.")
@click.option("--active", is_flag=True, help="Leave out revoked and expired tokens.")
@pagination()
@pass_app
def list_(app: App, user_id: int | None, active: bool, limit: int, offset: int) -> None:
    """List tokens (their prefixes, never the tokens)."""
    from multiflexi.core import tokens

    page = tokens.list(app.session, user_id=user_id, active_only=active, limit=limit, offset=offset)
    app.emit(
        [views.token(t) for t in page.items],
        columns=["id", "user_id", "name", "prefix", "expires_at", "revoked_at"],
    )


@group.command("get")
@click.option("--id", "object_id", type=ID, required=True, help="Token id.")
@pass_app
def get(app: App, object_id: int) -> None:
    """Show a token's record (prefix, dates; never the token)."""
    from multiflexi.core import tokens

    app.emit(views.token(tokens.get(app.session, object_id)))


@group.command("create")
@click.option("--user-id", "--user", "user_id", type=ID, required=True, help="Owner's id.")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(min=1),
    default=None,
    help="Lifetime (default: until revoked).",
)
@pass_app
def create(app: App, user_id: int, name: str, expires_in_days: int | None) -> None:
    """Create a token; prints {"token_id": N, "token": ...}: store it now, it is not shown again."""
    from multiflexi.core import tokens

    lifetime = None if expires_in_days is None else dt.timedelta(days=expires_in_days)
    token, plaintext = tokens.create(
        app.session, user_id, name, actor=app.actor, expires_in=lifetime
    )
    app.message("Store this token now: it is shown only this once.")
    app.emit(
        {
            "token_id": token.id,
            "token": plaintext,
            "user_id": token.user_id,
            "expires_at": token.expires_at,
        }
    )


group.add_command(create, "generate")


@group.command("revoke")
@click.option("--id", "object_id", type=ID, required=True, help="Token id.")
@pass_app
def revoke(app: App, object_id: int) -> None:
    """Stop a token from working."""
    from multiflexi.core import tokens

    token = tokens.revoke(app.session, object_id, actor=app.actor)
    app.emit({"token_id": token.id, "revoked": True, "revoked_at": token.revoked_at})


group.add_command(revoke, "delete")
