"""``encryption``: the key ring that protects stored secrets."""

from __future__ import annotations

import click

from multiflexi.cli.context import App, pass_app


@click.group("encryption")
def group() -> None:
    """Encryption keys: status, init (idempotent), rotate, seal."""


@group.command("status")
@pass_app
def status(app: App) -> None:
    """Whether ENCRYPTION_MASTER_KEY is set and opens the keys; keys and what they seal."""
    from multiflexi.core import encryption

    found = encryption.status(app.session)
    app.emit(
        {
            "master_key": "configured" if found.master_key_set else "missing",
            "master_key_matches": found.master_key_matches,
            "plain_secrets": found.plain_secrets,
            "total_keys": len(found.keys),
            "active_keys": sum(1 for k in found.keys if k.active),
            "keys": [
                {
                    "key_id": k.key_id,
                    "version": k.version,
                    "active": k.active,
                    "created_at": k.created_at,
                    "retired_at": k.retired_at,
                    "sealed_values": k.sealed_values,
                }
                for k in found.keys
            ],
        }
    )


@group.command("init")
@pass_app
def init(app: App) -> None:
    """Create the first data key if there is none (running it again changes nothing)."""
    from multiflexi.core import encryption

    before = encryption.status(app.session)
    key_id = encryption.init(app.session, actor=app.actor)
    app.emit({"key_id": key_id, "initialized": not before.keys})


@group.command("rotate")
@click.option("--yes", is_flag=True, help="Do not ask.")
@pass_app
def rotate(app: App, yes: bool) -> None:
    """Make a new active key and re-encrypt every stored secret under it."""
    from multiflexi.core import encryption

    if not yes:
        click.confirm("Re-encrypt every stored secret under a new key?", abort=True, err=True)
    key_id = encryption.rotate(app.session, actor=app.actor)
    app.emit({"key_id": key_id, "rotated": True})


@group.command("seal")
@pass_app
def seal(app: App) -> None:
    """Encrypt the values an older version stored in clear that are secret now (by name)."""
    from multiflexi.core import encryption

    app.emit({"sealed": encryption.seal_plain_secrets(app.session, actor=app.actor)})
