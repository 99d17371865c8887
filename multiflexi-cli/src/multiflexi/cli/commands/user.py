"""``user``: accounts of the web UI and the API (password hashes are never shown)."""

from __future__ import annotations

import sys

import click

from multiflexi.cli import views
from multiflexi.cli.context import App, pass_app
from multiflexi.cli.params import BOOL, ID, boolean_choice, pagination, read_secret

COLUMNS = ["id", "login", "email", "enabled", "is_admin", "last_login_at"]


#: how password hashes start (bcrypt of the original, argon2): not a password
HASH_PREFIXES = ("$2a$", "$2b$", "$2y$", "$argon2")


def _password(password_stdin: bool, ask: bool, given: str | None = None) -> str | None:
    if sum((password_stdin, ask, given is not None)) > 1:
        raise click.UsageError(
            "give one of --password-stdin, --ask-password or --plaintext/--password"
        )
    if given is not None:
        if given.startswith(HASH_PREFIXES):
            raise click.UsageError(
                "--password takes the password itself, not a hash (MultiFlexi hashes it); "
                "give it with --ask-password or --password-stdin"
            )
        click.echo(
            "warning: a password on the command line is visible to other users (ps) and in "
            "the shell history; prefer --ask-password or --password-stdin",
            err=True,
        )
        return given
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if ask:
        return read_secret("Password", confirm=True)
    return None


def password_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--plaintext",
        "--password",
        "password",
        default=None,
        metavar="PASSWORD",
        help="The password itself (the original's spelling). Other users see it in ps: "
        "prefer --ask-password or --password-stdin.",
    )(func)
    func = click.option(
        "--ask-password",
        is_flag=True,
        help="Ask for the password (hidden, twice); a piped stdin gives it in one line.",
    )(func)
    func = click.option(
        "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
    )(func)
    return func


def _user(app: App, object_id: int | None, login: str | None) -> int:
    from multiflexi.core import users

    if object_id is not None:
        return object_id
    if login:
        return users.get_by_login(app.session, login).id
    raise click.UsageError("give --id or --login")


@click.group("user")
def group() -> None:
    """Users: list, get, create, update, delete."""


@group.command("list")
@pagination()
@pass_app
def list_(app: App, limit: int, offset: int) -> None:
    """List users by id."""
    from multiflexi.core import users

    page = users.list(app.session, limit=limit, offset=offset)
    app.emit([views.user(u) for u in page.items], columns=COLUMNS)


@group.command("get")
@click.option("--id", "object_id", type=ID, default=None, help="User id.")
@click.option("--login", default=None, help="User login.")
@click.option(
    "--email",
    default=None,
    help="E-mail address (letter case ignored); an error listing the ids when several "
    "accounts share it.",
)
@pass_app
def get(app: App, object_id: int | None, login: str | None, email: str | None) -> None:
    """Show a user (by one of --id, --login or --email)."""
    from multiflexi.core import users

    if sum((object_id is not None, bool(login), bool(email))) != 1:
        raise click.UsageError("give one of --id, --login or --email")
    if email:
        found = users.get_by_email(app.session, email)
    else:
        found = users.get(app.session, _user(app, object_id, login))
    app.emit(views.user(found))


@group.command("create")
@click.option("--login", required=True, help="Login name (letters, digits, . _ @ -).")
@click.option("--email", default="", help="E-mail address.")
@click.option("--firstname", "--first-name", "first_name", default="", help="First name.")
@click.option("--lastname", "--last-name", "last_name", default="", help="Last name.")
@click.option(
    "--enabled",
    type=BOOL,
    default="true",
    show_default=True,
    help="Enable the account (or create it disabled).",
)
@click.option("--admin", is_flag=True, help="A global administrator.")
@password_options
@pass_app
def create(
    app: App,
    login: str,
    email: str,
    first_name: str,
    last_name: str,
    enabled: str,
    admin: bool,
    password_stdin: bool,
    ask_password: bool,
    password: str | None,
) -> None:
    """Create a user; prints {"user_id": N}. Without a password it can only use tokens."""
    from multiflexi.core import users

    user = users.create(
        app.session,
        login,
        actor=app.actor,
        password=_password(password_stdin, ask_password, password),
        email=email,
        first_name=first_name,
        last_name=last_name,
        enabled=bool(boolean_choice(enabled)),
        is_admin=admin,
    )
    app.emit({"user_id": user.id, "created": True})


@group.command("update")
@click.option("--id", "object_id", type=ID, default=None, help="User id.")
@click.option("--login", default=None, help="User login (to find the user).")
@click.option("--email", default=None, help="New e-mail address (empty: none).")
@click.option("--firstname", "--first-name", "first_name", default=None, help="New first name.")
@click.option("--lastname", "--last-name", "last_name", default=None, help="New last name.")
@click.option("--enabled", type=BOOL, default=None, help="Enable or disable the user.")
@click.option("--admin", type=BOOL, default=None, help="Make or unmake a global administrator.")
@click.option(
    "--unlock", is_flag=True, help="Lift the sign-in throttles of its login (all addresses)."
)
@password_options
@pass_app
def update(
    app: App,
    object_id: int | None,
    login: str | None,
    email: str | None,
    first_name: str | None,
    last_name: str | None,
    enabled: str | None,
    admin: str | None,
    unlock: bool,
    password_stdin: bool,
    ask_password: bool,
    password: str | None,
) -> None:
    """Change a user's properties or password."""
    from multiflexi.core import users

    user_id = _user(app, object_id, login)
    new_password = _password(password_stdin, ask_password, password)
    users.update(
        app.session,
        user_id,
        actor=app.actor,
        email=email,
        first_name=first_name,
        last_name=last_name,
        enabled=boolean_choice(enabled),
        is_admin=boolean_choice(admin),
    )
    if new_password is not None:
        users.set_password(app.session, user_id, new_password, actor=app.actor)
    if unlock:
        users.unlock(app.session, user_id, actor=app.actor)
    app.emit({"user_id": user_id, "updated": True})


@group.command("delete")
@click.option("--id", "object_id", type=ID, default=None, help="User id.")
@click.option("--login", default=None, help="User login.")
@pass_app
def delete(app: App, object_id: int | None, login: str | None) -> None:
    """Delete a user with its tokens and company roles."""
    from multiflexi.core import users

    user_id = _user(app, object_id, login)
    users.delete(app.session, user_id, actor=app.actor)
    app.emit({"user_id": user_id, "deleted": True})
