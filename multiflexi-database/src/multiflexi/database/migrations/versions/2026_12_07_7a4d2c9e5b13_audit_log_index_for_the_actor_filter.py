"""audit log index for the "who" filter

The web UI's audit page (and the API's ``GET /audit?actor=``) filters the log by its
actor, newest first. An index on ``(actor, id)`` reads a page of one actor's entries in
order instead of scanning the whole log.

Revision ID: 7a4d2c9e5b13
Revises: 9c4e2a7d1b35
Created: 2026-12-07 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "7a4d2c9e5b13"
down_revision: str | Sequence[str] | None = "9c4e2a7d1b35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_audit_log_actor_audit_log_id"


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f(NAME), ["actor", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(NAME))
