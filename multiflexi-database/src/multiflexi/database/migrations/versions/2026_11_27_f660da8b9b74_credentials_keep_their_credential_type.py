"""credentials keep their credential type

``credentials.credential_type_id`` was ON DELETE CASCADE: deleting a credential type
silently deleted every credential of that type (and unbound them from their run
templates). It is ON DELETE RESTRICT now: the database refuses to delete a credential
type that a credential still uses, whatever path the deletion takes. Deleting a
company still takes its credential types and credentials with it.

No data changes; SQLite rebuilds the table (batch mode), the other backends replace
the constraint.

Revision ID: f660da8b9b74
Revises: b3c1f0e2a9d4
Created: 2026-11-27 00:49:01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "f660da8b9b74"
down_revision: str | Sequence[str] | None = "b3c1f0e2a9d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _credential_type_key(ondelete: str) -> None:
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_credentials_credential_type_id"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_credentials_credential_type_id"),
            "credential_types",
            ["credential_type_id"],
            ["id"],
            ondelete=ondelete,
        )


def upgrade() -> None:
    _credential_type_key("RESTRICT")


def downgrade() -> None:
    _credential_type_key("CASCADE")
